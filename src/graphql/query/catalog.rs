use crate::graphql::bounds::{self, MaxChars};
use crate::graphql::eager::Eager;
use crate::graphql::loaders::{ItemRelations, Loaders};
use crate::graphql::types::category::Category;
use crate::graphql::types::enums::{ItemKind, ItemSort, LinkStatus};
use crate::graphql::types::item::{Item, shared_err};
use crate::graphql::types::relay::{self, RelayConnection};
use crate::graphql::types::vendor_price::VendorPrice;
use crate::graphql::{caller, parse_id, state};
use crate::store::categories::CategoryFilter;
use crate::store::items::ItemFilter;
use crate::store::vendor_prices::VendorPriceFilter;
use crate::store::{self, page::PageArgs};
use async_graphql::{Context, ID, Object};

#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// The price book. Live items only unless `deleted: true`.
    #[allow(clippy::too_many_arguments)]
    async fn items(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        #[graphql(
            desc = "Matches code or name, case-insensitive (at most 200 characters)",
            validator(custom = "MaxChars(bounds::SEARCH)")
        )]
        search: Option<String>,
        kind: Option<ItemKind>,
        category_id: Option<ID>,
        active: Option<bool>,
        deleted: Option<bool>,
        sync_status: Option<LinkStatus>,
        connection_id: Option<ID>,
        #[graphql(default)] sort: ItemSort,
        #[graphql(default)] descending: bool,
    ) -> async_graphql::Result<RelayConnection<Eager<Item>>> {
        let c = caller(ctx)?;
        let db = state(ctx).db.clone();
        let filter = ItemFilter {
            search,
            kind: kind.map(Into::into),
            category_id: category_id
                .as_ref()
                .map(|id| parse_id(id, "category"))
                .transpose()?,
            active,
            deleted,
            sync_status: sync_status.map(Into::into),
            connection_id: connection_id
                .as_ref()
                .map(|id| parse_id(id, "connection"))
                .transpose()?,
            codes: None,
        };
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        let page =
            store::items::list(&db, c.account_id, &filter, sort.into(), descending, &args).await?;
        let node = ctx.look_ahead().field("edges").field("node");
        let wants = ItemRelations {
            attributes: node.field("attributes").exists(),
            links: node.field("links").exists(),
            category: node.field("category").exists(),
            vendor_prices: node.field("vendorPrices").exists(),
        };
        ctx.data_unchecked::<Loaders>()
            .prime_items(page.rows.iter().map(|(_, m)| m), wants)
            .await
            .map_err(shared_err)?;
        let account = c.account_id;
        Ok(relay::connection(
            page,
            |m| Eager(m.into()),
            move || {
                let (db, filter) = (db.clone(), filter.clone());
                Box::pin(async move { store::items::count(&db, account, &filter).await })
            },
        ))
    }

    async fn item(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Item> {
        let c = caller(ctx)?;
        Ok(
            store::items::get(&state(ctx).db, c.account_id, parse_id(&id, "item")?)
                .await?
                .into(),
        )
    }

    /// Categories; `roots: true` gives the top of the tree (walk it with `children`).
    #[allow(clippy::too_many_arguments)]
    async fn categories(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        #[graphql(default)] roots: bool,
        parent_id: Option<ID>,
        connection_id: Option<ID>,
    ) -> async_graphql::Result<RelayConnection<Category>> {
        let c = caller(ctx)?;
        let db = state(ctx).db.clone();
        let parent = match (roots, parent_id) {
            (_, Some(p)) => Some(Some(parse_id(&p, "category")?)),
            (true, None) => Some(None),
            (false, None) => None,
        };
        let filter = CategoryFilter {
            parent,
            connection_id: connection_id
                .as_ref()
                .map(|id| parse_id(id, "connection"))
                .transpose()?,
        };
        let page = store::categories::list(
            &db,
            c.account_id,
            &filter,
            &PageArgs {
                first,
                after,
                last,
                before,
            },
        )
        .await?;
        let account = c.account_id;
        Ok(relay::connection(page, Category::from, move || {
            let (db, filter) = (db.clone(), filter.clone());
            Box::pin(async move { store::categories::count(&db, account, &filter).await })
        }))
    }

    #[allow(clippy::too_many_arguments)]
    async fn vendor_prices(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        item_id: Option<ID>,
        vendor: Option<String>,
    ) -> async_graphql::Result<RelayConnection<VendorPrice>> {
        let c = caller(ctx)?;
        let db = state(ctx).db.clone();
        let filter = VendorPriceFilter {
            item_id: item_id
                .as_ref()
                .map(|id| parse_id(id, "item"))
                .transpose()?,
            vendor,
        };
        let page = store::vendor_prices::list(
            &db,
            c.account_id,
            &filter,
            &PageArgs {
                first,
                after,
                last,
                before,
            },
        )
        .await?;
        let account = c.account_id;
        Ok(relay::connection(page, VendorPrice::from, move || {
            let (db, filter) = (db.clone(), filter.clone());
            Box::pin(async move { store::vendor_prices::count(&db, account, &filter).await })
        }))
    }
}
