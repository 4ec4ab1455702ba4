//! The FBA recoveries stage of an Amazon run: the reimbursements and inventory-ledger
//! reports, inbound shipment items, then claim detection ([`rules`]) over everything stored.
//!
//! Steps and progress (the stage fills `PERCENT_FROM`–`PERCENT_TO` of the bar):
//! requested → processing → downloading for each report, storing, detecting. Rows are
//! upserted by deterministic keys (new inserted, changed rewritten, identical left alone),
//! so re-reading a window writes nothing. A report Amazon could not deliver this time
//! (still queued past the wait bound, `FATAL` twice) is recorded as a warning on the run and
//! the other steps go on; the next run asks again.
//!
//! Windows: a full run (or the first) reads `lookback` days up to the aligned window end; an
//! incremental run starts `overlap` before the last watermark (`sync_cursors`, entity
//! `amazonRecoveries`), which advances when the stage completes. Claims are detected over
//! every stored row, then each moves along ([`rules::next_status`]): new ones are
//! `DETECTED`, reimbursed ones close, late ones expire. Counters: `reimbursements` and
//! `ledgerEvents` count rows read, `claimsDetected` the claims detected for the first time.

pub mod rules;

use super::progress::{Counters, RunEvent, Tracker};
use crate::connectors::amazon::report_rows::{LedgerRow, ReimbursementRow};
use crate::connectors::recoveries::{
    InboundItem, RecoverySource, ReportFetch, ReportKind, ReportRows, ReportStep,
};
use crate::error::{AppError, AppResult};
use crate::store::{self, Db, recoveries as q, sync_state as state};
use chrono::{DateTime, Duration, NaiveDate, SubsecRound, Utc};
use entity::Money;
use entity::amazon_claim::{self as claim, ClaimStatus};
use entity::amazon_inbound_item as inbound;
use entity::amazon_ledger_event as ledger;
use entity::amazon_reimbursement as reimb;
use entity::enums::{EventLevel, RunMode};
use entity::financial_event::FinanceKind;
use rules::{Detection, Facts, Rule};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// `sync_cursors.entity_type` of the recoveries watermark.
pub const CURSOR_ENTITY: &str = "amazonRecoveries";
/// Ledger event types the claim rules read.
pub const RULE_EVENT_TYPES: [&str; 3] = ["Adjustments", "CustomerReturns", "Receipts"];
/// Rows older than this never matter to a rule (windows are at most 730 days).
const FACTS_DAYS: i64 = 760;
/// Inbound pages one run may read.
const MAX_INBOUND_PAGES: u32 = 1_000;

pub struct Stage<'a> {
    pub db: &'a Db,
    pub source: &'a dyn RecoverySource,
    pub account_id: i64,
    pub connection_id: i64,
    /// `config.claimRules` of the connection.
    pub rule_overrides: Option<&'a serde_json::Value>,
    pub run_id: i64,
    pub mode: RunMode,
    pub dry_run: bool,
    pub tracker: &'a Tracker<'a>,
    pub cancel: &'a CancellationToken,
    /// The part of the progress bar the stage fills.
    pub percent: (i32, i32),
}

/// What happened to the rows of one source.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rows {
    pub read: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub problems: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportSummary {
    pub report_id: Option<String>,
    pub reused: bool,
    pub no_data: bool,
    /// Why no document was read this time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
    pub rows: Rows,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimSummary {
    pub detected: u64,
    pub expired_on_detection: u64,
    pub reimbursed: u64,
    pub expired: u64,
    pub dismissed: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// Stored in the run summary under `recoveries`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub reimbursements: ReportSummary,
    pub ledger: ReportSummary,
    pub inbound: Rows,
    pub claims: ClaimSummary,
}

/// Writes a store row unless an identical one is there; counts what it did.
fn tally<M: Clone>(
    rows: &mut Rows,
    known: Option<&M>,
    fresh: M,
    same: &impl Fn(&M, &M) -> bool,
    keep: &impl Fn(&M, M) -> M,
    writes: &mut Vec<M>,
) {
    match known {
        None => {
            rows.created += 1;
            writes.push(fresh);
        }
        Some(old) if same(old, &fresh) => rows.unchanged += 1,
        Some(old) => {
            rows.updated += 1;
            writes.push(keep(old, fresh));
        }
    }
}

impl Stage<'_> {
    fn pct(&self, part: f64) -> i32 {
        let (from, to) = self.percent;
        from + ((to - from) as f64 * part.clamp(0.0, 1.0)) as i32
    }

    fn check_cancel(&self) -> AppResult<()> {
        if self.cancel.is_cancelled() {
            Err(AppError::Cancelled("cancelled".into()))
        } else {
            Ok(())
        }
    }

    pub async fn run(&self) -> AppResult<Outcome> {
        let rules = rules::configured(self.rule_overrides).map_err(AppError::bad_input)?;
        let plan = self.source.plan();
        let now = Utc::now();
        let to = plan.window_end(now);
        let stored = if self.mode == RunMode::Incremental {
            state::get_cursor(self.db, self.connection_id, CURSOR_ENTITY)
                .await?
                .and_then(|c| DateTime::parse_from_rfc3339(&c).ok())
                .map(|t| t.to_utc())
        } else {
            None
        };
        let from = match stored {
            Some(mark) => (mark - plan.overlap).max(to - plan.lookback).min(to),
            None => to - plan.lookback,
        };
        let mut out = Outcome {
            from: Some(from),
            to: Some(to),
            ..Default::default()
        };
        out.reimbursements = self
            .report(ReportKind::Reimbursements, from, to, (0.0, 0.35))
            .await?;
        self.check_cancel()?;
        out.ledger = self
            .report(ReportKind::Ledger, from, to, (0.35, 0.75))
            .await?;
        self.check_cancel()?;
        if plan.inbound {
            self.tracker
                .stage("recoveries: listing inbound shipment items", self.pct(0.75));
            out.inbound = self.inbound(from, to).await?;
        }
        self.check_cancel()?;
        self.tracker
            .stage("recoveries: detecting claims", self.pct(0.85));
        out.claims = self.detect(&rules, now).await?;
        if !self.dry_run {
            state::set_cursor(
                self.db,
                self.account_id,
                self.connection_id,
                CURSOR_ENTITY,
                &to.to_rfc3339(),
            )
            .await?;
        }
        self.tracker.stage(
            &format!(
                "recoveries: {} claims detected",
                out.claims.detected + out.claims.expired_on_detection
            ),
            self.pct(1.0),
        );
        Ok(out)
    }

    async fn report(
        &self,
        kind: ReportKind,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        (start, end): (f64, f64),
    ) -> AppResult<ReportSummary> {
        let label = kind.label();
        let span = end - start;
        self.tracker.stage(
            &format!("recoveries: requesting the {label} report"),
            self.pct(start),
        );
        let last_id = Mutex::new(None::<String>);
        let on_step = |step: ReportStep| match step {
            ReportStep::Requested { report_id, reused } => {
                let verb = if reused { "reusing" } else { "requested" };
                self.tracker.stage(
                    &format!("recoveries: {label} report {report_id} {verb}"),
                    self.pct(start + span * 0.1),
                );
                if let Ok(mut l) = last_id.lock() {
                    *l = Some(report_id);
                }
            }
            ReportStep::Processing { status, waited } => {
                // Creeps toward the download share while Amazon works (never claims it).
                let creep = 1.0 - 1.0 / (1.0 + waited.as_secs_f64() / 30.0);
                self.tracker.stage(
                    &format!(
                        "recoveries: {label} report processing ({status}, {} s)",
                        waited.as_secs()
                    ),
                    self.pct(start + span * (0.1 + 0.5 * creep)),
                );
            }
            ReportStep::Downloading => self.tracker.stage(
                &format!("recoveries: downloading the {label} report"),
                self.pct(start + span * 0.6),
            ),
        };
        let fetched = self
            .source
            .fetch_report(kind, from, to, &on_step, self.cancel)
            .await
            .map_err(super::push::upstream_error)?;
        self.check_cancel()?;
        let mut summary = ReportSummary::default();
        let (report_id, rows, notes) = match fetched {
            ReportFetch::Ready {
                report_id,
                reused,
                no_data,
                rows,
                notes,
            } => {
                summary.reused = reused;
                summary.no_data = no_data;
                (report_id, rows, notes)
            }
            ReportFetch::Unavailable { report_id, reason } => {
                tracing::warn!(run_id = self.run_id, "{label} report unavailable: {reason}");
                summary.report_id = report_id.clone();
                summary.unavailable = Some(reason.clone());
                let event = RunEvent {
                    level: EventLevel::Warn,
                    ..RunEvent::info("report_unavailable", reason)
                }
                .for_record(None, report_id.as_deref(), None);
                self.events(vec![event]).await?;
                return Ok(summary);
            }
        };
        summary.report_id = Some(report_id.clone());
        self.tracker.stage(
            &format!("recoveries: storing the {label} report"),
            self.pct(start + span * 0.8),
        );
        let mut events: Vec<RunEvent> = notes
            .into_iter()
            .map(|n| RunEvent::info("report_retry", n).for_record(None, Some(&report_id), None))
            .collect();
        let (problems, counters) = match rows {
            ReportRows::Reimbursements(parsed) => {
                summary.rows = self.store_reimbursements(parsed.rows).await?;
                let c = Counters {
                    reimbursements: summary.rows.read as i64,
                    ..Default::default()
                };
                (parsed.problems, c)
            }
            ReportRows::Ledger(parsed) => {
                summary.rows = self.store_ledger(parsed.rows).await?;
                let c = Counters {
                    ledger_events: summary.rows.read as i64,
                    ..Default::default()
                };
                (parsed.problems, c)
            }
        };
        summary.rows.problems = problems.len() as u64;
        events.extend(problems.iter().map(|p| {
            RunEvent::error(
                "invalid_report_row",
                format!("{label} report line {}: {}", p.line, p.message),
            )
            .for_record(None, Some(&report_id), None)
        }));
        self.events(events).await?;
        self.tracker.add(&Counters {
            errors: problems.len() as i64,
            ..counters
        });
        Ok(summary)
    }

    async fn events(&self, events: Vec<RunEvent>) -> AppResult<()> {
        if self.dry_run || events.is_empty() {
            return Ok(());
        }
        state::insert_events(
            self.db,
            self.account_id,
            self.connection_id,
            self.run_id,
            events,
        )
        .await
    }

    async fn store_reimbursements(&self, rows: Vec<ReimbursementRow>) -> AppResult<Rows> {
        let (out, writes) = self
            .diff_rows(
                rows,
                |r, now| self.reimbursement_row(r, now),
                |m| &m.row_key,
                same_reimbursement,
                |old, new| reimb::Model {
                    created_at: old.created_at,
                    ..new
                },
                |keys| Box::pin(q::known_reimbursements(self.db, self.connection_id, keys)),
            )
            .await?;
        if !writes.is_empty() {
            let txn = store::db::begin_write(self.db).await?;
            q::upsert_reimbursements(&txn, writes).await?;
            txn.commit().await?;
        }
        Ok(out)
    }

    async fn store_ledger(&self, rows: Vec<LedgerRow>) -> AppResult<Rows> {
        let (out, writes) = self
            .diff_rows(
                rows,
                |r, now| self.ledger_row(r, now),
                |m| &m.row_key,
                same_ledger,
                |old, new| ledger::Model {
                    created_at: old.created_at,
                    ..new
                },
                |keys| Box::pin(q::known_ledger(self.db, self.connection_id, keys)),
            )
            .await?;
        if !writes.is_empty() {
            let txn = store::db::begin_write(self.db).await?;
            q::upsert_ledger(&txn, writes).await?;
            txn.commit().await?;
        }
        Ok(out)
    }

    /// New rows, changed rows (keeping what `keep` keeps of the stored one) and a count of
    /// each; nothing in a dry run. Looked up a slice at a time: a ledger can hold hundreds
    /// of thousands of rows.
    #[allow(clippy::too_many_arguments)]
    async fn diff_rows<'s, R, M: Clone>(
        &'s self,
        rows: Vec<R>,
        to_model: impl Fn(R, DateTime<Utc>) -> M,
        key: impl Fn(&M) -> &String,
        same: impl Fn(&M, &M) -> bool,
        keep: impl Fn(&M, M) -> M,
        known: impl Fn(Vec<String>) -> futures::future::BoxFuture<'s, AppResult<HashMap<String, M>>>,
    ) -> AppResult<(Rows, Vec<M>)> {
        let now = Utc::now();
        let mut out = Rows {
            read: rows.len() as u64,
            ..Default::default()
        };
        let mut writes = Vec::new();
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<M> = rows
                .by_ref()
                .take(5_000)
                .map(|r| to_model(r, now))
                .collect();
            let keys: Vec<String> = chunk.iter().map(|m| key(m).clone()).collect();
            let stored = known(keys).await?;
            for fresh in chunk {
                let old = stored.get(key(&fresh));
                tally(&mut out, old, fresh, &same, &keep, &mut writes);
            }
        }
        if self.dry_run {
            writes.clear();
        }
        Ok((out, writes))
    }

    fn reimbursement_row(&self, r: ReimbursementRow, now: DateTime<Utc>) -> reimb::Model {
        let total = Money::new(r.amount_total);
        let approved_at = r.approved_at.trunc_subsecs(6);
        reimb::Model {
            id: 0,
            account_id: self.account_id,
            connection_id: self.connection_id,
            row_key: r.key,
            reimbursement_id: r.reimbursement_id,
            case_id: r.case_id,
            order_id: r.order_id,
            approved_at,
            period: approved_at.date_naive(),
            reason: r.reason,
            sku: r.sku,
            fnsku: r.fnsku,
            asin: r.asin,
            product_name: r.product_name,
            condition: r.condition,
            currency: r.currency,
            amount_per_unit: Money::new(r.amount_per_unit),
            amount_total: total,
            amount_units: super::finances::units(total),
            quantity_cash: r.quantity_cash,
            quantity_inventory: r.quantity_inventory,
            quantity_total: r.quantity_total,
            original_reimbursement_id: r.original_reimbursement_id,
            original_reimbursement_type: r.original_reimbursement_type,
            run_id: Some(self.run_id),
            created_at: now,
            updated_at: now,
        }
    }

    fn ledger_row(&self, r: LedgerRow, now: DateTime<Utc>) -> ledger::Model {
        ledger::Model {
            id: 0,
            account_id: self.account_id,
            connection_id: self.connection_id,
            row_key: r.key,
            event_date: r.date,
            fnsku: r.fnsku,
            asin: r.asin,
            sku: r.msku,
            title: r.title,
            event_type: r.event_type,
            reference_id: r.reference_id,
            quantity: r.quantity,
            fulfillment_center: r.fulfillment_center,
            disposition: r.disposition,
            reason: r.reason,
            country: r.country,
            reconciled_quantity: r.reconciled_quantity,
            unreconciled_quantity: r.unreconciled_quantity,
            run_id: Some(self.run_id),
            created_at: now,
            updated_at: now,
        }
    }

    async fn inbound(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> AppResult<Rows> {
        let mut items: Vec<InboundItem> = Vec::new();
        let mut problems = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_INBOUND_PAGES {
            self.check_cancel()?;
            let page = self
                .source
                .inbound_items(from, to, token.as_deref())
                .await
                .map_err(super::push::upstream_error)?;
            items.extend(page.items);
            problems.extend(page.problems);
            match page.next_token {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        // The same item listed twice (pages overlap): the last sighting wins.
        let mut unique: HashMap<String, InboundItem> = HashMap::new();
        for i in items {
            unique.insert(format!("{}|{}", i.shipment_id, i.sku), i);
        }
        let keys: Vec<String> = unique.keys().cloned().collect();
        let known = q::known_inbound(self.db, self.connection_id, &keys).await?;
        let now = Utc::now().trunc_subsecs(6);
        let mut out = Rows {
            read: unique.len() as u64,
            problems: problems.len() as u64,
            ..Default::default()
        };
        let mut writes = Vec::new();
        let mut sorted: Vec<(String, InboundItem)> = unique.into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, i) in sorted {
            let fresh = inbound::Model {
                id: 0,
                account_id: self.account_id,
                connection_id: self.connection_id,
                shipment_id: i.shipment_id,
                sku: i.sku,
                fnsku: i.fnsku,
                quantity_shipped: i.shipped,
                quantity_received: i.received,
                first_seen_at: now,
                run_id: Some(self.run_id),
                created_at: now,
                updated_at: now,
            };
            tally(
                &mut out,
                known.get(&key),
                fresh,
                &|a: &inbound::Model, b: &inbound::Model| {
                    (a.fnsku.as_ref(), a.quantity_shipped, a.quantity_received)
                        == (b.fnsku.as_ref(), b.quantity_shipped, b.quantity_received)
                },
                &|old: &inbound::Model, new: inbound::Model| inbound::Model {
                    first_seen_at: old.first_seen_at,
                    created_at: old.created_at,
                    ..new
                },
                &mut writes,
            );
        }
        let events: Vec<RunEvent> = problems
            .into_iter()
            .map(|p| RunEvent::error("invalid_inbound_item", p))
            .collect();
        self.tracker.add(&Counters {
            errors: events.len() as i64,
            ..Default::default()
        });
        self.events(events).await?;
        if !self.dry_run && !writes.is_empty() {
            let txn = store::db::begin_write(self.db).await?;
            q::upsert_inbound(&txn, writes).await?;
            txn.commit().await?;
        }
        Ok(out)
    }

    /// Loads every fact the rules read, detects, and moves the connection's claims along.
    async fn detect(&self, rules: &[Rule], now: DateTime<Utc>) -> AppResult<ClaimSummary> {
        let today = now.date_naive();
        let facts = load_facts(self.db, self.connection_id, today).await?;
        let rules = rules.to_vec();
        let detections = tokio::task::spawn_blocking(move || rules::detect(&rules, &facts, today))
            .await
            .map_err(AppError::internal)?;
        let existing = q::claims_of(self.db, self.connection_id).await?;
        let plan = plan_claims(
            &detections,
            &existing,
            today,
            now,
            self.account_id,
            self.connection_id,
            self.run_id,
        );
        self.tracker.add(&Counters {
            claims_detected: plan.summary.detected as i64,
            ..Default::default()
        });
        if !self.dry_run && (!plan.inserts.is_empty() || !plan.updates.is_empty()) {
            let txn = store::db::begin_write(self.db).await?;
            q::insert_claims(&txn, plan.inserts).await?;
            for row in plan.updates {
                q::save_claim(&txn, row).await?;
            }
            txn.commit().await?;
        }
        Ok(plan.summary)
    }
}

fn same_reimbursement(a: &reimb::Model, b: &reimb::Model) -> bool {
    let who = |m: &reimb::Model| {
        (
            m.reimbursement_id.clone(),
            m.case_id.clone(),
            m.order_id.clone(),
            m.reason.clone(),
            m.sku.clone(),
            m.fnsku.clone(),
            m.asin.clone(),
            m.product_name.clone(),
            m.condition.clone(),
            m.original_reimbursement_id.clone(),
            m.original_reimbursement_type.clone(),
        )
    };
    let what = |m: &reimb::Model| {
        (
            m.approved_at,
            m.currency.clone(),
            m.amount_per_unit,
            m.amount_total,
            m.quantity_cash,
            m.quantity_inventory,
            m.quantity_total,
        )
    };
    who(a) == who(b) && what(a) == what(b)
}

/// Only what the key does not cover can change: title, ASIN, reconciliation figures.
fn same_ledger(a: &ledger::Model, b: &ledger::Model) -> bool {
    (
        &a.title,
        &a.asin,
        a.reconciled_quantity,
        a.unreconciled_quantity,
    ) == (
        &b.title,
        &b.asin,
        b.reconciled_quantity,
        b.unreconciled_quantity,
    )
}

/// The rows the rules read, as facts.
pub async fn load_facts(db: &Db, connection_id: i64, today: NaiveDate) -> AppResult<Facts> {
    let since = today - Duration::days(FACTS_DAYS);
    let ledger = q::ledger_since(db, connection_id, &RULE_EVENT_TYPES, since)
        .await?
        .into_iter()
        .map(|l| rules::LedgerFact {
            id: l.id,
            key: l.row_key,
            date: l.event_date,
            fnsku: l.fnsku,
            sku: l.sku,
            asin: l.asin,
            event_type: l.event_type,
            reference_id: l.reference_id,
            quantity: l.quantity,
            reason: l.reason,
        })
        .collect();
    let reimbursements = q::reimbursements_since(db, connection_id, since)
        .await?
        .into_iter()
        .map(|r| rules::ReimbursementFact {
            id: r.id,
            key: r.row_key,
            reimbursement_id: r.reimbursement_id,
            date: r.period,
            reason: r.reason,
            sku: r.sku,
            fnsku: r.fnsku,
            asin: r.asin,
            order_id: r.order_id,
            currency: r.currency,
            amount_per_unit: r.amount_per_unit.amount(),
            amount_total: r.amount_total.amount(),
            quantity: r.quantity_total,
        })
        .collect();
    let refunds = q::principal_lines(db, connection_id, FinanceKind::Refund, since)
        .await?
        .into_iter()
        .filter_map(|f| {
            Some(rules::RefundFact {
                id: f.id,
                key: f.event_key,
                date: f.period,
                order_id: f.order_id?,
                sku: f.sku?,
                quantity: f.quantity.unwrap_or(1),
                currency: f.currency,
                amount: -f.amount.amount(),
            })
        })
        .filter(|r| r.amount > rust_decimal::Decimal::ZERO)
        .collect();
    let mut sale_prices = HashMap::new();
    // Oldest first: the latest sale of each SKU wins.
    for s in q::principal_lines(db, connection_id, FinanceKind::Sale, since).await? {
        let (Some(sku), Some(qty)) = (s.sku, s.quantity.filter(|q| *q > 0)) else {
            continue;
        };
        sale_prices.insert(
            sku,
            rules::SalePrice {
                currency: s.currency,
                unit_price: s.amount.amount() / rust_decimal::Decimal::from(qty),
            },
        );
    }
    let inbound = q::inbound_of(db, connection_id)
        .await?
        .into_iter()
        .map(|i| rules::InboundFact {
            id: i.id,
            shipment_id: i.shipment_id,
            sku: i.sku,
            fnsku: i.fnsku,
            shipped: i.quantity_shipped,
            received: i.quantity_received,
            first_seen: i.first_seen_at.date_naive(),
        })
        .collect();
    Ok(Facts {
        ledger,
        reimbursements,
        refunds,
        inbound,
        sale_prices,
    })
}

/// Claim rows to insert and rewrite, from detections and the stored claims.
pub struct ClaimPlan {
    pub inserts: Vec<claim::Model>,
    pub updates: Vec<claim::Model>,
    pub summary: ClaimSummary,
}

fn evidence_json(d: &Detection) -> serde_json::Value {
    serde_json::to_value(&d.evidence).unwrap_or_default()
}

/// Pure: what to write so the stored claims match the detections.
pub fn plan_claims(
    detections: &[Detection],
    existing: &HashMap<String, claim::Model>,
    today: NaiveDate,
    now: DateTime<Utc>,
    account_id: i64,
    connection_id: i64,
    run_id: i64,
) -> ClaimPlan {
    let now = now.trunc_subsecs(6);
    let mut plan = ClaimPlan {
        inserts: Vec::new(),
        updates: Vec::new(),
        summary: ClaimSummary::default(),
    };
    for d in detections {
        let current = existing.get(&d.claim_key);
        let next = rules::next_status(current.map(|c| c.status), d, today);
        let value = d.estimated_value.map(Money::new);
        let fresh = |status: ClaimStatus, base: Option<&claim::Model>| claim::Model {
            id: base.map_or(0, |b| b.id),
            account_id,
            connection_id,
            claim_key: d.claim_key.clone(),
            kind: d.kind,
            status,
            sku: d.sku.clone(),
            fnsku: d.fnsku.clone(),
            asin: d.asin.clone(),
            reference: d.reference.clone(),
            quantity: d.quantity,
            settled_quantity: d.settled,
            currency: d.currency.clone(),
            estimated_value: value,
            value_units: value.map(super::finances::units).unwrap_or(0),
            value_source: d.value_source.to_owned(),
            evidence: evidence_json(d),
            event_date: d.event_date,
            eligible_from: d.eligible_from,
            deadline: d.deadline,
            case_id: base.and_then(|b| b.case_id.clone()),
            note: base.and_then(|b| b.note.clone()),
            reimbursement_ids: serde_json::json!(d.reimbursement_ids),
            detected_run_id: base.map_or(Some(run_id), |b| b.detected_run_id),
            status_changed_at: match base {
                Some(b) if b.status == status => b.status_changed_at,
                _ => now,
            },
            status_changed_by: match base {
                Some(b) if b.status == status => b.status_changed_by,
                _ => None,
            },
            created_at: base.map_or(now, |b| b.created_at),
            updated_at: now,
        };
        match (current, next) {
            (None, None) => {}
            (None, Some(status)) => {
                if status == ClaimStatus::Expired {
                    plan.summary.expired_on_detection += 1;
                } else {
                    plan.summary.detected += 1;
                }
                plan.inserts.push(fresh(status, None));
            }
            (Some(old), next) => {
                let status = next.unwrap_or(old.status);
                let row = fresh(status, Some(old));
                let unchanged = claim::Model {
                    updated_at: old.updated_at,
                    ..row.clone()
                } == *old;
                if unchanged {
                    plan.summary.unchanged += 1;
                    continue;
                }
                match next {
                    Some(ClaimStatus::Reimbursed) => plan.summary.reimbursed += 1,
                    Some(ClaimStatus::Expired) => plan.summary.expired += 1,
                    Some(ClaimStatus::Dismissed) => plan.summary.dismissed += 1,
                    _ => plan.summary.updated += 1,
                }
                plan.updates.push(row);
            }
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::amazon_claim::ClaimKind;

    fn detection(open: bool) -> Detection {
        let d = |n: u32| NaiveDate::from_ymd_opt(2026, 1, n).unwrap();
        Detection {
            claim_key: "k".into(),
            kind: ClaimKind::LostInWarehouse,
            sku: Some("S".into()),
            fnsku: Some("F".into()),
            asin: None,
            reference: None,
            quantity: 2,
            settled: if open { 0 } else { 2 },
            reimbursed: if open { 0 } else { 2 },
            reimbursement_ids: if open { vec![] } else { vec!["R1".into()] },
            currency: Some("USD".into()),
            estimated_value: Some(rust_decimal::Decimal::new(if open { 2000 } else { 0 }, 2)),
            value_source: "reimbursement",
            evidence: vec![],
            event_date: d(1),
            eligible_from: d(2),
            deadline: d(28),
        }
    }

    #[test]
    fn planning_inserts_once_then_closes_and_is_idempotent() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
        let now = Utc::now();
        let first = plan_claims(&[detection(true)], &HashMap::new(), today, now, 1, 2, 3);
        assert_eq!(first.inserts.len(), 1);
        assert_eq!(first.summary.detected, 1);
        let mut stored = first.inserts[0].clone();
        stored.id = 7;
        let existing = HashMap::from([("k".to_owned(), stored.clone())]);
        let again = plan_claims(&[detection(true)], &existing, today, now, 1, 2, 4);
        assert!(again.inserts.is_empty() && again.updates.is_empty());
        assert_eq!(again.summary.unchanged, 1);
        let closed = plan_claims(&[detection(false)], &existing, today, now, 1, 2, 5);
        assert_eq!(closed.updates.len(), 1);
        assert_eq!(closed.updates[0].status, ClaimStatus::Reimbursed);
        assert_eq!(closed.updates[0].id, 7);
        assert_eq!(
            closed.updates[0].detected_run_id,
            Some(3),
            "first detection kept"
        );
        assert_eq!(closed.summary.reimbursed, 1);
    }
}
