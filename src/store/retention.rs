//! Pruning old run history: runs that ended before a cutoff go, with their events, except
//! what something still points at — each connection's last successful full run (the base
//! of the next deletions and what the dashboard shows), runs a conflict, an audit entry,
//! a vendor price or a vendor feed refers to.

use crate::error::AppResult;
use entity::enums::{RunMode, RunStatus};
use entity::{audit_log, conflict, sync_event, sync_run, vendor_feed, vendor_price};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// Runs deleted per statement (well under SQLite's bound-parameter limit).
const CHUNK: u64 = 500;

/// What one pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub runs: u64,
    pub events: u64,
}

/// Deletes runs that ended before `cutoff` and their events, keeping what is referenced;
/// in chunks, each in its own transaction, so writers are never held up for long.
pub async fn prune(
    db: &crate::store::Db,
    cutoff: chrono::DateTime<chrono::Utc>,
) -> AppResult<Pruned> {
    let mut total = Pruned::default();
    loop {
        let txn = crate::store::db::begin_write(db).await?;
        let ids = prunable(&txn, cutoff).await?;
        if ids.is_empty() {
            txn.commit().await?;
            return Ok(total);
        }
        let events = sync_event::Entity::delete_many()
            .filter(sync_event::Column::RunId.is_in(ids.iter().copied()))
            .exec(&txn)
            .await?;
        let runs = sync_run::Entity::delete_many()
            .filter(sync_run::Column::Id.is_in(ids.iter().copied()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        total.runs += runs.rows_affected;
        total.events += events.rows_affected;
        if (ids.len() as u64) < CHUNK {
            return Ok(total);
        }
    }
}

/// The next chunk of runs that may go.
async fn prunable(
    db: &impl ConnectionTrait,
    cutoff: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<i64>> {
    use sync_run::Column as R;
    let mut last_full = Query::select();
    last_full
        .expr(R::Id.max())
        .from(sync_run::Entity)
        .and_where(R::Mode.eq(RunMode::Full.as_str()))
        .and_where(R::Status.eq(RunStatus::Succeeded.as_str()))
        .and_where(R::DryRun.eq(false))
        .group_by_col(R::ConnectionId);
    let mut of_conflicts = Query::select();
    of_conflicts
        .column(conflict::Column::RunId)
        .from(conflict::Entity)
        .and_where(conflict::Column::RunId.is_not_null());
    let mut of_prices = Query::select();
    of_prices
        .column(vendor_price::Column::ImportRunId)
        .from(vendor_price::Entity)
        .and_where(vendor_price::Column::ImportRunId.is_not_null());
    let mut of_feeds = Query::select();
    of_feeds
        .column(vendor_feed::Column::LastRunId)
        .from(vendor_feed::Entity)
        .and_where(vendor_feed::Column::LastRunId.is_not_null());
    let mut in_audit = Query::select();
    in_audit
        .expr(Expr::val(1))
        .from(audit_log::Entity)
        .and_where(Expr::col((audit_log::Entity, audit_log::Column::EntityType)).eq("sync_run"))
        .and_where(
            Expr::col((audit_log::Entity, audit_log::Column::EntityId)).eq(Expr::col((
                sync_run::Entity,
                R::Id,
            ))
            .cast_as("TEXT")),
        );
    Ok(sync_run::Entity::find()
        .select_only()
        .column(R::Id)
        .filter(R::FinishedAt.lt(cutoff))
        .filter(R::Status.is_not_in([RunStatus::Queued, RunStatus::Running]))
        .filter(R::Id.not_in_subquery(last_full.to_owned()))
        .filter(R::Id.not_in_subquery(of_conflicts.to_owned()))
        .filter(R::Id.not_in_subquery(of_prices.to_owned()))
        .filter(R::Id.not_in_subquery(of_feeds.to_owned()))
        .filter(Expr::exists(in_audit.to_owned()).not())
        .order_by_asc(R::Id)
        .limit(CHUNK)
        .into_tuple()
        .all(db)
        .await?)
}
