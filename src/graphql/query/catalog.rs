use crate::graphql::bounds::{self, MaxChars};
use crate::graphql::eager::{Eager, EagerConnection};
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
use crate::store::{
    self,
    page::{Page, PageArgs},
};
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
        #[graphql(desc = "The first N rows after `after` (0–500, default 50).")] first: Option<i32>,
        #[graphql(
            desc = "Cursor of the row to start after (`edges.cursor` or `pageInfo.endCursor`)."
        )]
        after: Option<String>,
        #[graphql(desc = "The last N rows before `before` (0–500).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the row to end before (`pageInfo.startCursor`).")]
        before: Option<String>,
        #[graphql(
            desc = "Matches code or name, case-insensitive (at most 200 characters).",
            validator(custom = "MaxChars(bounds::SEARCH)")
        )]
        search: Option<String>,
        #[graphql(desc = "Only items of this kind.")] kind: Option<ItemKind>,
        #[graphql(desc = "Only items in this category.")] category_id: Option<ID>,
        #[graphql(desc = "Only active (true) or inactive (false) items.")] active: Option<bool>,
        #[graphql(desc = "true: only soft-deleted items; false or absent: only live ones.")]
        deleted: Option<bool>,
        #[graphql(
            desc = "Only items with a link in this sync status (on any connection, or on `connectionId`)."
        )]
        sync_status: Option<LinkStatus>,
        #[graphql(desc = "Only items linked to this connection.")] connection_id: Option<ID>,
        #[graphql(default, desc = "Sort key (default CODE); ties are broken by id.")]
        sort: ItemSort,
        #[graphql(default, desc = "Sort from the highest key down.")] descending: bool,
    ) -> async_graphql::Result<EagerConnection<Item>> {
        let c = caller(ctx)?;
        let db = state(ctx).db.clone();
        let account_id = c.account_id;
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
        let args = PageArgs::new(first, after, last, before);
        let selected = ctx.look_ahead();
        let page = if ["edges", "nodes", "pageInfo"]
            .iter()
            .any(|f| selected.field(f).exists())
        {
            store::items::list(&db, c.account_id, &filter, sort.into(), descending, &args).await?
        } else {
            // `items { totalCount }` alone reads no page (its arguments are still checked).
            args.window()?;
            Page {
                rows: Vec::new(),
                has_next: false,
                has_previous: false,
            }
        };
        let node = selected.field("edges").field("node");
        let wants = ItemRelations {
            attributes: node.field("attributes").exists(),
            links: node.field("links").exists(),
            category: node.field("category").exists(),
            vendor_prices: node.field("vendorPrices").exists(),
        };
        let mut related = ctx
            .data_unchecked::<Loaders>()
            .prime_items(page.rows.iter().map(|(_, m)| m), wants)
            .await
            .map_err(shared_err)?;
        Ok(EagerConnection(relay::connection(
            page,
            |m| Eager(related.item(m)),
            move || {
                let (db, filter) = (db.clone(), filter.clone());
                Box::pin(async move { store::items::count(&db, account_id, &filter).await })
            },
        )))
    }

    /// One item of your account by id (NOT_FOUND otherwise).
    async fn item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The item id.")] id: ID,
    ) -> async_graphql::Result<Item> {
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
        #[graphql(desc = "The first N rows after `after` (0–500, default 50).")] first: Option<i32>,
        #[graphql(
            desc = "Cursor of the row to start after (`edges.cursor` or `pageInfo.endCursor`)."
        )]
        after: Option<String>,
        #[graphql(desc = "The last N rows before `before` (0–500).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the row to end before (`pageInfo.startCursor`).")]
        before: Option<String>,
        #[graphql(default, desc = "true: only categories without a parent.")] roots: bool,
        #[graphql(desc = "Only the children of this category.")] parent_id: Option<ID>,
        #[graphql(desc = "Only categories that came from this connection.")] connection_id: Option<
            ID,
        >,
    ) -> async_graphql::Result<RelayConnection<Category>> {
        let c = caller(ctx)?;
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
        let args = PageArgs::new(first, after, last, before);
        Ok(relay::list(&state(ctx).db, c.account_id, filter, &args, Category::from).await?)
    }

    /// Vendor prices imported from CSV (local only, never pushed), in import order.
    #[allow(clippy::too_many_arguments)]
    async fn vendor_prices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first N rows after `after` (0–500, default 50).")] first: Option<i32>,
        #[graphql(
            desc = "Cursor of the row to start after (`edges.cursor` or `pageInfo.endCursor`)."
        )]
        after: Option<String>,
        #[graphql(desc = "The last N rows before `before` (0–500).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the row to end before (`pageInfo.startCursor`).")]
        before: Option<String>,
        #[graphql(desc = "Only prices of this item.")] item_id: Option<ID>,
        #[graphql(desc = "Only prices from this vendor (exact name).")] vendor: Option<String>,
    ) -> async_graphql::Result<RelayConnection<VendorPrice>> {
        let c = caller(ctx)?;
        let filter = VendorPriceFilter {
            item_id: item_id
                .as_ref()
                .map(|id| parse_id(id, "item"))
                .transpose()?,
            vendor,
        };
        let args = PageArgs::new(first, after, last, before);
        Ok(relay::list(
            &state(ctx).db,
            c.account_id,
            filter,
            &args,
            VendorPrice::from,
        )
        .await?)
    }
}
