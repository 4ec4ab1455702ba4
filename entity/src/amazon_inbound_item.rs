use sea_orm::entity::prelude::*;

/// One SKU of one inbound FBA shipment as Amazon's Fulfillment Inbound API lists it: what
/// the seller shipped and what Amazon says it received. Upserted by
/// `(connection_id, shipment_id, sku)`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "amazon_inbound_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub connection_id: i64,
    pub shipment_id: String,
    pub sku: String,
    pub fnsku: Option<String>,
    pub quantity_shipped: i32,
    pub quantity_received: i32,
    /// When this item was first listed by a sync (the API gives no shipment date).
    pub first_seen_at: DateTimeUtc,
    pub run_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
