//! The finances stage of a run: pulls a provider's financial events window by window
//! and upserts one row per money component, so re-reading any window is harmless.
//!
//! Windows: a full run re-reads the whole look-back (default 90 days); an incremental run
//! starts at the stored watermark minus the overlap (late postings). Each window ends at
//! "now minus the provider's settle time" and is at most the provider's maximum length.
//! The watermark (`sync_cursors`, entity `financialEvents`) advances when a window
//! completes; a failed or cancelled run keeps the lines it stored and re-reads the window.
//! An expired continuation token restarts the current window (bounded).

use super::progress::{Counters, RunEvent, Tracker};
use crate::connectors::finances::{self, FinanceLine, FinanceListing, FinanceSource};
use crate::error::{AppError, AppResult};
use crate::store::{self, Db, sync_state as state};
use chrono::{DateTime, SubsecRound, Utc};
use entity::Money;
use entity::enums::RunMode;
use entity::financial_event as fe;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

/// `sync_cursors.entity_type` of the finances watermark.
pub const CURSOR_ENTITY: &str = "financialEvents";
/// Window restarts after expired tokens before the run fails.
pub const MAX_RESTARTS: u32 = 3;
pub struct Stage<'a> {
    pub db: &'a Db,
    pub source: &'a dyn FinanceSource,
    pub account_id: i64,
    pub connection_id: i64,
    pub run_id: i64,
    pub mode: RunMode,
    pub dry_run: bool,
    pub tracker: &'a Tracker<'a>,
    pub cancel: &'a CancellationToken,
    /// The part of the progress bar the stage fills (inventory takes the part before).
    pub percent: (i32, i32),
}

/// What the stage did, stored in the run summary under `finances`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub pages: u64,
    pub events: u64,
    pub lines: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub errors: u64,
    pub restarts: u32,
}

impl Stage<'_> {
    pub async fn run(&self) -> AppResult<Outcome> {
        let rules = self.source.windows();
        let now = Utc::now();
        let to = now - rules.settle;
        let stored = if self.mode == RunMode::Incremental {
            state::get_cursor(self.db, self.connection_id, CURSOR_ENTITY)
                .await?
                .and_then(|c| DateTime::parse_from_rfc3339(&c).ok())
                .map(|t| t.to_utc())
        } else {
            None
        };
        let from = match stored {
            Some(mark) => (mark - rules.overlap).max(now - rules.lookback),
            None => now - rules.lookback,
        };
        let mut out = Outcome {
            from: Some(from),
            to: Some(to),
            ..Default::default()
        };
        let span = (to - from).num_seconds().max(1) as f64;
        let (percent_from, percent_to) = (self.percent.0 as f64, self.percent.1 as f64);
        for (after, before) in finances::windows(from, to, rules.max_window) {
            self.window(after, before, &mut out, |posted: DateTime<Utc>| {
                let done = (posted - from).num_seconds().clamp(0, span as i64) as f64 / span;
                (percent_from + done * (percent_to - percent_from)) as i32
            })
            .await?;
            if !self.dry_run {
                state::set_cursor(
                    self.db,
                    self.account_id,
                    self.connection_id,
                    CURSOR_ENTITY,
                    &before.to_rfc3339(),
                )
                .await?;
            }
        }
        Ok(out)
    }

    async fn window(
        &self,
        after: DateTime<Utc>,
        before: DateTime<Utc>,
        out: &mut Outcome,
        percent_at: impl Fn(DateTime<Utc>) -> i32,
    ) -> AppResult<()> {
        let mut token: Option<String> = None;
        let mut restarts = 0;
        self.tracker
            .stage("fetching financial events", percent_at(after));
        loop {
            if self.cancel.is_cancelled() {
                return Err(AppError::Cancelled("cancelled".into()));
            }
            let listing = self
                .source
                .list_events(after, before, token.as_deref())
                .await
                .map_err(super::push::upstream_error)?;
            let page = match listing {
                FinanceListing::Page(p) => p,
                FinanceListing::TokenExpired => {
                    restarts += 1;
                    out.restarts += 1;
                    if restarts > MAX_RESTARTS {
                        return Err(AppError::Upstream(format!(
                            "financial events NextToken expired {MAX_RESTARTS} times in one window"
                        )));
                    }
                    tracing::warn!(
                        run_id = self.run_id,
                        "financial events NextToken expired; restarting the window"
                    );
                    token = None;
                    continue;
                }
            };
            out.pages += 1;
            out.events += page.events as u64;
            out.lines += page.lines.len() as u64;
            out.errors += page.problems.len() as u64;
            let events: Vec<RunEvent> = page
                .problems
                .iter()
                .map(|p| {
                    RunEvent::error("invalid_financial_event", p.message.clone()).for_record(
                        None,
                        p.order_id.as_deref(),
                        p.sku.as_deref(),
                    )
                })
                .collect();
            self.store_page(&page.lines, events, out).await?;
            self.tracker.add(&Counters {
                errors: page.problems.len() as i64,
                ..Default::default()
            });
            let reached = page.latest_posted.unwrap_or(after).min(before);
            self.tracker.stage(
                &format!(
                    "fetching financial events: {} lines up to {}",
                    out.lines,
                    reached.format("%Y-%m-%d")
                ),
                percent_at(reached),
            );
            match page.next_token {
                Some(next) => token = Some(next),
                None => return Ok(()),
            }
        }
    }

    /// New lines are inserted, changed ones rewritten, identical ones left alone — so a
    /// re-read window writes nothing.
    async fn store_page(
        &self,
        lines: &[FinanceLine],
        events: Vec<RunEvent>,
        out: &mut Outcome,
    ) -> AppResult<()> {
        // A component listed twice on one page (should not happen) counts once.
        let mut unique: Vec<&FinanceLine> = Vec::with_capacity(lines.len());
        let mut seen = std::collections::HashSet::new();
        for l in lines.iter().rev() {
            if seen.insert(l.key.as_str()) {
                unique.push(l);
            }
        }
        unique.reverse();
        let keys: Vec<String> = unique.iter().map(|l| l.key.clone()).collect();
        let known = store::finances::known(self.db, self.connection_id, &keys).await?;
        let now = Utc::now();
        let mut writes = Vec::new();
        for line in unique {
            let mut row = self.row(line, now);
            if let (true, Some(old)) = (line.dated_by_page, known.get(&line.key)) {
                // An inferred date is kept from the first sighting (see FinanceLine).
                row.posted_at = old.posted_at;
                row.period = old.period;
            }
            match known.get(&line.key) {
                None => out.created += 1,
                Some(old) if same(old, &row) => {
                    out.unchanged += 1;
                    continue;
                }
                Some(old) => {
                    out.updated += 1;
                    let mut row = row;
                    row.created_at = old.created_at;
                    writes.push(row);
                    continue;
                }
            }
            writes.push(row);
        }
        if self.dry_run {
            return Ok(());
        }
        let txn = store::db::begin_write(self.db).await?;
        store::finances::upsert(&txn, writes).await?;
        state::insert_events(
            &txn,
            self.account_id,
            self.connection_id,
            self.run_id,
            events,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    fn row(&self, line: &FinanceLine, now: DateTime<Utc>) -> fe::Model {
        let amount = Money::new(line.amount);
        // PostgreSQL keeps microseconds: compare what the database can hold.
        let posted_at = line.posted_at.trunc_subsecs(6);
        fe::Model {
            id: 0,
            account_id: self.account_id,
            connection_id: self.connection_id,
            event_key: line.key.clone(),
            posted_at,
            period: posted_at.date_naive(),
            sku: line.sku.clone(),
            order_id: line.order_id.clone(),
            event_type: line.event_type.clone(),
            kind: line.kind,
            component: line.component.clone(),
            currency: line.currency.clone(),
            amount,
            amount_units: units(amount),
            quantity: line.quantity,
            run_id: Some(self.run_id),
            created_at: now,
            updated_at: now,
        }
    }
}

/// Ten-thousandths of an amount (exact: money is kept at 4 places).
pub fn units(m: Money) -> i64 {
    let mut d = m.amount();
    d.rescale(entity::money::MONEY_SCALE);
    i64::try_from(d.mantissa()).unwrap_or(if d.is_sign_negative() {
        i64::MIN
    } else {
        i64::MAX
    })
}

fn same(a: &fe::Model, b: &fe::Model) -> bool {
    (
        &a.posted_at,
        &a.sku,
        &a.order_id,
        &a.event_type,
        a.kind,
        &a.component,
        &a.currency,
        a.amount,
        a.quantity,
    ) == (
        &b.posted_at,
        &b.sku,
        &b.order_id,
        &b.event_type,
        b.kind,
        &b.component,
        &b.currency,
        b.amount,
        b.quantity,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn units_are_exact_ten_thousandths() {
        assert_eq!(units(Money::new(Decimal::new(-1235, 2))), -123_500);
        assert_eq!(units(Money::new(Decimal::new(1, 4))), 1);
        assert_eq!(units(Money::new(Decimal::ZERO)), 0);
    }
}
