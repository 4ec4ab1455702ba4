//! DataLoaders: a page of items costs a fixed number of queries, never N+1.
//! They are built per request for the caller's account, so batching never crosses tenants,
//! and cache per request: a list resolver that already knows its rows loads their relations
//! in one query each ([`LoaderSet::prime_items`]), so nested fields resolve without waiting
//! for a batch.

use crate::error::AppError;
use crate::graphql::eager::Eager;
use crate::graphql::types::item::Item;
use crate::store::items::ItemSummary;
use crate::store::links::LinkSummary;
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

    /// Loads the selected relations of a page of items in one query each. Links and
    /// categories come back for the items to carry ([`PageRelations::item`]), so their
    /// fields need no look-up per item; attributes and vendor prices go into the cache.
    pub async fn prime_items<'a>(
        &self,
        items: impl Iterator<Item = &'a ItemSummary> + Clone,
        wants: ItemRelations,
    ) -> Result<PageRelations, Arc<AppError>> {
        let ids: Vec<i64> = items.clone().map(|i| i.id).collect();
        let loader = self.links.loader();
        if wants.attributes {
            let found = loader.load(&keys(&ids, ItemId)).await?;
            self.links.feed_many(found).await;
        }
        if wants.vendor_prices {
            let mut found = loader.load(&keys(&ids, VendorPricesOfItem)).await?;
            let all = ids.iter().map(|id| {
                let rows = found.remove(&VendorPricesOfItem(*id)).unwrap_or_default();
                (VendorPricesOfItem(*id), rows)
            });
            self.links.feed_many(all.collect::<Vec<_>>()).await;
        }
        let mut page = PageRelations::default();
        if wants.links {
            let rows = store::links::summaries_for_items(&loader.db, loader.account_id, &ids)
                .await
                .map_err(Arc::new)?;
            page.links = Some(group(rows, |r| r.item_id));
        }
        if wants.category {
            let mut categories: Vec<i64> = items.filter_map(|i| i.category_id).collect();
            categories.sort_unstable();
            categories.dedup();
            let rows = store::categories::by_ids(&loader.db, loader.account_id, &categories)
                .await
                .map_err(Arc::new)?;
            page.categories = Some(rows.into_iter().map(|c| (c.id, Eager(c.into()))).collect());
        }
        Ok(page)
    }
}

/// The links and categories of one page of items, loaded by [`LoaderSet::prime_items`]
/// (`None`: not selected).
#[derive(Default)]
pub struct PageRelations {
    links: Option<HashMap<i64, Vec<LinkSummary>>>,
    categories: Option<HashMap<i64, Eager<crate::graphql::types::category::Category>>>,
}

impl PageRelations {
    /// The API item of a page row, carrying its loaded relations.
    pub fn item(&mut self, row: ItemSummary) -> Item {
        let mut item = Item::from(row);
        if let Some(links) = &mut self.links {
            let rows = links.remove(&item.raw_id).unwrap_or_default();
            item.known_links = Some(rows.into_iter().map(|l| Eager(l.into())).collect());
        }
        if let Some(categories) = &self.categories {
            item.known_category = Some(item.raw_category.and_then(|c| categories.get(&c).cloned()));
        }
        item
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
