//! Claim detection: pure rules over the recoveries rows. No I/O — the stage loads the
//! facts, [`detect`] finds the cases, [`next_status`] moves a claim along.
//!
//! A rule is data ([`Rule`], the defaults in [`RULES`]): which rows *open* a case (ledger
//! adjustments with given reason codes, customer refunds, reimbursement reversals,
//! inbound shipment items received short), which rows *offset* them (found units, customer
//! returns, reimbursements of given reasons), how each offset is matched to a case
//! ([`MatchBy`]: the same unit, or the same order) and from how many days before the case it
//! counts, and the windows: a
//! case is only claimable after `waiting_days` (Amazon gets the chance to put it right
//! itself) and until `filing_days` after the event. One algorithm serves every rule:
//! offsets are applied oldest first to the oldest open case of the same key they may
//! settle ([`allocate`]); what stays open is the claim.
//!
//! Windows and reasons, with sources (Seller Central help, US, as of 2026; they change and
//! differ by marketplace, so each connection may override them in `config.claimRules`):
//! - lost (`M`, `5`) and damaged (`E`, `6`, `7`) in a fulfillment center — "FBA inventory
//!   reimbursement policy: Fulfillment center operations" (GEV4254LJJ9BAEG): claims no
//!   sooner than 30 days after the adjustment; Amazon shortened the filing window to 60
//!   days in 2024–2025 (older pages: 18 months). `H` (customer-damaged) and `K` (defect)
//!   are not Amazon's fault and open nothing. Found units (`F`, `N`) and `Lost_Warehouse`
//!   / `Damaged_Warehouse` reimbursements (cash or inventory) settle them.
//! - customer refund without the return — "Customer return claims" (G9N934L7Y4SFWPJ4):
//!   from 60 to 120 days after the refund. A `CustomerReturns` ledger row whose Reference
//!   ID is the order, or a `CustomerReturn` / `CustomerServiceIssue` reimbursement of the
//!   order, settles it. (That CustomerReturns rows carry the order id is our reading, not
//!   verified against a live account.)
//! - reimbursement reversed (`Reimbursement_Reversal` lines): disputable unless the units
//!   came back (found or returned up to 30 days before the reversal) or were reimbursed
//!   again after it; 60 days to file (our default, not a published figure).
//! - inbound shipment received short of what was shipped (Fulfillment Inbound items,
//!   received = the larger of Amazon's `QuantityReceived` and the ledger `Receipts` of the
//!   shipment): claimable 30 days after the shipment's last ledger receipt (or, without
//!   one, after a sync first saw the item), for 180 days; settled by
//!   `Lost_Inbound` / `Damaged_Inbound` reimbursements (the figures are conservative
//!   readings of "Shipment to Amazon claims", whose window has varied from 6 to 9 months).

use chrono::{Duration, NaiveDate};
use entity::amazon_claim::{ClaimKind, ClaimStatus};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// What opens a case.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Opens {
    /// Ledger rows of `event_type` with one of `reasons`, counted as units lost (negative
    /// quantities).
    Ledger {
        event_type: &'static str,
        reasons: &'static [&'static str],
    },
    /// Customer refunds (the refunded principal of an order's SKU).
    Refund,
    /// Reimbursement lines with one of `reasons` (reversals: negative quantities).
    Reimbursement { reasons: &'static [&'static str] },
    /// Inbound shipment items received short.
    InboundShortage,
}

/// What offsets (settles or explains) a case.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Offsets {
    /// Ledger rows of `event_type` with one of `reasons` (empty: any reason), positive units.
    Ledger {
        event_type: &'static str,
        reasons: &'static [&'static str],
    },
    /// Reimbursement lines with one of `reasons`, positive units (cash or inventory).
    Reimbursement { reasons: &'static [&'static str] },
}

/// How an offset is matched to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchBy {
    /// The unit: FNSKU, or the SKU when a row has no FNSKU.
    Item,
    /// An order's SKU: refunds, CustomerReturns by Reference ID, reimbursements by order id.
    OrderSku,
}

/// Where a claim's estimated value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueFrom {
    /// The money on the opening row (a refund, a reversal), pro rata for open units.
    Opening,
    /// Open units × the item's unit value: its latest reimbursement per unit, else its
    /// latest sale price.
    UnitValue,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Offset {
    pub source: Offsets,
    pub match_by: MatchBy,
    /// An offset dated up to this many days before a case may settle it.
    pub from_days_before: i64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    pub kind: ClaimKind,
    pub opens: Opens,
    pub offsets: &'static [Offset],
    pub value: ValueFrom,
    pub waiting_days: i64,
    pub filing_days: i64,
    pub enabled: bool,
}

/// Reimbursement reasons that settle warehouse losses, and which kind a reimbursement
/// counts toward in the recoveries totals.
pub const LOST_REASONS: &[&str] = &["Lost_Warehouse"];
pub const DAMAGED_REASONS: &[&str] = &["Damaged_Warehouse"];
pub const RETURN_REASONS: &[&str] = &["CustomerReturn", "CustomerServiceIssue"];
pub const REVERSAL_REASONS: &[&str] = &["Reimbursement_Reversal"];
pub const INBOUND_REASONS: &[&str] = &["Lost_Inbound", "Damaged_Inbound"];

/// The kind of loss a reimbursement reason pays for (reversals count against the kind
/// they reverse only through their own rule), for the recoveries totals.
pub fn kind_of_reason(reason: &str) -> Option<ClaimKind> {
    [
        (LOST_REASONS, ClaimKind::LostInWarehouse),
        (DAMAGED_REASONS, ClaimKind::DamagedInWarehouse),
        (RETURN_REASONS, ClaimKind::RefundNotReturned),
        (REVERSAL_REASONS, ClaimKind::ReimbursementReversed),
        (INBOUND_REASONS, ClaimKind::InboundShortage),
    ]
    .into_iter()
    .find(|(reasons, _)| reasons.contains(&reason))
    .map(|(_, kind)| kind)
}

pub const RULES: [Rule; 5] = [
    Rule {
        kind: ClaimKind::LostInWarehouse,
        opens: Opens::Ledger {
            event_type: "Adjustments",
            reasons: &["M", "5"],
        },
        offsets: &[
            Offset {
                source: Offsets::Ledger {
                    event_type: "Adjustments",
                    reasons: &["F", "N"],
                },
                match_by: MatchBy::Item,
                from_days_before: 0,
            },
            Offset {
                source: Offsets::Reimbursement {
                    reasons: LOST_REASONS,
                },
                match_by: MatchBy::Item,
                from_days_before: 0,
            },
        ],
        value: ValueFrom::UnitValue,
        waiting_days: 30,
        filing_days: 60,
        enabled: true,
    },
    Rule {
        kind: ClaimKind::DamagedInWarehouse,
        opens: Opens::Ledger {
            event_type: "Adjustments",
            reasons: &["E", "6", "7"],
        },
        offsets: &[Offset {
            source: Offsets::Reimbursement {
                reasons: DAMAGED_REASONS,
            },
            match_by: MatchBy::Item,
            from_days_before: 0,
        }],
        value: ValueFrom::UnitValue,
        waiting_days: 30,
        filing_days: 60,
        enabled: true,
    },
    Rule {
        kind: ClaimKind::RefundNotReturned,
        opens: Opens::Refund,
        offsets: &[
            Offset {
                source: Offsets::Ledger {
                    event_type: "CustomerReturns",
                    reasons: &[],
                },
                match_by: MatchBy::OrderSku,
                from_days_before: 45,
            },
            Offset {
                source: Offsets::Reimbursement {
                    reasons: RETURN_REASONS,
                },
                match_by: MatchBy::OrderSku,
                from_days_before: 45,
            },
        ],
        value: ValueFrom::Opening,
        waiting_days: 60,
        filing_days: 120,
        enabled: true,
    },
    Rule {
        kind: ClaimKind::ReimbursementReversed,
        opens: Opens::Reimbursement {
            reasons: REVERSAL_REASONS,
        },
        offsets: &[
            Offset {
                source: Offsets::Ledger {
                    event_type: "Adjustments",
                    reasons: &["F", "N"],
                },
                match_by: MatchBy::Item,
                from_days_before: 30,
            },
            Offset {
                source: Offsets::Ledger {
                    event_type: "CustomerReturns",
                    reasons: &[],
                },
                match_by: MatchBy::OrderSku,
                from_days_before: 30,
            },
            Offset {
                source: Offsets::Reimbursement {
                    reasons: &[
                        "Lost_Warehouse",
                        "Damaged_Warehouse",
                        "CustomerReturn",
                        "CustomerServiceIssue",
                    ],
                },
                match_by: MatchBy::Item,
                from_days_before: 0,
            },
        ],
        value: ValueFrom::Opening,
        waiting_days: 0,
        filing_days: 60,
        enabled: true,
    },
    Rule {
        kind: ClaimKind::InboundShortage,
        opens: Opens::InboundShortage,
        offsets: &[Offset {
            source: Offsets::Reimbursement {
                reasons: INBOUND_REASONS,
            },
            match_by: MatchBy::Item,
            from_days_before: 90,
        }],
        value: ValueFrom::UnitValue,
        waiting_days: 30,
        filing_days: 180,
        enabled: true,
    },
];

/// A connection's override of one rule (`config.claimRules.<KIND>`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleOverride {
    pub waiting_days: Option<i64>,
    pub filing_days: Option<i64>,
    pub enabled: Option<bool>,
}

/// The GraphQL name of a kind (`LOST_IN_WAREHOUSE`), used in configs and exports.
pub fn kind_name(kind: ClaimKind) -> String {
    kind.as_str().to_uppercase()
}

/// The default rules with a connection's overrides applied; unknown kinds, unknown keys
/// and windows outside 0–730 days are refused rather than guessed at.
pub fn configured(overrides: Option<&serde_json::Value>) -> Result<Vec<Rule>, String> {
    let mut rules = RULES.to_vec();
    let Some(value) = overrides.filter(|v| !v.is_null()) else {
        return Ok(rules);
    };
    let map = value
        .as_object()
        .ok_or("config.claimRules must be an object keyed by claim kind")?;
    for (name, v) in map {
        let rule = rules
            .iter_mut()
            .find(|r| kind_name(r.kind) == *name)
            .ok_or_else(|| {
                let known: Vec<String> = RULES.iter().map(|r| kind_name(r.kind)).collect();
                format!(
                    "config.claimRules: unknown kind '{name}' (known: {})",
                    known.join(", ")
                )
            })?;
        let o: RuleOverride = serde_json::from_value(v.clone())
            .map_err(|e| format!("config.claimRules.{name}: {e}"))?;
        for days in [o.waiting_days, o.filing_days].into_iter().flatten() {
            if !(0..=730).contains(&days) {
                return Err(format!(
                    "config.claimRules.{name}: days must be between 0 and 730"
                ));
            }
        }
        rule.waiting_days = o.waiting_days.unwrap_or(rule.waiting_days);
        rule.filing_days = o.filing_days.unwrap_or(rule.filing_days);
        rule.enabled = o.enabled.unwrap_or(rule.enabled);
        if rule.filing_days < rule.waiting_days {
            return Err(format!(
                "config.claimRules.{name}: filingDays must not be shorter than waitingDays"
            ));
        }
    }
    Ok(rules)
}

// --- facts --------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub struct LedgerFact {
    pub id: i64,
    pub key: String,
    pub date: NaiveDate,
    pub fnsku: Option<String>,
    pub sku: Option<String>,
    pub asin: Option<String>,
    pub event_type: String,
    pub reference_id: Option<String>,
    pub quantity: i32,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReimbursementFact {
    pub id: i64,
    pub key: String,
    pub reimbursement_id: String,
    pub date: NaiveDate,
    pub reason: String,
    pub sku: Option<String>,
    pub fnsku: Option<String>,
    pub asin: Option<String>,
    pub order_id: Option<String>,
    pub currency: String,
    pub amount_per_unit: Decimal,
    pub amount_total: Decimal,
    pub quantity: i32,
}

/// The refunded principal of one order's SKU.
#[derive(Debug, Clone, PartialEq)]
pub struct RefundFact {
    pub id: i64,
    pub key: String,
    pub date: NaiveDate,
    pub order_id: String,
    pub sku: String,
    pub quantity: i32,
    pub currency: String,
    /// Positive: what the buyer got back.
    pub amount: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InboundFact {
    pub id: i64,
    pub shipment_id: String,
    pub sku: String,
    pub fnsku: Option<String>,
    pub shipped: i32,
    pub received: i32,
    pub first_seen: NaiveDate,
}

/// What a unit of an item sells for (latest sale), keyed by SKU.
#[derive(Debug, Clone, PartialEq)]
pub struct SalePrice {
    pub currency: String,
    pub unit_price: Decimal,
}

#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub ledger: Vec<LedgerFact>,
    pub reimbursements: Vec<ReimbursementFact>,
    pub refunds: Vec<RefundFact>,
    pub inbound: Vec<InboundFact>,
    pub sale_prices: HashMap<String, SalePrice>,
}

// --- results ------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvidenceSource {
    Ledger,
    Reimbursement,
    Refund,
    Inbound,
}

/// One row that shows a case: the one that opened it, or one that offset part of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    pub source: EvidenceSource,
    /// The row's id in its table.
    pub id: i64,
    pub date: NaiveDate,
    /// Units the row counts for in this case (offsets: the part applied).
    pub quantity: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `opening` or `offset`.
    pub role: String,
}

/// A case found by a rule, open or (partly) settled.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub claim_key: String,
    pub kind: ClaimKind,
    pub sku: Option<String>,
    pub fnsku: Option<String>,
    pub asin: Option<String>,
    pub reference: Option<String>,
    pub quantity: i32,
    /// Units offset so far (found, returned, reimbursed).
    pub settled: i32,
    /// Of which reimbursed (cash or inventory).
    pub reimbursed: i32,
    pub reimbursement_ids: Vec<String>,
    pub currency: Option<String>,
    pub estimated_value: Option<Decimal>,
    pub value_source: &'static str,
    pub evidence: Vec<Evidence>,
    pub event_date: NaiveDate,
    pub eligible_from: NaiveDate,
    pub deadline: NaiveDate,
}

impl Detection {
    pub fn open(&self) -> i32 {
        (self.quantity - self.settled).max(0)
    }
}

// --- the algorithm ------------------------------------------------------------------

/// A case before matching, with the keys offsets may match it by.
struct Case {
    item: Option<String>,
    order: Option<String>,
    identity: String,
    date: NaiveDate,
    quantity: i32,
    sku: Option<String>,
    fnsku: Option<String>,
    asin: Option<String>,
    reference: Option<String>,
    money: Option<(String, Decimal)>,
    opening: Evidence,
}

/// An offsetting row before matching.
struct Credit {
    match_by: MatchBy,
    key: String,
    date: NaiveDate,
    quantity: i32,
    from_days_before: i64,
    reimbursement_id: Option<String>,
    evidence: Evidence,
}

fn item_key(fnsku: &Option<String>, sku: &Option<String>) -> Option<String> {
    fnsku
        .as_deref()
        .or(sku.as_deref())
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
}

fn order_key(order: &Option<String>, sku: &Option<String>) -> Option<String> {
    Some(format!("{}|{}", order.as_deref()?, sku.as_deref()?))
}

fn matches(reasons: &[&str], reason: Option<&str>) -> bool {
    reasons.is_empty() || reason.is_some_and(|r| reasons.contains(&r))
}

fn ledger_evidence(l: &LedgerFact, quantity: i32, role: &str) -> Evidence {
    Evidence {
        source: EvidenceSource::Ledger,
        id: l.id,
        date: l.date,
        quantity,
        amount: None,
        currency: None,
        reference: l.reference_id.clone(),
        reason: Some(match &l.reason {
            Some(r) => format!("{} {r}", l.event_type),
            None => l.event_type.clone(),
        }),
        role: role.into(),
    }
}

fn reimbursement_evidence(r: &ReimbursementFact, quantity: i32, role: &str) -> Evidence {
    Evidence {
        source: EvidenceSource::Reimbursement,
        id: r.id,
        date: r.date,
        quantity,
        amount: Some(r.amount_total),
        currency: Some(r.currency.clone()),
        reference: Some(r.reimbursement_id.clone()),
        reason: Some(r.reason.clone()),
        role: role.into(),
    }
}

fn cases(rule: &Rule, facts: &Facts) -> Vec<Case> {
    let cases: Vec<Case> = match rule.opens {
        Opens::Ledger {
            event_type,
            reasons,
        } => facts
            .ledger
            .iter()
            .filter(|l| {
                l.event_type == event_type
                    && l.quantity < 0
                    && matches(reasons, l.reason.as_deref())
            })
            .map(|l| Case {
                item: item_key(&l.fnsku, &l.sku),
                order: None,
                identity: format!("ledger|{}", l.key),
                date: l.date,
                quantity: -l.quantity,
                sku: l.sku.clone(),
                fnsku: l.fnsku.clone(),
                asin: l.asin.clone(),
                reference: l.reference_id.clone(),
                money: None,
                opening: ledger_evidence(l, -l.quantity, "opening"),
            })
            .collect(),
        Opens::Refund => facts
            .refunds
            .iter()
            .filter(|r| r.quantity > 0)
            .map(|r| {
                let sku = Some(r.sku.clone());
                Case {
                    item: item_key(&None, &sku),
                    order: order_key(&Some(r.order_id.clone()), &sku),
                    identity: format!("refund|{}", r.key),
                    date: r.date,
                    quantity: r.quantity,
                    sku: Some(r.sku.clone()),
                    fnsku: None,
                    asin: None,
                    reference: Some(r.order_id.clone()),
                    money: Some((r.currency.clone(), r.amount)),
                    opening: Evidence {
                        source: EvidenceSource::Refund,
                        id: r.id,
                        date: r.date,
                        quantity: r.quantity,
                        amount: Some(r.amount),
                        currency: Some(r.currency.clone()),
                        reference: Some(r.order_id.clone()),
                        reason: Some("Refund".into()),
                        role: "opening".into(),
                    },
                }
            })
            .collect(),
        Opens::Reimbursement { reasons } => facts
            .reimbursements
            .iter()
            .filter(|r| r.quantity < 0 && matches(reasons, Some(&r.reason)))
            .map(|r| Case {
                item: item_key(&r.fnsku, &r.sku),
                order: order_key(&r.order_id, &r.sku),
                identity: format!("reimbursement|{}", r.key),
                date: r.date,
                quantity: -r.quantity,
                sku: r.sku.clone(),
                fnsku: r.fnsku.clone(),
                asin: r.asin.clone(),
                reference: Some(r.reimbursement_id.clone()),
                money: Some((r.currency.clone(), r.amount_total.abs())),
                opening: reimbursement_evidence(r, -r.quantity, "opening"),
            })
            .collect(),
        Opens::InboundShortage => {
            // Ledger receipts per (shipment, item) can show more received than the API,
            // and date the shipment: the case dates from its last receipt.
            let mut receipts: HashMap<(String, String), (i32, NaiveDate)> = HashMap::new();
            for l in facts.ledger.iter().filter(|l| l.event_type == "Receipts") {
                if let (Some(shipment), Some(item)) = (&l.reference_id, item_key(&l.fnsku, &l.sku))
                {
                    let e = receipts
                        .entry((shipment.clone(), item))
                        .or_insert((0, l.date));
                    e.0 += l.quantity;
                    e.1 = e.1.max(l.date);
                }
            }
            facts
                .inbound
                .iter()
                .filter_map(|i| {
                    let sku = Some(i.sku.clone());
                    let key = item_key(&i.fnsku, &sku)?;
                    let (ledger, last_receipt) = receipts
                        .get(&(i.shipment_id.clone(), key.clone()))
                        .map_or((0, None), |(n, d)| (*n, Some(*d)));
                    let short = i.shipped - i.received.max(ledger);
                    let date = last_receipt.unwrap_or(i.first_seen);
                    (short > 0).then(|| Case {
                        item: Some(key),
                        order: None,
                        identity: format!("inbound|{}|{}", i.shipment_id, i.sku),
                        date,
                        quantity: short,
                        sku: sku.clone(),
                        fnsku: i.fnsku.clone(),
                        asin: None,
                        reference: Some(i.shipment_id.clone()),
                        money: None,
                        opening: Evidence {
                            source: EvidenceSource::Inbound,
                            id: i.id,
                            date,
                            quantity: short,
                            amount: None,
                            currency: None,
                            reference: Some(i.shipment_id.clone()),
                            reason: Some(format!(
                                "shipped {}, received {}",
                                i.shipped,
                                i.received.max(ledger)
                            )),
                            role: "opening".into(),
                        },
                    })
                })
                .collect()
        }
    };
    cases
        .into_iter()
        .filter(|c| c.item.is_some() || c.order.is_some())
        .collect()
}

fn credits(rule: &Rule, facts: &Facts) -> Vec<Credit> {
    let mut out = Vec::new();
    for offset in rule.offsets {
        match offset.source {
            Offsets::Ledger {
                event_type,
                reasons,
            } => {
                for l in facts.ledger.iter().filter(|l| {
                    l.event_type == event_type
                        && l.quantity > 0
                        && matches(reasons, l.reason.as_deref())
                }) {
                    let key = match offset.match_by {
                        MatchBy::Item => item_key(&l.fnsku, &l.sku),
                        MatchBy::OrderSku => order_key(&l.reference_id, &l.sku),
                    };
                    if let Some(key) = key {
                        out.push(Credit {
                            match_by: offset.match_by,
                            key,
                            date: l.date,
                            quantity: l.quantity,
                            from_days_before: offset.from_days_before,
                            reimbursement_id: None,
                            evidence: ledger_evidence(l, l.quantity, "offset"),
                        });
                    }
                }
            }
            Offsets::Reimbursement { reasons } => {
                for r in facts
                    .reimbursements
                    .iter()
                    .filter(|r| r.quantity > 0 && matches(reasons, Some(&r.reason)))
                {
                    let key = match offset.match_by {
                        MatchBy::Item => item_key(&r.fnsku, &r.sku),
                        MatchBy::OrderSku => order_key(&r.order_id, &r.sku),
                    };
                    if let Some(key) = key {
                        out.push(Credit {
                            match_by: offset.match_by,
                            key,
                            date: r.date,
                            quantity: r.quantity,
                            from_days_before: offset.from_days_before,
                            reimbursement_id: Some(r.reimbursement_id.clone()),
                            evidence: reimbursement_evidence(r, r.quantity, "offset"),
                        });
                    }
                }
            }
        }
    }
    out
}

/// Applies each credit (oldest first) to the oldest cases it matches (same unit or same
/// order, as its offset says) and may settle: a case dated no later than `credit.date +
/// from_days_before`. Credits left over (units found for a loss older than the data)
/// settle nothing. Returns, per case, the credits applied as `(credit index, units)`.
fn allocate(cases: &[Case], credits: &[Credit]) -> Vec<Vec<(usize, i32)>> {
    let mut applied: Vec<Vec<(usize, i32)>> = vec![Vec::new(); cases.len()];
    let mut open: Vec<i32> = cases.iter().map(|c| c.quantity).collect();
    let mut by_item: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_order: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in cases.iter().enumerate() {
        if let Some(k) = &c.item {
            by_item.entry(k.as_str()).or_default().push(i);
        }
        if let Some(k) = &c.order {
            by_order.entry(k.as_str()).or_default().push(i);
        }
    }
    for list in by_item.values_mut().chain(by_order.values_mut()) {
        list.sort_by_key(|&i| (cases[i].date, cases[i].identity.as_str()));
    }
    let mut order: Vec<usize> = (0..credits.len()).collect();
    order.sort_by_key(|&i| (credits[i].date, credits[i].evidence.id));
    for ci in order {
        let credit = &credits[ci];
        let index = match credit.match_by {
            MatchBy::Item => &by_item,
            MatchBy::OrderSku => &by_order,
        };
        let Some(list) = index.get(credit.key.as_str()) else {
            continue;
        };
        let latest = credit.date + Duration::days(credit.from_days_before);
        let mut left = credit.quantity;
        for &i in list {
            if left == 0 || cases[i].date > latest {
                break;
            }
            let take = left.min(open[i]);
            if take > 0 {
                open[i] -= take;
                left -= take;
                applied[i].push((ci, take));
            }
        }
    }
    applied
}

/// Exact to the cent-hundredth: open units' share of an amount, or units × unit value.
fn round(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(
        entity::money::MONEY_SCALE,
        RoundingStrategy::MidpointAwayFromZero,
    )
}

/// The item's unit value: its latest positive reimbursement per unit, else its latest
/// sale price.
fn unit_value(facts: &Facts, case: &Case) -> Option<(String, Decimal, &'static str)> {
    let key = item_key(&case.fnsku, &case.sku);
    let reimbursed = facts
        .reimbursements
        .iter()
        .filter(|r| {
            r.quantity > 0 && r.amount_per_unit > Decimal::ZERO && item_key(&r.fnsku, &r.sku) == key
        })
        .max_by_key(|r| (r.date, r.id));
    if let Some(r) = reimbursed {
        return Some((r.currency.clone(), r.amount_per_unit, "reimbursement"));
    }
    let sku = case.sku.as_deref()?;
    facts
        .sale_prices
        .get(sku)
        .map(|p| (p.currency.clone(), p.unit_price, "sale_price"))
}

fn claim_key(kind: ClaimKind, identity: &str) -> String {
    let digest = Sha256::digest(format!("{}|{identity}", kind.as_str()).as_bytes());
    hex::encode(&digest[..16])
}

/// Every case of every enabled rule whose waiting period has passed on `today`.
pub fn detect(rules: &[Rule], facts: &Facts, today: NaiveDate) -> Vec<Detection> {
    let mut out = Vec::new();
    for rule in rules.iter().filter(|r| r.enabled) {
        let cases = cases(rule, facts);
        let credits = credits(rule, facts);
        let applied = allocate(&cases, &credits);
        for (case, used) in cases.iter().zip(applied) {
            let eligible_from = case.date + Duration::days(rule.waiting_days);
            if eligible_from > today {
                continue;
            }
            let settled: i32 = used.iter().map(|(_, n)| n).sum();
            let reimbursed: i32 = used
                .iter()
                .filter(|(ci, _)| credits[*ci].reimbursement_id.is_some())
                .map(|(_, n)| n)
                .sum();
            let mut reimbursement_ids: Vec<String> = used
                .iter()
                .filter_map(|(ci, _)| credits[*ci].reimbursement_id.clone())
                .collect();
            reimbursement_ids.dedup();
            let open = (case.quantity - settled).max(0);
            let (currency, value, source) = match rule.value {
                ValueFrom::Opening => match &case.money {
                    Some((cur, amount)) => (
                        Some(cur.clone()),
                        Some(round(
                            *amount * Decimal::from(open) / Decimal::from(case.quantity.max(1)),
                        )),
                        if case.opening.source == EvidenceSource::Refund {
                            "refund"
                        } else {
                            "reimbursement"
                        },
                    ),
                    None => (None, None, "none"),
                },
                ValueFrom::UnitValue => match unit_value(facts, case) {
                    Some((cur, unit, source)) => {
                        (Some(cur), Some(round(unit * Decimal::from(open))), source)
                    }
                    None => (None, None, "none"),
                },
            };
            let mut evidence = vec![case.opening.clone()];
            evidence.extend(used.iter().map(|(ci, n)| Evidence {
                quantity: *n,
                ..credits[*ci].evidence.clone()
            }));
            out.push(Detection {
                claim_key: claim_key(rule.kind, &case.identity),
                kind: rule.kind,
                sku: case.sku.clone(),
                fnsku: case.fnsku.clone(),
                asin: case.asin.clone(),
                reference: case.reference.clone(),
                quantity: case.quantity,
                settled,
                reimbursed,
                reimbursement_ids,
                currency,
                estimated_value: value,
                value_source: source,
                evidence,
                event_date: case.date,
                eligible_from,
                deadline: case.date + Duration::days(rule.filing_days),
            });
        }
    }
    out
}

/// Where a claim goes after a detection: `None` = no claim / no change.
///
/// - a new case still open becomes `DETECTED` (`EXPIRED` if its deadline passed already);
///   a new case already settled is no claim at all;
/// - once fully settled, a claim is `REIMBURSED` when a reimbursement took part, else
///   (units found or returned) `DISMISSED` — the latter only from `DETECTED`/`EXPIRED`,
///   a filed case stays with the seller;
/// - a `DETECTED` claim past its deadline becomes `EXPIRED`.
pub fn next_status(
    current: Option<ClaimStatus>,
    d: &Detection,
    today: NaiveDate,
) -> Option<ClaimStatus> {
    let settled = d.open() == 0;
    match current {
        None if settled => None,
        None if today > d.deadline => Some(ClaimStatus::Expired),
        None => Some(ClaimStatus::Detected),
        Some(ClaimStatus::Reimbursed) => None,
        Some(_) if settled && d.reimbursed > 0 => Some(ClaimStatus::Reimbursed),
        Some(s @ (ClaimStatus::Detected | ClaimStatus::Expired)) if settled => {
            (s != ClaimStatus::Dismissed).then_some(ClaimStatus::Dismissed)
        }
        Some(ClaimStatus::Detected) if today > d.deadline => Some(ClaimStatus::Expired),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + Duration::days(n)
    }

    const TODAY: i64 = 200;

    fn ledger(id: i64, d: i64, fnsku: &str, event: &str, qty: i32, reason: &str) -> LedgerFact {
        LedgerFact {
            id,
            key: format!("L{id}"),
            date: day(d),
            fnsku: Some(fnsku.into()),
            sku: Some(format!("SKU-{fnsku}")),
            asin: None,
            event_type: event.into(),
            reference_id: Some(format!("REF{id}")),
            quantity: qty,
            reason: (!reason.is_empty()).then(|| reason.into()),
        }
    }

    fn reimb(
        id: i64,
        d: i64,
        fnsku: &str,
        reason: &str,
        qty: i32,
        per_unit: i64,
    ) -> ReimbursementFact {
        ReimbursementFact {
            id,
            key: format!("R{id}"),
            reimbursement_id: format!("RID{id}"),
            date: day(d),
            reason: reason.into(),
            sku: Some(format!("SKU-{fnsku}")),
            fnsku: Some(fnsku.into()),
            asin: None,
            order_id: None,
            currency: "USD".into(),
            amount_per_unit: Decimal::new(per_unit, 2),
            amount_total: Decimal::new(per_unit * qty as i64, 2),
            quantity: qty,
        }
    }

    fn only(rules: &[Rule], kind: ClaimKind) -> Vec<Rule> {
        rules.iter().filter(|r| r.kind == kind).copied().collect()
    }

    fn run(kind: ClaimKind, facts: &Facts) -> Vec<Detection> {
        detect(&only(&RULES, kind), facts, day(TODAY))
    }

    #[test]
    fn lost_in_warehouse_opens_for_unfound_unreimbursed_units_only() {
        let facts = Facts {
            ledger: vec![
                // A: 3 lost, 1 found later, 1 reimbursed → 1 open.
                ledger(1, 100, "A", "Adjustments", -3, "M"),
                ledger(2, 110, "A", "Adjustments", 1, "F"),
                // B: lost, fully found → settled, no claim.
                ledger(3, 100, "B", "Adjustments", -2, "5"),
                ledger(4, 101, "B", "Adjustments", 2, "N"),
                // C: disposed at the seller's request / disposition change: no loss.
                ledger(5, 100, "C", "Adjustments", -4, "D"),
                ledger(6, 100, "C", "Adjustments", -1, "Q"),
                // D: lost too recently (waiting period).
                ledger(7, TODAY - 10, "D", "Adjustments", -1, "M"),
                // E: a found unit before the loss settles nothing.
                ledger(8, 90, "E", "Adjustments", 1, "F"),
                ledger(9, 100, "E", "Adjustments", -1, "M"),
            ],
            reimbursements: vec![
                reimb(1, 120, "A", "Lost_Warehouse", 1, 1250),
                // Damaged reimbursement does not settle a loss.
                reimb(2, 120, "E", "Damaged_Warehouse", 1, 900),
            ],
            ..Default::default()
        };
        let found = run(ClaimKind::LostInWarehouse, &facts);
        let open: Vec<(Option<&str>, i32)> = found
            .iter()
            .filter(|d| d.open() > 0)
            .map(|d| (d.fnsku.as_deref(), d.open()))
            .collect();
        assert_eq!(open, vec![(Some("A"), 1), (Some("E"), 1)]);
        let a = found
            .iter()
            .find(|d| d.fnsku.as_deref() == Some("A"))
            .unwrap();
        assert_eq!((a.quantity, a.settled, a.reimbursed), (3, 2, 1));
        assert_eq!(
            a.estimated_value,
            Some(Decimal::new(1250, 2)),
            "1 open × 12.50"
        );
        assert_eq!(a.value_source, "reimbursement");
        assert_eq!(
            a.evidence.len(),
            3,
            "the loss, the found unit, the reimbursement"
        );
        assert_eq!(a.reimbursement_ids, vec!["RID1".to_owned()]);
        assert_eq!(a.eligible_from, day(130));
        assert_eq!(a.deadline, day(160));
        let b = found
            .iter()
            .find(|d| d.fnsku.as_deref() == Some("B"))
            .unwrap();
        assert_eq!(
            b.open(),
            0,
            "settled cases are reported so claims can close"
        );
        assert!(found.iter().all(|d| d.fnsku.as_deref() != Some("C")));
        assert!(found.iter().all(|d| d.fnsku.as_deref() != Some("D")));
        let e = found
            .iter()
            .find(|d| d.fnsku.as_deref() == Some("E"))
            .unwrap();
        assert_eq!(
            e.value_source, "reimbursement",
            "valued by any reimbursement of the item"
        );
    }

    #[test]
    fn damaged_in_warehouse_counts_amazon_damage_not_customer_or_defect() {
        let mut facts = Facts {
            ledger: vec![
                ledger(1, 100, "A", "Adjustments", -2, "E"),
                ledger(2, 100, "A", "Adjustments", 2, "P"),
                ledger(3, 100, "B", "Adjustments", -1, "H"),
                ledger(4, 100, "C", "Adjustments", -1, "K"),
                ledger(5, 100, "D", "Adjustments", -1, "6"),
            ],
            reimbursements: vec![reimb(1, 105, "D", "Damaged_Warehouse", 1, 500)],
            ..Default::default()
        };
        facts.sale_prices.insert(
            "SKU-A".into(),
            SalePrice {
                currency: "USD".into(),
                unit_price: Decimal::new(1999, 2),
            },
        );
        let found = run(ClaimKind::DamagedInWarehouse, &facts);
        let open: Vec<&str> = found
            .iter()
            .filter(|d| d.open() > 0)
            .filter_map(|d| d.fnsku.as_deref())
            .collect();
        assert_eq!(
            open,
            vec!["A"],
            "P increases are disposition changes, not returns"
        );
        let a = &found
            .iter()
            .find(|d| d.fnsku.as_deref() == Some("A"))
            .unwrap();
        assert_eq!(a.estimated_value, Some(Decimal::new(3998, 2)));
        assert_eq!(a.value_source, "sale_price");
        let d = found
            .iter()
            .find(|d| d.fnsku.as_deref() == Some("D"))
            .unwrap();
        assert_eq!((d.open(), d.reimbursed), (0, 1));
    }

    fn refund(id: i64, d: i64, order: &str, sku: &str, qty: i32, cents: i64) -> RefundFact {
        RefundFact {
            id,
            key: format!("F{id}"),
            date: day(d),
            order_id: order.into(),
            sku: sku.into(),
            quantity: qty,
            currency: "USD".into(),
            amount: Decimal::new(cents, 2),
        }
    }

    #[test]
    fn refund_not_returned_within_the_waiting_period() {
        let mut returned = ledger(1, 75, "X", "CustomerReturns", 1, "");
        returned.reference_id = Some("O-2".into());
        returned.sku = Some("S".into());
        let mut other_order = ledger(2, 75, "X", "CustomerReturns", 1, "");
        other_order.reference_id = Some("O-9".into());
        other_order.sku = Some("S".into());
        let mut paid = reimb(1, 130, "X", "CustomerReturn", 1, 2000);
        paid.order_id = Some("O-3".into());
        paid.sku = Some("S".into());
        let facts = Facts {
            ledger: vec![returned, other_order],
            reimbursements: vec![paid],
            refunds: vec![
                refund(1, 70, "O-1", "S", 1, 2000), // never returned: claim
                refund(2, 70, "O-2", "S", 1, 2000), // returned: settled
                refund(3, 70, "O-3", "S", 1, 2000), // reimbursed: settled
                refund(4, TODAY - 30, "O-4", "S", 1, 2000), // still waiting
                refund(5, 60, "O-5", "S", 2, 3001), // 2 units, none back
            ],
            ..Default::default()
        };
        let found = run(ClaimKind::RefundNotReturned, &facts);
        let open: Vec<(&str, i32)> = found
            .iter()
            .filter(|d| d.open() > 0)
            .map(|d| (d.reference.as_deref().unwrap(), d.open()))
            .collect();
        assert_eq!(open, vec![("O-1", 1), ("O-5", 2)]);
        let five = found
            .iter()
            .find(|d| d.reference.as_deref() == Some("O-5"))
            .unwrap();
        assert_eq!(five.estimated_value, Some(Decimal::new(3001, 2)));
        assert_eq!(five.value_source, "refund");
        assert_eq!((five.eligible_from, five.deadline), (day(120), day(180)));
        assert!(found.iter().all(|d| d.reference.as_deref() != Some("O-4")));
    }

    #[test]
    fn reversals_are_claims_unless_the_units_came_back_or_were_paid_again() {
        let reversal = |id: i64, d: i64, fnsku: &str| {
            let mut r = reimb(id, d, fnsku, "Reimbursement_Reversal", -1, -1500);
            r.amount_per_unit = Decimal::new(-1500, 2);
            r.amount_total = Decimal::new(-1500, 2);
            r
        };
        // E's reversal undoes a customer-return reimbursement of order O-E, which came back;
        // F's unit had an unrelated customer return (another order): no explanation.
        let mut returned = ledger(3, 95, "E", "CustomerReturns", 1, "");
        returned.reference_id = Some("O-E".into());
        let mut unrelated = ledger(4, 95, "F", "CustomerReturns", 1, "");
        unrelated.reference_id = Some("O-X".into());
        let mut e_paid = reimb(10, 50, "E", "CustomerReturn", 1, 1500);
        e_paid.order_id = Some("O-E".into());
        let mut e_reversal = reversal(11, 100, "E");
        e_reversal.order_id = Some("O-E".into());
        let facts = Facts {
            ledger: vec![
                // B's reversal is explained by the unit being found shortly before.
                ledger(1, 95, "B", "Adjustments", 1, "F"),
                // C's found unit is far older than the reversal: explains nothing.
                ledger(2, 10, "C", "Adjustments", 1, "F"),
                returned,
                unrelated,
            ],
            reimbursements: vec![
                reimb(1, 50, "A", "Lost_Warehouse", 1, 1500),
                reversal(2, 100, "A"),
                reimb(3, 50, "B", "Lost_Warehouse", 1, 1500),
                reversal(4, 100, "B"),
                reimb(5, 50, "C", "Lost_Warehouse", 1, 1500),
                reversal(6, 100, "C"),
                // D was reimbursed again after the reversal.
                reimb(7, 50, "D", "Lost_Warehouse", 1, 1500),
                reversal(8, 100, "D"),
                reimb(9, 110, "D", "Lost_Warehouse", 1, 1500),
                e_paid,
                e_reversal,
                reimb(12, 50, "F", "Lost_Warehouse", 1, 1500),
                reversal(13, 100, "F"),
            ],
            ..Default::default()
        };
        let found = run(ClaimKind::ReimbursementReversed, &facts);
        let open: Vec<&str> = found
            .iter()
            .filter(|d| d.open() > 0)
            .filter_map(|d| d.fnsku.as_deref())
            .collect();
        assert_eq!(
            open,
            vec!["A", "C", "F"],
            "the original reimbursement never offsets its reversal; returns count by order"
        );
        let a = found
            .iter()
            .find(|d| d.fnsku.as_deref() == Some("A"))
            .unwrap();
        assert_eq!(a.estimated_value, Some(Decimal::new(1500, 2)));
        assert_eq!(a.reference.as_deref(), Some("RID2"));
        let d = found
            .iter()
            .find(|d| d.fnsku.as_deref() == Some("D"))
            .unwrap();
        assert_eq!((d.open(), d.reimbursed), (0, 1));
    }

    #[test]
    fn inbound_shortage_uses_the_larger_received_figure_and_inbound_reimbursements() {
        let item =
            |id: i64, shipment: &str, fnsku: &str, shipped: i32, received: i32| InboundFact {
                id,
                shipment_id: shipment.into(),
                sku: format!("SKU-{fnsku}"),
                fnsku: Some(fnsku.into()),
                shipped,
                received,
                first_seen: day(100),
            };
        let mut receipt = ledger(1, 101, "B", "Receipts", 10, "");
        receipt.reference_id = Some("FBA2".into());
        let mut late = ledger(2, TODAY - 3, "A", "Receipts", 7, "");
        late.reference_id = Some("FBA1-LATE".into());
        let mut recent = item(5, "FBA5", "E", 10, 5);
        recent.first_seen = day(TODAY - 5);
        let facts = Facts {
            ledger: vec![receipt, late],
            reimbursements: vec![reimb(1, 140, "C", "Lost_Inbound", 2, 700)],
            inbound: vec![
                item(1, "FBA1", "A", 10, 7),      // 3 short
                item(2, "FBA2", "B", 10, 6),      // the ledger shows all 10 received
                item(3, "FBA3", "C", 12, 10),     // 2 short, reimbursed
                item(4, "FBA4", "D", 5, 5),       // complete
                recent,                           // too recent
                item(6, "FBA1-LATE", "A", 10, 5), // short, but received 3 days ago
            ],
            ..Default::default()
        };
        let found = run(ClaimKind::InboundShortage, &facts);
        let open: Vec<(&str, i32)> = found
            .iter()
            .filter(|d| d.open() > 0)
            .map(|d| (d.reference.as_deref().unwrap(), d.open()))
            .collect();
        assert_eq!(open, vec![("FBA1", 3)]);
        let a = &found[0];
        assert_eq!(a.value_source, "none", "no price evidence: no estimate");
        assert_eq!(a.estimated_value, None);
        let c = found
            .iter()
            .find(|d| d.reference.as_deref() == Some("FBA3"))
            .unwrap();
        assert_eq!((c.open(), c.reimbursed), (0, 2));
    }

    #[test]
    fn claim_keys_are_stable_and_kind_specific() {
        let facts = Facts {
            ledger: vec![ledger(1, 100, "A", "Adjustments", -1, "M")],
            ..Default::default()
        };
        let a = detect(&RULES, &facts, day(TODAY));
        let b = detect(&RULES, &facts, day(TODAY));
        assert_eq!(a, b);
        assert_eq!(a.len(), 1);
        assert_ne!(
            claim_key(ClaimKind::LostInWarehouse, "x"),
            claim_key(ClaimKind::DamagedInWarehouse, "x")
        );
    }

    #[test]
    fn overrides_change_windows_and_refuse_unknown_input() {
        let rules = configured(Some(&serde_json::json!({
            "LOST_IN_WAREHOUSE": { "waitingDays": 5, "filingDays": 90 },
            "INBOUND_SHORTAGE": { "enabled": false }
        })))
        .unwrap();
        let lost = rules
            .iter()
            .find(|r| r.kind == ClaimKind::LostInWarehouse)
            .unwrap();
        assert_eq!((lost.waiting_days, lost.filing_days), (5, 90));
        assert!(
            !rules
                .iter()
                .find(|r| r.kind == ClaimKind::InboundShortage)
                .unwrap()
                .enabled
        );
        assert!(configured(Some(&serde_json::json!({ "STOLEN": {} }))).is_err());
        assert!(
            configured(Some(
                &serde_json::json!({ "LOST_IN_WAREHOUSE": { "wait": 1 } })
            ))
            .is_err()
        );
        assert!(
            configured(Some(
                &serde_json::json!({ "LOST_IN_WAREHOUSE": { "waitingDays": 90, "filingDays": 10 } })
            ))
            .is_err()
        );
        assert!(configured(Some(&serde_json::json!([1]))).is_err());
        assert_eq!(configured(None).unwrap(), RULES.to_vec());
    }

    #[test]
    fn statuses_move_on_settlement_and_deadlines() {
        let facts = Facts {
            ledger: vec![ledger(1, 100, "A", "Adjustments", -1, "M")],
            ..Default::default()
        };
        let d = run(ClaimKind::LostInWarehouse, &facts).remove(0);
        use ClaimStatus::*;
        assert_eq!(next_status(None, &d, day(TODAY - 60)), Some(Detected));
        assert_eq!(
            next_status(None, &d, day(TODAY)),
            Some(Expired),
            "found after its deadline"
        );
        assert_eq!(next_status(Some(Detected), &d, day(TODAY)), Some(Expired));
        assert_eq!(
            next_status(Some(Filed), &d, day(TODAY)),
            None,
            "a filed case waits for Amazon"
        );
        let mut paid = d.clone();
        paid.settled = 1;
        paid.reimbursed = 1;
        assert_eq!(next_status(None, &paid, day(TODAY)), None);
        for s in [Detected, Filed, Expired, Dismissed] {
            assert_eq!(
                next_status(Some(s), &paid, day(TODAY)),
                Some(Reimbursed),
                "{s:?}"
            );
        }
        assert_eq!(next_status(Some(Reimbursed), &paid, day(TODAY)), None);
        let mut found = d.clone();
        found.settled = 1;
        assert_eq!(
            next_status(Some(Detected), &found, day(TODAY)),
            Some(Dismissed)
        );
        assert_eq!(next_status(Some(Filed), &found, day(TODAY)), None);
    }
}
