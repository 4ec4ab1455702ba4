//! DataLoaders: a page of items costs a fixed number of queries, never N+1.
//! They are built per request for the caller's account, so batching never crosses tenants,
//! and cache per request: a list resolver that already knows its rows primes them
//! ([`LoaderSet::prime_items`]), so nested fields resolve without waiting for a batch.

use crate::error::AppError;
use crate::store::items::ItemSummary;
use crate::store::{self, Db};
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::{category, item, item_link, vendor_price};
use std::collections::HashMap;
use std::sync::Arc;

pub struct AccountLoader {
    db: Db,
    account_id: i64,
}

pub type Loaders = Arc<LoaderSet>;

pub struct LoaderSet {
    pub links: DataLoader<AccountLoader, HashMapCache>,
}

/// Which relations of a page of items the query selects.
#[derive(Debug, Clone, Copy, Default)]
pub struct ItemRelations {
    /// Lists read items without their `attributes` document (see `ItemSummary`).
    pub attributes: bool,
    pub links: bool,
    pub category: bool,
    pub vendor_prices: bool,
}

impl LoaderSet {
    pub fn new(db: Db, account_id: i64) -> Loaders {
        Arc::new(LoaderSet {
            links: DataLoader::with_cache(
                AccountLoader { db, account_id },
                tokio::spawn,
                HashMapCache::default(),
            ),
        })
    }

    /// Loads the selected relations of a page of items in one query each and caches them,
    /// so each item's nested fields are answered from memory.
    pub async fn prime_items<'a>(
        &self,
        items: impl Iterator<Item = &'a ItemSummary> + Clone,
        wants: ItemRelations,
    ) -> Result<(), Arc<AppError>> {
        let ids: Vec<i64> = items.clone().map(|i| i.id).collect();
        if wants.attributes {
            let found = self.links.loader().load(&keys(&ids, ItemId)).await?;
            self.links.feed_many(found).await;
        }
        if wants.links {
            let mut found = self.links.loader().load(&keys(&ids, LinksOfItem)).await?;
            let all = ids.iter().map(|id| {
                let rows = found.remove(&LinksOfItem(*id)).unwrap_or_default();
                (LinksOfItem(*id), rows)
            });
            self.links.feed_many(all.collect::<Vec<_>>()).await;
        }
        if wants.vendor_prices {
            let mut found = self
                .links
                .loader()
                .load(&keys(&ids, VendorPricesOfItem))
                .await?;
            let all = ids.iter().map(|id| {
                let rows = found.remove(&VendorPricesOfItem(*id)).unwrap_or_default();
                (VendorPricesOfItem(*id), rows)
            });
            self.links.feed_many(all.collect::<Vec<_>>()).await;
        }
        if wants.category {
            let mut categories: Vec<i64> = items.filter_map(|i| i.category_id).collect();
            categories.sort_unstable();
            categories.dedup();
            let found = self
                .links
                .loader()
                .load(&keys(&categories, CategoryId))
                .await?;
            self.links.feed_many(found).await;
        }
        Ok(())
    }
}

/// One value through the request's loaders (batched and cached per request), its error
/// mapped for GraphQL.
pub async fn load<K>(
    ctx: &async_graphql::Context<'_>,
    key: K,
) -> async_graphql::Result<Option<<AccountLoader as Loader<K>>::Value>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    AccountLoader: Loader<K, Error = Arc<AppError>>,
{
    ctx.data_unchecked::<Loaders>()
        .links
        .load_one(key)
        .await
        .map_err(crate::graphql::types::item::shared_err)
}

fn keys<K>(ids: &[i64], key: impl Fn(i64) -> K) -> Vec<K> {
    ids.iter().map(|id| key(*id)).collect()
}

/// Key types distinguish what is loaded through the same loader.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct LinksOfItem(pub i64);
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct CategoryId(pub i64);
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct VendorPricesOfItem(pub i64);
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct ChildrenOf(pub i64);
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct ItemId(pub i64);
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
pub struct LinkId(pub i64);

fn group<K: std::hash::Hash + Eq, T>(rows: Vec<T>, key: impl Fn(&T) -> K) -> HashMap<K, Vec<T>> {
    let mut map: HashMap<K, Vec<T>> = HashMap::new();
    for r in rows {
        map.entry(key(&r)).or_default().push(r);
    }
    map
}

impl Loader<LinksOfItem> for AccountLoader {
    type Value = Vec<store::links::LinkSummary>;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[LinksOfItem],
    ) -> Result<HashMap<LinksOfItem, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = store::links::summaries_for_items(&self.db, self.account_id, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(group(rows, |r| LinksOfItem(r.item_id)))
    }
}

impl Loader<CategoryId> for AccountLoader {
    type Value = category::Model;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[CategoryId],
    ) -> Result<HashMap<CategoryId, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = store::categories::by_ids(&self.db, self.account_id, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|c| (CategoryId(c.id), c)).collect())
    }
}

impl Loader<VendorPricesOfItem> for AccountLoader {
    type Value = Vec<vendor_price::Model>;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[VendorPricesOfItem],
    ) -> Result<HashMap<VendorPricesOfItem, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = store::vendor_prices::for_items(&self.db, self.account_id, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(group(rows, |r| VendorPricesOfItem(r.item_id)))
    }
}

impl Loader<ChildrenOf> for AccountLoader {
    type Value = Vec<category::Model>;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[ChildrenOf],
    ) -> Result<HashMap<ChildrenOf, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = store::categories::children_of(&self.db, self.account_id, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(group(rows, |r| ChildrenOf(r.parent_id.unwrap_or_default())))
    }
}

impl Loader<ItemId> for AccountLoader {
    type Value = item::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[ItemId]) -> Result<HashMap<ItemId, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = store::items::by_ids(&self.db, self.account_id, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|i| (ItemId(i.id), i)).collect())
    }
}

impl Loader<LinkId> for AccountLoader {
    type Value = item_link::Model;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[LinkId]) -> Result<HashMap<LinkId, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = store::links::by_ids(&self.db, self.account_id, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|l| (LinkId(l.id), l)).collect())
    }
}
