use crate::Money;
use sea_orm::entity::prelude::*;

/// One line of Amazon's FBA reimbursements report (`GET_FBA_REIMBURSEMENTS_DATA`): money or
/// units Amazon paid back, or took back (a reversal has negative quantities and amounts).
/// `row_key` identifies the line so re-reading a report window upserts in place.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "amazon_reimbursements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub connection_id: i64,
    pub row_key: String,
    pub reimbursement_id: String,
    pub case_id: Option<String>,
    pub order_id: Option<String>,
    pub approved_at: DateTimeUtc,
    /// The UTC day of `approved_at`.
    pub period: Date,
    /// Amazon's reason, e.g. `Lost_Warehouse`, `Reimbursement_Reversal`.
    pub reason: String,
    pub sku: Option<String>,
    pub fnsku: Option<String>,
    pub asin: Option<String>,
    pub product_name: Option<String>,
    pub condition: Option<String>,
    pub currency: String,
    pub amount_per_unit: Money,
    pub amount_total: Money,
    /// `amount_total` in ten-thousandths, so SUM() stays exact on SQLite too.
    pub amount_units: i64,
    pub quantity_cash: i32,
    pub quantity_inventory: i32,
    pub quantity_total: i32,
    pub original_reimbursement_id: Option<String>,
    pub original_reimbursement_type: Option<String>,
    pub run_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
