//! Amazon FBA recoveries: reimbursements, detected claims and the recoveries overview.

use super::run::SyncRun;
use async_graphql::{Enum, ID, SimpleObject};
use entity::amazon_claim::{self as claim, ClaimKind as StoredKind, ClaimStatus as StoredStatus};
use entity::amazon_reimbursement as reimb;
use rust_decimal::Decimal;

/// Which rule found a claim.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "StoredKind")]
pub enum ClaimKind {
    /// Units Amazon lost in a fulfillment center (ledger adjustments `M`, `5`), neither
    /// found nor reimbursed within the waiting period.
    LostInWarehouse,
    /// Units Amazon damaged (ledger adjustments `E`, `6`, `7`), not reimbursed.
    DamagedInWarehouse,
    /// A customer was refunded but the unit never came back, nor was it reimbursed.
    RefundNotReturned,
    /// A reimbursement Amazon took back although the unit neither came back nor was paid again.
    ReimbursementReversed,
    /// An inbound shipment received fewer units than were shipped, not reimbursed.
    InboundShortage,
}

/// Where a claim stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "StoredStatus")]
pub enum ClaimStatus {
    /// Found by a rule; claimable until the deadline.
    Detected,
    /// The seller opened a case with Amazon (see `caseId`).
    Filed,
    /// Amazon paid back (cash or inventory): closed automatically by a reimbursement.
    Reimbursed,
    /// The filing deadline passed while the claim was still `DETECTED`.
    Expired,
    /// Set aside by the seller, or closed because the units were found or returned.
    Dismissed,
}

/// Which table an evidence row comes from.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum EvidenceSource {
    /// An inventory-ledger row (`GET_LEDGER_DETAIL_VIEW_DATA`).
    Ledger,
    /// A reimbursement line (`GET_FBA_REIMBURSEMENTS_DATA`).
    Reimbursement,
    /// A customer refund (financial events).
    Refund,
    /// An inbound shipment item.
    Inbound,
}

/// One row that shows a claim: the one that opened it, or one that offset part of it.
#[derive(SimpleObject, Clone, Debug)]
pub struct ClaimEvidence {
    pub source: EvidenceSource,
    /// The row's id in its table.
    pub row_id: ID,
    pub date: chrono::NaiveDate,
    /// Units this row counts for in the claim (offsets: the part applied).
    pub quantity: i32,
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    /// Order, shipment, ledger reference or reimbursement id.
    pub reference: Option<String>,
    /// Event type and reason code, or the reimbursement reason.
    pub reason: Option<String>,
    /// `opening` (the row that opened the case) or `offset`.
    pub role: String,
}

/// A claim Amazon likely owes the seller.
#[derive(SimpleObject, Clone, Debug)]
pub struct AmazonClaim {
    pub id: ID,
    pub connection_id: ID,
    pub kind: ClaimKind,
    pub status: ClaimStatus,
    pub sku: Option<String>,
    pub fnsku: Option<String>,
    pub asin: Option<String>,
    /// The order, shipment or reversed reimbursement the claim is about.
    pub reference: Option<String>,
    /// Units the claim is for.
    pub quantity: i32,
    /// Units found, returned or reimbursed since.
    pub settled_quantity: i32,
    /// Units still owed (`quantity - settledQuantity`).
    pub open_quantity: i32,
    pub currency: Option<String>,
    /// Exact estimate of what the open units are worth; null without price evidence.
    pub estimated_value: Option<Decimal>,
    /// `reimbursement`, `sale_price`, `refund` or `none`.
    pub value_source: String,
    pub evidence: Vec<ClaimEvidence>,
    /// When the loss happened.
    pub event_date: chrono::NaiveDate,
    /// First day a claim may be filed (the end of the rule's waiting period).
    pub eligible_from: chrono::NaiveDate,
    /// Last day a claim may be filed.
    pub deadline: chrono::NaiveDate,
    /// Amazon's case id, once filed.
    pub case_id: Option<String>,
    pub note: Option<String>,
    /// Reimbursement ids that settled (part of) the claim.
    pub reimbursement_ids: Vec<String>,
    pub status_changed_at: chrono::DateTime<chrono::Utc>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

fn evidence_of(value: &serde_json::Value) -> Vec<ClaimEvidence> {
    use crate::sync::recoveries::rules::{Evidence, EvidenceSource as S};
    let rows: Vec<Evidence> = serde_json::from_value(value.clone()).unwrap_or_default();
    rows.into_iter()
        .map(|e| ClaimEvidence {
            source: match e.source {
                S::Ledger => EvidenceSource::Ledger,
                S::Reimbursement => EvidenceSource::Reimbursement,
                S::Refund => EvidenceSource::Refund,
                S::Inbound => EvidenceSource::Inbound,
            },
            row_id: e.id.into(),
            date: e.date,
            quantity: e.quantity,
            amount: e.amount.map(|a| a.normalize()),
            currency: e.currency,
            reference: e.reference,
            reason: e.reason,
            role: e.role,
        })
        .collect()
}

impl From<claim::Model> for AmazonClaim {
    fn from(m: claim::Model) -> Self {
        AmazonClaim {
            id: m.id.into(),
            connection_id: m.connection_id.into(),
            kind: m.kind.into(),
            status: m.status.into(),
            evidence: evidence_of(&m.evidence),
            reimbursement_ids: serde_json::from_value(m.reimbursement_ids).unwrap_or_default(),
            open_quantity: (m.quantity - m.settled_quantity).max(0),
            sku: m.sku,
            fnsku: m.fnsku,
            asin: m.asin,
            reference: m.reference,
            quantity: m.quantity,
            settled_quantity: m.settled_quantity,
            currency: m.currency,
            estimated_value: m.estimated_value.map(|v| v.display_amount()),
            value_source: m.value_source,
            event_date: m.event_date,
            eligible_from: m.eligible_from,
            deadline: m.deadline,
            case_id: m.case_id,
            note: m.note,
            status_changed_at: m.status_changed_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// One line of Amazon's FBA reimbursements report.
#[derive(SimpleObject, Clone, Debug)]
pub struct AmazonReimbursement {
    pub id: ID,
    pub connection_id: ID,
    pub reimbursement_id: String,
    pub case_id: Option<String>,
    pub order_id: Option<String>,
    pub approved_at: chrono::DateTime<chrono::Utc>,
    /// Amazon's reason, e.g. `Lost_Warehouse`, `Damaged_Warehouse`, `CustomerReturn`,
    /// `Reimbursement_Reversal`.
    pub reason: String,
    pub sku: Option<String>,
    pub fnsku: Option<String>,
    pub asin: Option<String>,
    pub product_name: Option<String>,
    pub condition: Option<String>,
    pub currency: String,
    /// Exact decimal.
    pub amount_per_unit: Decimal,
    /// Exact decimal; negative for a reversal.
    pub amount_total: Decimal,
    pub quantity_cash: i32,
    pub quantity_inventory: i32,
    pub quantity_total: i32,
    pub original_reimbursement_id: Option<String>,
    pub original_reimbursement_type: Option<String>,
}

impl From<reimb::Model> for AmazonReimbursement {
    fn from(m: reimb::Model) -> Self {
        AmazonReimbursement {
            id: m.id.into(),
            connection_id: m.connection_id.into(),
            reimbursement_id: m.reimbursement_id,
            case_id: m.case_id,
            order_id: m.order_id,
            approved_at: m.approved_at,
            reason: m.reason,
            sku: m.sku,
            fnsku: m.fnsku,
            asin: m.asin,
            product_name: m.product_name,
            condition: m.condition,
            currency: m.currency,
            amount_per_unit: m.amount_per_unit.display_amount(),
            amount_total: m.amount_total.display_amount(),
            quantity_cash: m.quantity_cash,
            quantity_inventory: m.quantity_inventory,
            quantity_total: m.quantity_total,
            original_reimbursement_id: m.original_reimbursement_id,
            original_reimbursement_type: m.original_reimbursement_type,
        }
    }
}

/// An exact amount in one currency.
#[derive(SimpleObject, Clone, Debug, PartialEq)]
pub struct MoneyTotal {
    pub currency: String,
    pub amount: Decimal,
}

/// Claims of one kind, and money recovered for that kind.
#[derive(SimpleObject, Clone, Debug, PartialEq)]
pub struct RecoveryKindTotals {
    pub kind: ClaimKind,
    /// Claims still open (`DETECTED` or `FILED`).
    pub open_claims: i64,
    /// Units those claims are for.
    pub open_quantity: i64,
    /// What the open claims are estimated to be worth.
    pub claimable: Vec<MoneyTotal>,
    /// Reimbursed for this kind of loss (net of reversals), by the reimbursement reason.
    pub recovered: Vec<MoneyTotal>,
}

/// Claims in one status.
#[derive(SimpleObject, Clone, Debug, PartialEq)]
pub struct RecoveryStatusTotals {
    pub status: ClaimStatus,
    pub claims: i64,
    /// Estimated value of those claims' open units.
    pub value: Vec<MoneyTotal>,
}

/// One calendar month (UTC).
#[derive(SimpleObject, Clone, Debug, PartialEq)]
pub struct RecoveryMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// Reimbursed that month (by approval date, net of reversals).
    pub recovered: Vec<MoneyTotal>,
    pub reimbursements: i64,
    /// Claims whose loss happened that month.
    pub claims: i64,
    /// What that month's open claims are estimated to be worth.
    pub claimable: Vec<MoneyTotal>,
}

/// The recoveries of one Amazon connection. When nothing has been pulled yet and no run is
/// active or recent, asking for it queues one sync (`syncStarted`) and answers at once.
#[derive(SimpleObject, Clone)]
pub struct AmazonRecoveries {
    pub connection_id: ID,
    /// True when this request queued a sync (the connection had no recoveries data).
    pub sync_started: bool,
    /// The run that is active now (the one just queued, or one already running).
    pub run: Option<SyncRun>,
    /// Whether any reimbursement or ledger row has been pulled yet.
    pub has_data: bool,
    /// Reimbursed in total (net of reversals).
    pub recovered: Vec<MoneyTotal>,
    /// What open claims (`DETECTED`, `FILED`) are estimated to be worth.
    pub claimable: Vec<MoneyTotal>,
    pub by_kind: Vec<RecoveryKindTotals>,
    pub by_status: Vec<RecoveryStatusTotals>,
    pub by_month: Vec<RecoveryMonth>,
}
