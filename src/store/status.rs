//! A connection's sync health in numbers: links per entity type and state, open conflicts
//! per entity type, the latest run of each mode, and the newest errors. Each figure is
//! one grouped statement, so a dashboard's status costs the same for 10 or 100,000 items.

use crate::error::AppResult;
use entity::enums::{ConflictStatus, EventLevel, LinkStatus, RunMode, RunStatus};
use entity::{conflict, item_link, sync_event, sync_run};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect, RelationDef,
};
use std::collections::BTreeMap;

/// The numbers of one entity type of a connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntityNumbers {
    pub entity_type: String,
    /// Linked records not deleted upstream.
    pub total: i64,
    pub synced: i64,
    pub pending_push: i64,
    /// Open conflicts of the entity type's records.
    pub conflicts: i64,
    /// Records whose last sync failed.
    pub errors: i64,
}

/// Per entity type, in name order: link states (records deleted upstream left out) and
/// open conflicts.
pub async fn entity_numbers(
    db: &impl ConnectionTrait,
    connection_id: i64,
) -> AppResult<Vec<EntityNumbers>> {
    let links: Vec<(String, String, i64)> = item_link::Entity::find()
        .select_only()
        .column(item_link::Column::EntityType)
        .column(item_link::Column::SyncStatus)
        .column_as(item_link::Column::Id.count(), "n")
        .filter(item_link::Column::ConnectionId.eq(connection_id))
        .filter(item_link::Column::DeletedRemotely.eq(false))
        .group_by(item_link::Column::EntityType)
        .group_by(item_link::Column::SyncStatus)
        .into_tuple()
        .all(db)
        .await?;
    let conflicts: Vec<(String, i64)> = conflict::Entity::find()
        .select_only()
        .column_as(
            Expr::col((item_link::Entity, item_link::Column::EntityType)),
            "entity_type",
        )
        .column_as(conflict::Column::Id.count(), "n")
        .join(JoinType::InnerJoin, conflict_link())
        .filter(conflict::Column::ConnectionId.eq(connection_id))
        .filter(conflict::Column::Status.eq(ConflictStatus::Open))
        .group_by(Expr::col((
            item_link::Entity,
            item_link::Column::EntityType,
        )))
        .into_tuple()
        .all(db)
        .await?;
    Ok(tally(links, conflicts))
}

/// `conflicts.link_id = item_links.id`.
fn conflict_link() -> RelationDef {
    conflict::Entity::belongs_to(item_link::Entity)
        .from(conflict::Column::LinkId)
        .to(item_link::Column::Id)
        .into()
}

/// Folds grouped counts into one row per entity type.
fn tally(links: Vec<(String, String, i64)>, conflicts: Vec<(String, i64)>) -> Vec<EntityNumbers> {
    fn row<'a>(by_type: &'a mut BTreeMap<String, EntityNumbers>, t: &str) -> &'a mut EntityNumbers {
        by_type
            .entry(t.to_owned())
            .or_insert_with(|| EntityNumbers {
                entity_type: t.to_owned(),
                ..Default::default()
            })
    }
    let mut by_type = BTreeMap::new();
    for (t, status, n) in links {
        let r = row(&mut by_type, &t);
        r.total += n;
        match status.parse::<LinkStatus>() {
            Ok(LinkStatus::Synced) => r.synced += n,
            Ok(LinkStatus::PendingPush) => r.pending_push += n,
            Ok(LinkStatus::Error) => r.errors += n,
            _ => {}
        }
    }
    for (t, n) in conflicts {
        row(&mut by_type, &t).conflicts += n;
    }
    by_type.into_values().collect()
}

/// The newest run of `mode` that ended (dry runs left out: they change nothing).
pub async fn last_ended_run(
    db: &impl ConnectionTrait,
    connection_id: i64,
    mode: RunMode,
) -> AppResult<Option<sync_run::Model>> {
    newest_real_run(
        db,
        connection_id,
        Condition::all()
            .add(sync_run::Column::Mode.eq(mode))
            .add(sync_run::Column::Status.is_not_in([RunStatus::Queued, RunStatus::Running])),
    )
    .await
}

/// The newest run that succeeded, of any mode (dry runs left out), record errors or not.
pub async fn last_succeeded_run(
    db: &impl ConnectionTrait,
    connection_id: i64,
) -> AppResult<Option<sync_run::Model>> {
    newest_real_run(
        db,
        connection_id,
        Condition::all().add(sync_run::Column::Status.eq(RunStatus::Succeeded)),
    )
    .await
}

/// The newest non-dry run of a connection matching `condition`.
async fn newest_real_run(
    db: &impl ConnectionTrait,
    connection_id: i64,
    condition: Condition,
) -> AppResult<Option<sync_run::Model>> {
    Ok(sync_run::Entity::find()
        .filter(sync_run::Column::ConnectionId.eq(connection_id))
        .filter(sync_run::Column::DryRun.eq(false))
        .filter(condition)
        .order_by_desc(sync_run::Column::Id)
        .one(db)
        .await?)
}

/// One problem of a connection's recent history: a failed run or a record's error.
#[derive(Debug, Clone, PartialEq)]
pub struct RecentError {
    pub at: chrono::DateTime<chrono::Utc>,
    pub run_id: i64,
    /// `run_failed` for a run's own failure, else the event's kind (e.g. `push_failed`).
    pub kind: String,
    pub message: String,
    pub item_id: Option<i64>,
    pub remote_id: Option<String>,
    pub code: Option<String>,
}

/// The newest `limit` errors of a connection: failed or interrupted runs and error events,
/// newest first.
pub async fn recent_errors(
    db: &impl ConnectionTrait,
    connection_id: i64,
    limit: u64,
) -> AppResult<Vec<RecentError>> {
    let runs = sync_run::Entity::find()
        .filter(sync_run::Column::ConnectionId.eq(connection_id))
        .filter(sync_run::Column::Status.is_in([RunStatus::Failed, RunStatus::Interrupted]))
        .filter(sync_run::Column::Error.is_not_null())
        .order_by_desc(sync_run::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let events = sync_event::Entity::find()
        .filter(sync_event::Column::ConnectionId.eq(connection_id))
        .filter(sync_event::Column::Level.eq(EventLevel::Error))
        .order_by_desc(sync_event::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let from_runs = runs.into_iter().map(|r| RecentError {
        at: r.finished_at.unwrap_or(r.updated_at),
        run_id: r.id,
        kind: "run_failed".into(),
        message: r.error.unwrap_or_default(),
        item_id: None,
        remote_id: None,
        code: r.error_code,
    });
    let from_events = events.into_iter().map(|e| RecentError {
        at: e.created_at,
        run_id: e.run_id,
        kind: e.kind,
        message: e.message,
        item_id: e.item_id,
        remote_id: e.remote_id,
        code: e.code,
    });
    Ok(newest(
        from_runs.chain(from_events).collect(),
        limit as usize,
    ))
}

/// The `limit` newest, newest first; a run's own failure after its events at equal times.
fn newest(mut all: Vec<RecentError>, limit: usize) -> Vec<RecentError> {
    all.sort_by(|a, b| {
        b.at.cmp(&a.at)
            .then(b.run_id.cmp(&a.run_id))
            .then((b.kind == "run_failed").cmp(&(a.kind == "run_failed")))
    });
    all.truncate(limit);
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn tally_folds_states_and_conflicts_per_entity_type() {
        let rows = tally(
            vec![
                ("materials".into(), "synced".into(), 5),
                ("materials".into(), "pending_push".into(), 2),
                ("materials".into(), "error".into(), 1),
                ("materials".into(), "conflict".into(), 3),
                ("services".into(), "synced".into(), 4),
            ],
            vec![("materials".into(), 3), ("equipment".into(), 1)],
        );
        assert_eq!(
            rows,
            vec![
                EntityNumbers {
                    entity_type: "equipment".into(),
                    conflicts: 1,
                    ..Default::default()
                },
                EntityNumbers {
                    entity_type: "materials".into(),
                    total: 11,
                    synced: 5,
                    pending_push: 2,
                    conflicts: 3,
                    errors: 1,
                },
                EntityNumbers {
                    entity_type: "services".into(),
                    total: 4,
                    synced: 4,
                    ..Default::default()
                },
            ]
        );
    }

    #[test]
    fn newest_errors_come_first_and_are_limited() {
        let at = |s: u32| chrono::Utc.with_ymd_and_hms(2026, 12, 4, 10, 0, s).unwrap();
        let e = |s: u32, run: i64, kind: &str| RecentError {
            at: at(s),
            run_id: run,
            kind: kind.into(),
            message: String::new(),
            item_id: None,
            remote_id: None,
            code: None,
        };
        let picked = newest(
            vec![
                e(1, 1, "push_failed"),
                e(5, 2, "push_failed"),
                e(5, 2, "run_failed"),
                e(3, 1, "run_failed"),
            ],
            3,
        );
        let order: Vec<(u32, &str)> = picked
            .iter()
            .map(|p| (chrono::Timelike::second(&p.at), p.kind.as_str()))
            .collect();
        assert_eq!(
            order,
            vec![(5, "run_failed"), (5, "push_failed"), (3, "run_failed")]
        );
    }
}
