//! Per-connection schedules: cron expressions in the connection's time zone; missed ticks
//! coalesce into one run; a due run is enqueued once across instances; a schedule pauses
//! itself after repeated failures.

use super::{Jobs, StartRequest};
use crate::error::{AppError, AppResult};
use crate::store::Db;
use crate::sync::runner::RunParams;
use chrono::{DateTime, Utc};
use croner::Cron;
use entity::connection;
use entity::enums::{ConnectionHealth, RunMode, RunTrigger};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::time::Duration;

pub const TICK: Duration = Duration::from_secs(15);
/// Consecutive failed runs after which a schedule pauses itself.
pub const PAUSE_AFTER_FAILURES: i32 = 10;
/// Consecutive failed runs after which a due incremental tick runs a full sync instead.
pub const ESCALATE_AFTER_FAILURES: i32 = 3;

/// Whether nobody has set this connection's schedule yet and it has never fired: the
/// state a new connection is in until its first full sync succeeds. `setSchedule`
/// (either way) marks both ticks, so an admin's choice — including "off" — is kept.
pub fn untouched(c: &connection::Model) -> bool {
    !c.schedule_enabled && c.last_incremental_tick_at.is_none() && c.last_full_tick_at.is_none()
}

/// Turns an untouched schedule on, counting from now (guarded: once across instances and
/// never over an admin's choice). Returns whether it did.
pub async fn enable_by_default(
    db: &impl sea_orm::ConnectionTrait,
    c: &connection::Model,
) -> AppResult<bool> {
    let now = Utc::now();
    let res = connection::Entity::update_many()
        .col_expr(connection::Column::ScheduleEnabled, Expr::value(true))
        .col_expr(connection::Column::LastIncrementalTickAt, Expr::value(now))
        .col_expr(connection::Column::LastFullTickAt, Expr::value(now))
        .filter(connection::Column::Id.eq(c.id))
        .filter(connection::Column::ScheduleEnabled.eq(false))
        .filter(connection::Column::LastIncrementalTickAt.is_null())
        .filter(connection::Column::LastFullTickAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Pure: the mode a due tick runs. Incremental runs that keep failing escalate to a full
/// run (which also re-reads what an incremental cursor may have skipped).
pub fn escalate(mode: RunMode, consecutive_failures: i32) -> RunMode {
    if mode == RunMode::Incremental && consecutive_failures >= ESCALATE_AFTER_FAILURES {
        RunMode::Full
    } else {
        mode
    }
}

pub fn parse(expr: &str) -> AppResult<Cron> {
    expr.trim()
        .parse::<Cron>()
        .map_err(|e| AppError::bad_input(format!("invalid cron expression '{expr}': {e}")))
}

fn zone(name: &str) -> chrono_tz::Tz {
    name.parse().unwrap_or(chrono_tz::UTC)
}

/// The first tick of `expr` strictly after `after`, in the connection's time zone.
pub fn next_tick(expr: &str, tz: &str, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let cron = parse(expr).ok()?;
    let local = after.with_timezone(&zone(tz));
    cron.find_next_occurrence(&local, false)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// When this connection's schedule next fires (None when disabled or paused).
pub fn next_run(c: &connection::Model, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if !c.schedule_enabled || c.schedule_paused_reason.is_some() {
        return None;
    }
    // An overdue tick fires at the scheduler's next pass, i.e. now.
    let next = |expr: Option<&str>, last: Option<DateTime<Utc>>| {
        expr.and_then(|e| next_tick(e, &c.time_zone, last.unwrap_or(c.created_at)))
            .map(|t| std::cmp::max(t, now))
    };
    [
        next(c.incremental_cron.as_deref(), c.last_incremental_tick_at),
        next(c.full_cron.as_deref(), c.last_full_tick_at),
    ]
    .into_iter()
    .flatten()
    .min()
}

pub(super) async fn run_loop(jobs: Jobs) {
    let mut tick = tokio::time::interval(TICK);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = jobs.inner.shutdown.cancelled() => return,
        }
        if let Err(e) = jobs.scheduler_tick(Utc::now()).await {
            tracing::warn!("scheduler tick failed: {}", e.public_message());
        }
        if let Err(e) = jobs.feed_tick(Utc::now()).await {
            tracing::warn!("vendor feed tick failed: {}", e.public_message());
        }
    }
}

impl Jobs {
    /// Enqueues the runs that are due at `now` (public so tests can drive the clock).
    pub async fn scheduler_tick(&self, now: DateTime<Utc>) -> AppResult<Vec<i64>> {
        let db = &self.inner.db;
        // A connection that must be reconnected waits: its ticks stay unclaimed and
        // coalesce into one run once it is connected again.
        let due = connection::Entity::find()
            .filter(connection::Column::ScheduleEnabled.eq(true))
            .filter(connection::Column::SchedulePausedReason.is_null())
            .filter(connection::Column::Health.is_not_in([
                ConnectionHealth::NotConnected,
                ConnectionHealth::NeedsReauth,
            ]))
            .all(db)
            .await?;
        let mut started = Vec::new();
        for c in due {
            // Full first: when both are due, the full run covers the incremental one.
            for (mode, expr, last, column) in [
                (
                    RunMode::Full,
                    c.full_cron.as_deref(),
                    c.last_full_tick_at,
                    connection::Column::LastFullTickAt,
                ),
                (
                    RunMode::Incremental,
                    c.incremental_cron.as_deref(),
                    c.last_incremental_tick_at,
                    connection::Column::LastIncrementalTickAt,
                ),
            ] {
                let Some(expr) = expr else { continue };
                let since = last.unwrap_or(c.created_at);
                let Some(tick) = next_tick(expr, &c.time_zone, since) else {
                    continue;
                };
                if tick > now {
                    continue;
                }
                // Whoever moves the tick forward first enqueues; other instances see 0 rows.
                if !claim_tick(db, c.id, column, last, now).await? {
                    continue;
                }
                let run_mode = escalate(mode, c.consecutive_failures);
                let req = StartRequest {
                    mode: run_mode,
                    params: RunParams::default(),
                    dry_run: false,
                    trigger: RunTrigger::Schedule,
                    requested_by: None,
                    force: false,
                };
                let (run, already) = self.start_sync(c.account_id, c.id, req).await?;
                if !already {
                    if run_mode != mode {
                        let mut event = crate::sync::progress::RunEvent::info(
                            "schedule_escalated",
                            format!(
                                "{} consecutive failed runs: this scheduled incremental tick runs a full sync",
                                c.consecutive_failures
                            ),
                        );
                        event.level = entity::enums::EventLevel::Warn;
                        crate::store::sync_state::insert_events(
                            db,
                            c.account_id,
                            c.id,
                            run.id,
                            vec![event],
                        )
                        .await?;
                    }
                    started.push(run.id);
                }
                break;
            }
        }
        Ok(started)
    }
}

async fn claim_tick(
    db: &Db,
    connection_id: i64,
    column: connection::Column,
    last: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let mut q = connection::Entity::update_many()
        .col_expr(column, Expr::value(now))
        .filter(connection::Column::Id.eq(connection_id));
    q = match last {
        Some(t) => q.filter(Expr::col(column).eq(t)),
        None => q.filter(Expr::col(column).is_null()),
    };
    Ok(q.exec(db).await?.rows_affected == 1)
}

/// Sets a connection's schedule; (re-)enabling clears a self-pause (a PAUSED connection
/// becomes ACTIVE) and starts counting from now, so ticks missed while disabled do not fire.
pub async fn set_schedule(
    db: &Db,
    actor: &crate::auth::Caller,
    connection_id: i64,
    incremental: Option<String>,
    full: Option<String>,
    enabled: bool,
) -> AppResult<connection::Model> {
    use sea_orm::{ActiveModelTrait, Set};
    let c = crate::store::connections::get(db, actor.account_id, connection_id).await?;
    for expr in [&incremental, &full].into_iter().flatten() {
        parse(expr)?;
    }
    let now = Utc::now();
    let mut a: connection::ActiveModel = c.clone().into();
    if let Some(e) = incremental {
        a.incremental_cron = Set(Some(e.trim().to_owned()).filter(|s| !s.is_empty()));
    }
    if let Some(e) = full {
        a.full_cron = Set(Some(e.trim().to_owned()).filter(|s| !s.is_empty()));
    }
    if untouched(&c) {
        // Marks the schedule as the admin's: the first full sync will not turn it on.
        a.last_incremental_tick_at = Set(Some(now));
        a.last_full_tick_at = Set(Some(now));
    }
    if enabled && (!c.schedule_enabled || c.schedule_paused_reason.is_some()) {
        a.last_incremental_tick_at = Set(Some(now));
        a.last_full_tick_at = Set(Some(now));
        a.schedule_paused_reason = Set(None);
        a.consecutive_failures = Set(0);
    }
    a.schedule_enabled = Set(enabled);
    a.updated_at = Set(now);
    let txn = crate::store::db::begin_write(db).await?;
    let updated = a.update(&txn).await?;
    if enabled && c.health == ConnectionHealth::Paused {
        let cause = crate::sync::health::Cause::User(actor);
        crate::sync::health::set(&txn, &c, ConnectionHealth::Active, None, cause).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn next_tick_respects_the_time_zone() {
        let after = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
        assert_eq!(
            next_tick("0 2 * * *", "UTC", after),
            Some(Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap())
        );
        // 02:00 in New York is 07:00 UTC in November.
        assert_eq!(
            next_tick("0 2 * * *", "America/New_York", after),
            Some(Utc.with_ymd_and_hms(2026, 11, 23, 7, 0, 0).unwrap())
        );
        assert_eq!(
            next_tick("*/15 * * * *", "UTC", after),
            Some(Utc.with_ymd_and_hms(2026, 11, 22, 12, 15, 0).unwrap())
        );
        assert!(parse("not a cron").is_err());
    }
}
