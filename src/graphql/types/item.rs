use super::category::Category;
use super::enums::{ItemKind, LinkStatus};
use super::vendor_price::VendorPrice;
use crate::error::AppError;
use crate::graphql::eager::Eager;
use crate::graphql::loaders::{CategoryId, ItemId, LinksOfItem, VendorPricesOfItem, load};
use crate::store::items::ItemSummary;
use async_graphql::{ComplexObject, Context, ID, Json, SimpleObject};
use entity::{item, item_link};
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::sync::Arc;

/// Loader errors are shared between the fields that awaited the same batch.
pub fn shared_err(err: Arc<AppError>) -> async_graphql::Error {
    let mut e = async_graphql::Error::new(err.public_message());
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", err.code());
    e.extensions = Some(ext);
    e
}

fn decimal_text(v: &Option<String>) -> Option<Decimal> {
    v.as_deref().and_then(|s| s.parse().ok())
}

/// A row of the price book: a service, material, equipment or product, with its costs and prices.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Item {
    /// The item id.
    pub id: ID,
    /// Code or SKU: what adoption, CSV imports and `codes:` match on.
    pub code: String,
    /// Display name.
    pub name: String,
    /// What the item is.
    pub kind: ItemKind,
    /// Long description, as upstream has it.
    pub description: Option<String>,
    /// Exact decimal, as a string.
    pub cost: Option<Decimal>,
    /// Selling price (exact decimal string).
    pub price: Option<Decimal>,
    /// Price for members or service-agreement customers (ServiceTitan).
    pub member_price: Option<Decimal>,
    /// Price when sold as an add-on (ServiceTitan).
    pub add_on_price: Option<Decimal>,
    /// Whether the item is sold; inactive items stay in the book.
    pub active: bool,
    /// Its category, if any.
    pub category_id: Option<ID>,
    /// Weight in kilograms.
    pub weight_kg: Option<Decimal>,
    /// Length in centimetres.
    pub length_cm: Option<Decimal>,
    /// Width in centimetres.
    pub width_cm: Option<Decimal>,
    /// Height in centimetres.
    pub height_cm: Option<Decimal>,
    /// Stock on hand where the provider reports it (Amazon FBA fulfillable quantity).
    pub quantity: Option<i64>,
    /// Known when built from a whole row; lists leave it to the `attributes` resolver.
    #[graphql(skip)]
    pub attributes: Option<serde_json::Value>,
    /// When it was last edited here (not by a sync); null if never.
    pub local_modified_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it was soft-deleted (e.g. deleted upstream); null while live.
    pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it was created here.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it last changed, by an edit or a sync.
    pub updated_at: chrono::DateTime<chrono::Utc>,
    #[graphql(skip)]
    pub raw_id: i64,
    #[graphql(skip)]
    pub raw_category: Option<i64>,
    /// Its links when a list loaded them for the whole page; otherwise `links` loads them.
    #[graphql(skip)]
    pub known_links: Option<Vec<Eager<ItemLink>>>,
    /// Its category (or none) when a list loaded them for the whole page.
    #[graphql(skip)]
    pub known_category: Option<Option<Eager<Category>>>,
}

#[ComplexObject]
impl Item {
    /// Provider-specific fields (e.g. materialsIncluded, vendors, unit of measure).
    async fn attributes(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Json<serde_json::Value>> {
        if let Some(known) = &self.attributes {
            return Ok(Json(known.clone()));
        }
        let item = load(ctx, ItemId(self.raw_id))
            .await?
            .ok_or_else(|| AppError::not_found("item", self.raw_id))?;
        Ok(Json(item.attributes))
    }

    /// One row per connection this item syncs with.
    async fn links(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Cow<'_, Vec<Eager<ItemLink>>>> {
        if let Some(known) = &self.known_links {
            return Ok(Cow::Borrowed(known));
        }
        let rows = load(ctx, LinksOfItem(self.raw_id))
            .await?
            .unwrap_or_default();
        Ok(Cow::Owned(
            rows.into_iter().map(|l| Eager(l.into())).collect(),
        ))
    }

    /// Its category, if any.
    async fn category(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Cow<'_, Eager<Category>>>> {
        if let Some(known) = &self.known_category {
            return Ok(known.as_ref().map(Cow::Borrowed));
        }
        let Some(id) = self.raw_category else {
            return Ok(None);
        };
        Ok(load(ctx, CategoryId(id))
            .await?
            .map(|c| Cow::Owned(Eager(c.into()))))
    }

    /// Push on save: the queued or running runs that will push this item's pending local
    /// edit (at most one per connection; empty when nothing is pending or the connection
    /// has `pushOnSave` off). A run already executing when the item was last edited is
    /// not listed — it may be past the item — but the follow-up run queued for it is.
    async fn pending_push_runs(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::graphql::types::run::SyncRun>> {
        let st = crate::graphql::state(ctx);
        let account_id = crate::graphql::caller(ctx)?.account_id;
        let runs = crate::sync::push_on_save::runs_pushing(&st.db, account_id, self.raw_id).await?;
        Ok(runs
            .into_iter()
            .map(crate::graphql::types::run::SyncRun)
            .collect())
    }

    /// Local vendor price list entries, newest effective date first.
    async fn vendor_prices(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<VendorPrice>> {
        let rows = load(ctx, VendorPricesOfItem(self.raw_id))
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

impl From<item::Model> for Item {
    fn from(mut m: item::Model) -> Self {
        let attributes = Some(std::mem::take(&mut m.attributes));
        Item {
            attributes,
            ..ItemSummary::from(m).into()
        }
    }
}

impl From<ItemSummary> for Item {
    fn from(m: ItemSummary) -> Self {
        Item {
            id: m.id.into(),
            code: m.code,
            name: m.name,
            kind: m.kind.into(),
            description: m.description,
            cost: m.cost.map(|v| v.display_amount()),
            price: m.price.map(|v| v.display_amount()),
            member_price: m.member_price.map(|v| v.display_amount()),
            add_on_price: m.add_on_price.map(|v| v.display_amount()),
            active: m.active,
            category_id: m.category_id.map(Into::into),
            weight_kg: decimal_text(&m.weight_kg),
            length_cm: decimal_text(&m.length_cm),
            width_cm: decimal_text(&m.width_cm),
            height_cm: decimal_text(&m.height_cm),
            quantity: m.quantity,
            attributes: None,
            local_modified_at: m.local_modified_at,
            deleted_at: m.deleted_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
            raw_id: m.id,
            raw_category: m.category_id,
            known_links: None,
            known_category: None,
        }
    }
}

/// An item's link to one connection: its id upstream and where the sync stands.
#[derive(SimpleObject, Clone)]
pub struct ItemLink {
    /// The link id.
    pub id: ID,
    /// The connection.
    pub connection_id: ID,
    /// The upstream record type, e.g. `materials`, `services`, `products`.
    pub entity_type: String,
    /// The record id upstream.
    pub remote_id: String,
    /// Where the sync of this item with this connection stands.
    pub sync_status: LinkStatus,
    /// When it was last synced successfully.
    pub last_synced_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The modification time upstream reported at the last sync.
    pub remote_modified_on: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether the record was deleted upstream.
    pub deleted_remotely: bool,
    /// Excluded from sync in both directions until un-paused.
    pub paused: bool,
    /// Why the last sync of this record failed; null when it did not.
    pub last_error: Option<String>,
    /// Failed sync attempts since the last success.
    pub attempts: i32,
}

impl From<item_link::Model> for ItemLink {
    fn from(l: item_link::Model) -> Self {
        crate::store::links::LinkSummary::from(l).into()
    }
}

impl From<crate::store::links::LinkSummary> for ItemLink {
    fn from(l: crate::store::links::LinkSummary) -> Self {
        ItemLink {
            id: l.id.into(),
            connection_id: l.connection_id.into(),
            entity_type: l.entity_type,
            remote_id: l.remote_id,
            sync_status: l.sync_status.into(),
            last_synced_at: l.last_synced_at,
            remote_modified_on: l.remote_modified_on,
            deleted_remotely: l.deleted_remotely,
            paused: l.paused,
            last_error: l.last_error,
            attempts: l.attempts,
        }
    }
}
