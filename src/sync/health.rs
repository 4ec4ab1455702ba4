//! Connection health: whether a connection can sync now, as the engine last found it.
//!
//! - `ACTIVE`: nothing known to be wrong.
//! - `NOT_CONNECTED`: an OAuth provider (Jobber, Amazon) without consent yet.
//! - `NEEDS_REAUTH`: the provider refused the stored credentials, even after a refresh.
//! - `FAILING`: the last [`FAILING_AFTER`] runs failed.
//! - `PAUSED`: the schedule paused itself after [`schedule::PAUSE_AFTER_FAILURES`]
//!   failed runs in a row.
//!
//! While NOT_CONNECTED or NEEDS_REAUTH, `startSync` answers `RECONNECT_REQUIRED`,
//! scheduled runs wait, and CSV imports leave their pushes waiting. A successful run, an
//! OAuth consent or new credentials make the connection ACTIVE again.
//!
//! Every change goes through [`set`], which records it (an audit entry, and a run event
//! when a run caused it): the one place to hook alerts and escalation onto.

use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::jobs::schedule;
use crate::store::{self, sync_state as state};
use crate::sync::progress::RunEvent;
use entity::enums::{ConnectionHealth, EventLevel, RunStatus};
use entity::{connection, sync_run};
use sea_orm::ConnectionTrait;

/// Consecutive failed runs after which a connection is FAILING.
pub const FAILING_AFTER: i32 = 3;

/// What made the health change: recorded with it.
#[derive(Clone, Copy)]
pub enum Cause<'a> {
    /// A run's outcome.
    Run(&'a sync_run::Model),
    /// A signed-in user (new credentials, schedule re-enabled, connection created).
    User(&'a Caller),
    /// The end of an OAuth consent by this user.
    OAuth { user_id: i64 },
}

/// The health name as the API spells it (`NEEDS_REAUTH`).
pub fn api_name(h: ConnectionHealth) -> String {
    h.as_str().to_uppercase()
}

/// Moves a connection to `to` (with `reason`) unless it is there already; records the
/// change. Returns whether it changed. Guarded on the current value, so two instances
/// reacting to the same outcome record it once.
pub async fn set(
    db: &impl ConnectionTrait,
    conn: &connection::Model,
    to: ConnectionHealth,
    reason: Option<String>,
    cause: Cause<'_>,
) -> AppResult<bool> {
    if conn.health == to && conn.health_reason == reason {
        return Ok(false);
    }
    let changed =
        store::connections::set_health(db, conn.id, conn.health, to, reason.as_deref()).await?;
    if !changed || conn.health == to {
        return Ok(changed);
    }
    metrics::counter!("connection_health_changes_total", "health" => to.as_str()).increment(1);
    tracing::info!(
        connection_id = conn.id,
        from = conn.health.as_str(),
        to = to.as_str(),
        "connection health changed"
    );
    let details = serde_json::json!({
        "from": api_name(conn.health),
        "to": api_name(to),
        "reason": reason,
        "runId": match cause { Cause::Run(r) => Some(r.id), _ => None },
    });
    let (user_id, actor) = match cause {
        Cause::Run(_) => (None, "sync".to_owned()),
        Cause::User(c) => (Some(c.user_id), c.email.clone()),
        Cause::OAuth { user_id } => (Some(user_id), "oauth".to_owned()),
    };
    store::audit::record_raw(
        db,
        conn.account_id,
        user_id,
        &actor,
        "connection.health",
        Some(("connection", conn.id.to_string())),
        details,
    )
    .await?;
    // Queued in this transaction: sent if and only if the change commits.
    crate::alerts::health_changed(
        db,
        conn,
        &api_name(conn.health),
        &api_name(to),
        reason.as_deref(),
    )
    .await?;
    if let Cause::Run(run) = cause {
        let mut event = RunEvent::info(
            "connection_health",
            format!(
                "connection health {} → {}{}",
                api_name(conn.health),
                api_name(to),
                reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
        );
        if to != ConnectionHealth::Active {
            event.level = EventLevel::Warn;
        }
        state::insert_events(db, run.account_id, run.connection_id, run.id, vec![event]).await?;
    }
    Ok(true)
}

/// Refuses work that needs the upstream while nobody can talk to it.
pub fn check_connected(conn: &connection::Model) -> AppResult<()> {
    match conn.health {
        ConnectionHealth::NotConnected => Err(AppError::ReconnectRequired(format!(
            "connection '{}' is not connected yet: approve access first (startOAuth)",
            conn.name
        ))),
        ConnectionHealth::NeedsReauth => Err(AppError::ReconnectRequired(format!(
            "connection '{}' must be reconnected: {}",
            conn.name,
            conn.health_reason
                .as_deref()
                .unwrap_or("the provider refused its credentials")
        ))),
        _ => Ok(()),
    }
}

/// What a finished run does to its connection.
#[derive(Debug, Clone, PartialEq)]
pub struct AfterRun {
    pub consecutive_failures: i32,
    /// `Some(reason)`: pause the schedule; `Some(None)` below means "clear the pause".
    pub schedule_paused_reason: Option<Option<String>>,
    pub health: Option<(ConnectionHealth, Option<String>)>,
    /// The connection's first successful full sync: turn its schedule on (see
    /// [`schedule::untouched`]).
    pub enable_schedule: bool,
}

/// Pure: the connection's counters, schedule pause and health after `run` finished.
pub fn after_run(conn: &connection::Model, run: &sync_run::Model) -> Option<AfterRun> {
    // A vendor feed downloads from the vendor, not from the connection's upstream: its
    // outcome says nothing about the connection (a success must not clear NEEDS_REAUTH).
    if run.mode == entity::enums::RunMode::VendorFeed {
        return None;
    }
    let last = run.error.clone().unwrap_or_else(|| "unknown error".into());
    match run.status {
        RunStatus::Succeeded => Some(AfterRun {
            consecutive_failures: 0,
            schedule_paused_reason: conn.schedule_paused_reason.is_some().then_some(None),
            health: Some((ConnectionHealth::Active, None)),
            enable_schedule: run.mode == entity::enums::RunMode::Full
                && !run.dry_run
                && schedule::untouched(conn),
        }),
        RunStatus::Failed | RunStatus::Interrupted => {
            let failures = conn.consecutive_failures + 1;
            let pause = failures >= schedule::PAUSE_AFTER_FAILURES
                && conn.schedule_enabled
                && conn.schedule_paused_reason.is_none();
            let paused = pause || conn.schedule_paused_reason.is_some();
            let health = if run.error_code.as_deref() == Some("UPSTREAM_UNAUTHORIZED") {
                Some((ConnectionHealth::NeedsReauth, Some(last.clone())))
            } else if conn.health.needs_connecting() {
                // Only a reconnect or a successful run clears those.
                None
            } else if paused {
                Some((
                    ConnectionHealth::Paused,
                    Some(format!(
                        "schedule paused after {failures} consecutive failed runs; last error: {last}"
                    )),
                ))
            } else if failures >= FAILING_AFTER {
                Some((
                    ConnectionHealth::Failing,
                    Some(format!(
                        "{failures} consecutive failed runs; last error: {last}"
                    )),
                ))
            } else {
                None
            };
            Some(AfterRun {
                consecutive_failures: failures,
                schedule_paused_reason: pause.then(|| {
                    Some(format!(
                        "paused after {failures} consecutive failed runs; last error: {last}"
                    ))
                }),
                health,
                enable_schedule: false,
            })
        }
        _ => None,
    }
}

/// Marks a run finished and applies its consequences to its connection in the same
/// transaction, so whoever sees the run finished also sees the connection's failure count,
/// schedule and health that follow from it. A failure to apply the consequences is logged
/// and rolled back alone (a savepoint): the run is still recorded as finished.
pub async fn finish_run(
    db: &store::Db,
    run_id: i64,
    finish: store::runs::Finish<'_>,
) -> AppResult<sync_run::Model> {
    use sea_orm::TransactionTrait;
    let txn = store::db::begin_write(db).await?;
    let done = store::runs::finish(&txn, run_id, finish).await?;
    let savepoint = txn.begin().await?;
    match record_run_outcome(&savepoint, &done).await {
        Ok(()) => savepoint.commit().await?,
        Err(e) => {
            tracing::warn!(
                run_id,
                "recording the run outcome failed: {}",
                e.public_message()
            );
            savepoint.rollback().await?;
        }
    }
    txn.commit().await?;
    Ok(done)
}

/// Applies a finished run's consequences to its connection (failure count, schedule
/// pause, health), inside the transaction that finishes it ([`finish_run`]).
async fn record_run_outcome(txn: &impl ConnectionTrait, run: &sync_run::Model) -> AppResult<()> {
    let conn = store::connections::get_unscoped(txn, run.connection_id).await?;
    let Some(after) = after_run(&conn, run) else {
        return Ok(());
    };
    let unchanged = after.consecutive_failures == conn.consecutive_failures
        && after.schedule_paused_reason.is_none()
        && !after.enable_schedule
        && after
            .health
            .as_ref()
            .is_none_or(|(h, r)| *h == conn.health && *r == conn.health_reason);
    if unchanged {
        return Ok(());
    }
    store::connections::record_failures(
        txn,
        conn.id,
        after.consecutive_failures,
        after.schedule_paused_reason,
    )
    .await?;
    if after.enable_schedule && schedule::enable_by_default(txn, &conn).await? {
        let event = RunEvent::info(
            "schedule_enabled",
            format!(
                "first full sync succeeded: schedule on (incremental '{}', full '{}', time zone {})",
                conn.incremental_cron.as_deref().unwrap_or("none"),
                conn.full_cron.as_deref().unwrap_or("none"),
                conn.time_zone
            ),
        );
        state::insert_events(txn, run.account_id, run.connection_id, run.id, vec![event]).await?;
    }
    if let Some((health, reason)) = after.health {
        set(txn, &conn, health, reason, Cause::Run(run)).await?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A connection fixture (also used by `push_on_save`'s tests).
    pub(crate) fn conn(
        failures: i32,
        health: ConnectionHealth,
        scheduled: bool,
    ) -> connection::Model {
        let now = chrono::Utc::now();
        connection::Model {
            id: 1,
            account_id: 1,
            provider: entity::enums::Provider::ServiceTitan,
            name: "st".into(),
            config: serde_json::json!({}),
            directions: serde_json::json!({}),
            status: entity::enums::ConnectionStatus::Active,
            time_zone: "UTC".into(),
            incremental_cron: None,
            full_cron: None,
            schedule_enabled: scheduled,
            schedule_paused_reason: None,
            consecutive_failures: failures,
            last_incremental_tick_at: None,
            last_full_tick_at: None,
            auto_merge_disjoint: false,
            health,
            health_reason: None,
            health_changed_at: None,
            adoption_policy: entity::enums::AdoptionPolicy::Conflict,
            sync_policy: serde_json::json!({}),
            push_on_save: true,
            created_at: now,
            updated_at: now,
        }
    }

    /// A run fixture (also used by `push_on_save`'s tests).
    pub(crate) fn run(status: RunStatus, code: Option<&str>) -> sync_run::Model {
        let now = chrono::Utc::now();
        sync_run::Model {
            id: 9,
            account_id: 1,
            connection_id: 1,
            mode: entity::enums::RunMode::Incremental,
            status,
            trigger: entity::enums::RunTrigger::Schedule,
            dry_run: false,
            params: serde_json::json!({}),
            progress: 0,
            stage: String::new(),
            fetched: 0,
            created: 0,
            updated: 0,
            deleted: 0,
            pushed: 0,
            conflicts: 0,
            skipped: 0,
            errors: 0,
            reimbursements: 0,
            ledger_events: 0,
            claims_detected: 0,
            checkpoint: serde_json::json!({}),
            summary: serde_json::json!({}),
            cancel_requested: false,
            lease_owner: None,
            lease_expires_at: None,
            attempts: 1,
            error: code.map(|_| "boom".to_owned()),
            error_code: code.map(str::to_owned),
            requested_by: None,
            queued_at: now,
            started_at: None,
            finished_at: None,
            updated_at: now,
            entity_types: None,
        }
    }

    fn health_after(c: &connection::Model, r: &sync_run::Model) -> Option<ConnectionHealth> {
        after_run(c, r).and_then(|a| a.health).map(|(h, _)| h)
    }

    #[test]
    fn failures_make_a_connection_failing_then_paused() {
        let failed = run(RunStatus::Failed, Some("UPSTREAM_ERROR"));
        assert_eq!(
            health_after(&conn(0, ConnectionHealth::Active, true), &failed),
            None
        );
        assert_eq!(
            health_after(
                &conn(FAILING_AFTER - 1, ConnectionHealth::Active, true),
                &failed
            ),
            Some(ConnectionHealth::Failing)
        );
        let at_pause = conn(
            schedule::PAUSE_AFTER_FAILURES - 1,
            ConnectionHealth::Failing,
            true,
        );
        let after = after_run(&at_pause, &failed).unwrap();
        assert_eq!(after.health.unwrap().0, ConnectionHealth::Paused);
        assert!(
            after
                .schedule_paused_reason
                .unwrap()
                .unwrap()
                .contains("10 consecutive")
        );
        // Without a schedule there is nothing to pause: still failing.
        let unscheduled = conn(
            schedule::PAUSE_AFTER_FAILURES - 1,
            ConnectionHealth::Failing,
            false,
        );
        assert_eq!(
            health_after(&unscheduled, &failed),
            Some(ConnectionHealth::Failing)
        );
    }

    #[test]
    fn refused_credentials_need_a_reconnect_and_success_clears_everything() {
        let refused = run(RunStatus::Failed, Some("UPSTREAM_UNAUTHORIZED"));
        assert_eq!(
            health_after(&conn(0, ConnectionHealth::Active, false), &refused),
            Some(ConnectionHealth::NeedsReauth)
        );
        // Another failure does not hide that someone must reconnect.
        let other = run(RunStatus::Failed, Some("UPSTREAM_ERROR"));
        assert_eq!(
            health_after(&conn(5, ConnectionHealth::NeedsReauth, false), &other),
            None
        );
        let mut paused = conn(10, ConnectionHealth::Paused, true);
        paused.schedule_paused_reason = Some("paused".into());
        let after = after_run(&paused, &run(RunStatus::Succeeded, None)).unwrap();
        assert_eq!(after.consecutive_failures, 0);
        assert_eq!(after.schedule_paused_reason, Some(None));
        assert_eq!(after.health.unwrap().0, ConnectionHealth::Active);
        assert!(after_run(&paused, &run(RunStatus::Cancelled, None)).is_none());
    }
}
