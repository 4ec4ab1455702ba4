use crate::Money;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Which rule found a claim.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum ClaimKind {
    #[sea_orm(string_value = "lost_in_warehouse")]
    #[serde(rename = "lost_in_warehouse")]
    LostInWarehouse,
    #[sea_orm(string_value = "damaged_in_warehouse")]
    #[serde(rename = "damaged_in_warehouse")]
    DamagedInWarehouse,
    #[sea_orm(string_value = "refund_not_returned")]
    #[serde(rename = "refund_not_returned")]
    RefundNotReturned,
    #[sea_orm(string_value = "reimbursement_reversed")]
    #[serde(rename = "reimbursement_reversed")]
    ReimbursementReversed,
    #[sea_orm(string_value = "inbound_shortage")]
    #[serde(rename = "inbound_shortage")]
    InboundShortage,
}

impl ClaimKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LostInWarehouse => "lost_in_warehouse",
            Self::DamagedInWarehouse => "damaged_in_warehouse",
            Self::RefundNotReturned => "refund_not_returned",
            Self::ReimbursementReversed => "reimbursement_reversed",
            Self::InboundShortage => "inbound_shortage",
        }
    }
}

/// Where a claim stands: found by a rule, filed with Amazon as a case, paid back (a
/// reimbursement closes it automatically), too late to file, or set aside by the seller.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum ClaimStatus {
    #[sea_orm(string_value = "detected")]
    #[serde(rename = "detected")]
    Detected,
    #[sea_orm(string_value = "filed")]
    #[serde(rename = "filed")]
    Filed,
    #[sea_orm(string_value = "reimbursed")]
    #[serde(rename = "reimbursed")]
    Reimbursed,
    #[sea_orm(string_value = "expired")]
    #[serde(rename = "expired")]
    Expired,
    #[sea_orm(string_value = "dismissed")]
    #[serde(rename = "dismissed")]
    Dismissed,
}

impl ClaimStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Detected => "detected",
            Self::Filed => "filed",
            Self::Reimbursed => "reimbursed",
            Self::Expired => "expired",
            Self::Dismissed => "dismissed",
        }
    }
}

/// Money Amazon likely owes the seller, found by a claim rule over the reimbursement,
/// ledger, inbound and refund rows. `claim_key` identifies the case (kind + the evidence
/// that opened it), so detecting again updates in place.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "amazon_claims")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub connection_id: i64,
    pub claim_key: String,
    pub kind: ClaimKind,
    pub status: ClaimStatus,
    pub sku: Option<String>,
    pub fnsku: Option<String>,
    pub asin: Option<String>,
    /// The order, shipment or reimbursement the claim is about.
    pub reference: Option<String>,
    /// Units the claim is for.
    pub quantity: i32,
    /// Units Amazon has paid back or returned since (a claim closes when it reaches `quantity`).
    pub settled_quantity: i32,
    pub currency: Option<String>,
    /// Exact estimate of what the open units are worth; none without price evidence.
    pub estimated_value: Option<Money>,
    /// Ten-thousandths of `estimated_value` (0 without one), for exact sums in SQL.
    pub value_units: i64,
    /// `reimbursement`, `sale_price`, `refund` or `none`: where the estimate comes from.
    pub value_source: String,
    /// The rows that show the case: `[{source, id, date, quantity, amount, currency, reference, reason}]`.
    pub evidence: Json,
    /// When the loss happened (the opening row's date).
    pub event_date: Date,
    /// First day a claim may be filed (the end of the rule's waiting period).
    pub eligible_from: Date,
    /// Last day a claim may be filed.
    pub deadline: Date,
    pub case_id: Option<String>,
    pub note: Option<String>,
    /// Reimbursement ids that closed the claim.
    pub reimbursement_ids: Json,
    pub detected_run_id: Option<i64>,
    pub status_changed_at: DateTimeUtc,
    pub status_changed_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
