//! Conflict review and resolution: `merge` builds the chosen record (pure), `resolve`
//! applies one resolution. This module is the entry point for GraphQL (one conflict, at
//! once) and for the job system (many conflicts, as a `resolve` run with progress).

pub mod merge;
pub mod resolve;

use super::progress::{Counters, Reporter, RunEvent, Tracker};
use crate::auth::Caller;
use crate::connectors::registry::Registry;
use crate::error::{AppError, AppResult};
use crate::store::{self, Db, sync_state as state};
use entity::enums::{ConflictStatus, Resolution};
use entity::sync_run;
pub use resolve::{Request, Resolved};
use tokio_util::sync::CancellationToken;

/// Most conflicts one bulk resolution takes.
pub const MAX_BULK: usize = 5_000;

/// Resolves one conflict now. Refused while a run of its connection is active, so a
/// resolution and a sync never write the same link at once.
pub async fn resolve_now(
    db: &Db,
    registry: &Registry,
    actor: &Caller,
    conflict_id: i64,
    req: Request,
) -> AppResult<Resolved> {
    let conflict = store::conflicts::get(db, actor.account_id, conflict_id).await?;
    if let Some(run) = store::runs::active_for_connection(db, conflict.connection_id).await? {
        return Err(AppError::SyncInProgress { run_id: run.id });
    }
    let connection = store::connections::get(db, actor.account_id, conflict.connection_id).await?;
    super::health::check_connected(&connection)?;
    let connector = registry.connector_for(db, &connection).await?;
    resolve::resolve(db, connector.as_ref(), actor, conflict_id, req).await
}

/// Checks a bulk request before its run is queued: open conflicts of one connection.
pub async fn check_bulk(
    db: &Db,
    account_id: i64,
    ids: &[i64],
    resolution: Resolution,
) -> AppResult<i64> {
    if ids.is_empty() {
        return Err(AppError::bad_input("ids must not be empty"));
    }
    if ids.len() > MAX_BULK {
        return Err(AppError::bad_input(format!(
            "at most {MAX_BULK} conflicts per bulk resolution"
        )));
    }
    if resolution == Resolution::Merged {
        return Err(AppError::bad_input(
            "MERGED needs per-field picks; resolve merges one at a time with resolveConflict",
        ));
    }
    let found = store::conflicts::get_many(db, account_id, ids).await?;
    if let Some(missing) = ids.iter().find(|id| !found.iter().any(|c| c.id == **id)) {
        return Err(AppError::not_found("conflict", missing));
    }
    let mut connections: Vec<i64> = found.iter().map(|c| c.connection_id).collect();
    connections.sort_unstable();
    connections.dedup();
    match connections.as_slice() {
        [one] => Ok(*one),
        _ => Err(AppError::bad_input(
            "a bulk resolution takes conflicts of one connection; filter by connection first",
        )),
    }
}

/// Executes a `resolve` run: each conflict in turn, stale or failing ones recorded as
/// events while the rest go on.
pub async fn run_bulk(
    db: &Db,
    registry: &Registry,
    run: &sync_run::Model,
    ids: &[i64],
    resolution: Resolution,
    reporter: &dyn Reporter,
    cancel: &CancellationToken,
) -> AppResult<Counters> {
    let actor = run_actor(db, run).await?;
    let connection = store::connections::get(db, run.account_id, run.connection_id).await?;
    let connector = registry.connector_for(db, &connection).await?;
    let tracker = Tracker::new(reporter);
    tracker.expect(ids.len() as u64);
    tracker.stage("resolving conflicts", 0);
    // Resumed after a crash: conflicts resolved before it are simply skipped.
    let open: std::collections::HashSet<i64> = store::conflicts::get_many(db, run.account_id, ids)
        .await?
        .into_iter()
        .filter(|c| c.status == ConflictStatus::Open)
        .map(|c| c.id)
        .collect();
    for &id in ids {
        if cancel.is_cancelled() {
            return Err(AppError::Cancelled("cancelled while resolving".into()));
        }
        let mut delta = Counters {
            fetched: 1,
            ..Default::default()
        };
        if !open.contains(&id) {
            delta.skipped = 1;
            tracker.page_done("resolving conflicts", &delta);
            continue;
        }
        let req = Request {
            resolution,
            picks: Default::default(),
            comment: Some(format!("bulk resolution, run {}", run.id)),
        };
        let event = match resolve::resolve(db, connector.as_ref(), &actor, id, req).await {
            Ok(done) => {
                delta.updated = 1;
                match done.push_error {
                    Some(e) => {
                        delta.errors = 1;
                        Some(RunEvent::error(
                            "push_failed",
                            format!("conflict {id}: {e}; the item stays pending push"),
                        ))
                    }
                    None => {
                        delta.pushed = i64::from(resolution == Resolution::UseLocal);
                        None
                    }
                }
                .map(|e| e.for_record(Some(done.conflict.item_id), None, None))
            }
            Err(AppError::ConflictStale(message)) => {
                delta.conflicts = 1;
                Some(RunEvent::info("conflict_stale", message))
            }
            Err(
                e @ (AppError::Upstream(_) | AppError::BadUserInput(_) | AppError::NotFound(_)),
            ) => {
                delta.errors = 1;
                Some(RunEvent::error(
                    "resolve_failed",
                    format!("conflict {id}: {}", e.public_message()),
                ))
            }
            Err(e) => return Err(e),
        };
        if let Some(event) = event {
            state::insert_events(db, run.account_id, run.connection_id, run.id, vec![event])
                .await?;
        }
        tracker.page_done("resolving conflicts", &delta);
    }
    Ok(tracker.counters())
}

/// The user who asked for the run, as the actor recorded on each resolution.
async fn run_actor(db: &Db, run: &sync_run::Model) -> AppResult<Caller> {
    let user_id = run
        .requested_by
        .ok_or_else(|| AppError::internal("resolve run without a requesting user"))?;
    let user = store::users::get(db, run.account_id, user_id).await?;
    Ok(Caller::for_user(&user))
}
