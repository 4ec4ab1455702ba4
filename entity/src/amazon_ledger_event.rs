use sea_orm::entity::prelude::*;

/// One row of Amazon's inventory ledger, detailed view (`GET_LEDGER_DETAIL_VIEW_DATA`): a
/// signed unit movement of one FNSKU in one fulfillment center. `row_key` identifies the
/// row so re-reading a report window upserts in place.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "amazon_ledger_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub connection_id: i64,
    pub row_key: String,
    pub event_date: Date,
    pub fnsku: Option<String>,
    pub asin: Option<String>,
    /// The seller's SKU (`MSKU` in the report).
    pub sku: Option<String>,
    pub title: Option<String>,
    /// `Shipments`, `Receipts`, `CustomerReturns`, `Adjustments`, `WhseTransfers`, `VendorReturns`.
    pub event_type: String,
    pub reference_id: Option<String>,
    /// Signed: negative for units leaving the seller's inventory.
    pub quantity: i32,
    pub fulfillment_center: Option<String>,
    pub disposition: Option<String>,
    /// Adjustment reason code (e.g. `M` misplaced, `F` found, `E` damaged at Amazon).
    pub reason: Option<String>,
    pub country: Option<String>,
    pub reconciled_quantity: Option<i32>,
    pub unreconciled_quantity: Option<i32>,
    pub run_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
