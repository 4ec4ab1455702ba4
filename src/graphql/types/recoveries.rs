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
    /// The table the row is in.
    pub source: EvidenceSource,
    /// The row's id in its table.
    pub row_id: ID,
    /// The row's date (ledger day, approval day, refund day, last receipt).
    pub date: chrono::NaiveDate,
    /// Units this row counts for in the claim (offsets: the part applied).
    pub quantity: i32,
    /// The row's money (refunds, reimbursements), exact.
    pub amount: Option<Decimal>,
    /// Currency of `amount`.
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
    /// The claim's id.
    pub id: ID,
    /// The Amazon connection it was detected on.
    pub connection_id: ID,
    /// The rule that found it.
    pub kind: ClaimKind,
    /// Where it stands.
    pub status: ClaimStatus,
    /// The seller SKU.
    pub sku: Option<String>,
    /// Amazon's fulfillment network SKU.
    pub fnsku: Option<String>,
    /// The ASIN, when the evidence carries one.
    pub asin: Option<String>,
    /// The order, shipment or reversed reimbursement the claim is about.
    pub reference: Option<String>,
    /// Units the claim is for.
    pub quantity: i32,
    /// Units found, returned or reimbursed since.
    pub settled_quantity: i32,
    /// Units still owed (`quantity - settledQuantity`).
    pub open_quantity: i32,
    /// Currency of `estimatedValue`.
    pub currency: Option<String>,
    /// Exact estimate of what the open units are worth; null without price evidence.
    pub estimated_value: Option<Decimal>,
    /// `reimbursement`, `sale_price`, `refund` or `none`.
    pub value_source: String,
    /// The rows that show the case, the opening one first.
    pub evidence: Vec<ClaimEvidence>,
    /// When the loss happened.
    pub event_date: chrono::NaiveDate,
    /// First day a claim may be filed (the end of the rule's waiting period).
    pub eligible_from: chrono::NaiveDate,
    /// Last day a claim may be filed.
    pub deadline: chrono::NaiveDate,
    /// Amazon's case id, once filed.
    pub case_id: Option<String>,
    /// The seller's note.
    pub note: Option<String>,
    /// Reimbursement ids that settled (part of) the claim.
    pub reimbursement_ids: Vec<String>,
    /// When the status last changed.
    pub status_changed_at: chrono::DateTime<chrono::Utc>,
    /// When the claim was first detected.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When the claim last changed.
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
    /// The line's id.
    pub id: ID,
    /// The Amazon connection it was pulled on.
    pub connection_id: ID,
    /// Amazon's reimbursement id (one reimbursement may have several lines).
    pub reimbursement_id: String,
    /// The case the seller opened, when the reimbursement answered one.
    pub case_id: Option<String>,
    /// The customer order, when the reimbursement is about one.
    pub order_id: Option<String>,
    /// When Amazon approved it.
    pub approved_at: chrono::DateTime<chrono::Utc>,
    /// Amazon's reason, e.g. `Lost_Warehouse`, `Damaged_Warehouse`, `CustomerReturn`,
    /// `Reimbursement_Reversal`.
    pub reason: String,
    /// The seller SKU.
    pub sku: Option<String>,
    /// Amazon's fulfillment network SKU.
    pub fnsku: Option<String>,
    /// The ASIN.
    pub asin: Option<String>,
    /// The product title.
    pub product_name: Option<String>,
    /// The unit's condition, e.g. `NewItem`.
    pub condition: Option<String>,
    /// Currency of the amounts.
    pub currency: String,
    /// Exact decimal.
    pub amount_per_unit: Decimal,
    /// Exact decimal; negative for a reversal.
    pub amount_total: Decimal,
    /// Units reimbursed in cash.
    pub quantity_cash: i32,
    /// Units reimbursed by putting a unit back into inventory.
    pub quantity_inventory: i32,
    /// All units of the line (negative for a reversal).
    pub quantity_total: i32,
    /// For a reversal: the reimbursement it reverses.
    pub original_reimbursement_id: Option<String>,
    /// For a reversal: the reason of the reimbursement it reverses.
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
    /// ISO 4217 currency code.
    pub currency: String,
    /// Exact decimal sum.
    pub amount: Decimal,
}

/// Claims of one kind, and money recovered for that kind.
#[derive(SimpleObject, Clone, Debug, PartialEq)]
pub struct RecoveryKindTotals {
    /// The claim kind.
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
    /// The claim status.
    pub status: ClaimStatus,
    /// Claims in that status.
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
    /// Reimbursement lines approved that month.
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
    /// The Amazon connection.
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
    /// Per claim kind.
    pub by_kind: Vec<RecoveryKindTotals>,
    /// Per claim status.
    pub by_status: Vec<RecoveryStatusTotals>,
    /// Per calendar month, oldest first.
    pub by_month: Vec<RecoveryMonth>,
}
