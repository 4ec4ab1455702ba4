use crate::Money;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What a money component is for a dashboard: revenue, a fee, money returned to a buyer,
/// a promotional discount, or an adjustment of the seller's account (reimbursements).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum FinanceKind {
    #[sea_orm(string_value = "sale")]
    #[serde(rename = "sale")]
    Sale,
    #[sea_orm(string_value = "fee")]
    #[serde(rename = "fee")]
    Fee,
    #[sea_orm(string_value = "refund")]
    #[serde(rename = "refund")]
    Refund,
    #[sea_orm(string_value = "promotion")]
    #[serde(rename = "promotion")]
    Promotion,
    /// An account adjustment (`AdjustmentEventList`): FBA inventory reimbursements and
    /// their reversals, postage, …
    #[sea_orm(string_value = "adjustment")]
    #[serde(rename = "adjustment")]
    Adjustment,
}

impl FinanceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sale => "sale",
            Self::Fee => "fee",
            Self::Refund => "refund",
            Self::Promotion => "promotion",
            Self::Adjustment => "adjustment",
        }
    }
}

/// One money component of an upstream financial event (Amazon Finances), per SKU and day.
/// `event_key` identifies the component so re-listing upserts in place.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "financial_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub connection_id: i64,
    pub event_key: String,
    pub posted_at: DateTimeUtc,
    /// The UTC day of `posted_at`: the period dashboards group by.
    pub period: Date,
    pub sku: Option<String>,
    pub order_id: Option<String>,
    pub event_type: String,
    pub kind: FinanceKind,
    pub component: String,
    pub currency: String,
    pub amount: Money,
    /// The amount in ten-thousandths, so SUM() in SQL stays exact on SQLite too.
    pub amount_units: i64,
    pub quantity: Option<i32>,
    pub run_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
