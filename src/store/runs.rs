//! Sync run rows: created, checkpointed, progressed and finished here.

use crate::error::{AppError, AppResult};
use crate::sync::progress::Counters;
use entity::enums::{RunMode, RunStatus, RunTrigger};
use entity::sync_run;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

pub struct NewRun {
    pub account_id: i64,
    pub connection_id: i64,
    pub mode: RunMode,
    pub trigger: RunTrigger,
    pub dry_run: bool,
    pub params: serde_json::Value,
    pub requested_by: Option<i64>,
    pub status: RunStatus,
}

pub async fn create(db: &impl ConnectionTrait, new: NewRun) -> AppResult<sync_run::Model> {
    let now = chrono::Utc::now();
    let running = new.status == RunStatus::Running;
    let entity_types = delimited_entity_types(&new.params);
    Ok(sync_run::ActiveModel {
        account_id: Set(new.account_id),
        connection_id: Set(new.connection_id),
        mode: Set(new.mode),
        status: Set(new.status),
        trigger: Set(new.trigger),
        dry_run: Set(new.dry_run),
        params: Set(new.params),
        progress: Set(0),
        stage: Set(if running {
            "starting".into()
        } else {
            "queued".into()
        }),
        fetched: Set(0),
        created: Set(0),
        updated: Set(0),
        deleted: Set(0),
        pushed: Set(0),
        conflicts: Set(0),
        skipped: Set(0),
        errors: Set(0),
        reimbursements: Set(0),
        ledger_events: Set(0),
        claims_detected: Set(0),
        checkpoint: Set(serde_json::json!({})),
        summary: Set(serde_json::json!({})),
        cancel_requested: Set(false),
        lease_owner: Set(None),
        lease_expires_at: Set(None),
        attempts: Set(if running { 1 } else { 0 }),
        error: Set(None),
        error_code: Set(None),
        requested_by: Set(new.requested_by),
        queued_at: Set(now),
        started_at: Set(running.then_some(now)),
        finished_at: Set(None),
        updated_at: Set(now),
        entity_types: Set(entity_types),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// `params.entityTypes` as `,materials,services,`; None when the run is not limited.
fn delimited_entity_types(params: &serde_json::Value) -> Option<String> {
    let names: Vec<&str> = params
        .get("entityTypes")?
        .as_array()?
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    (!names.is_empty()).then(|| format!(",{},", names.join(",")))
}

pub async fn get(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: i64,
) -> AppResult<sync_run::Model> {
    sync_run::Entity::find_by_id(id)
        .filter(sync_run::Column::AccountId.eq(account_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("sync run", id))
}

pub async fn save_checkpoint(
    db: &impl ConnectionTrait,
    run_id: i64,
    checkpoint: serde_json::Value,
) -> AppResult<()> {
    sync_run::Entity::update_many()
        .col_expr(sync_run::Column::Checkpoint, Expr::value(checkpoint))
        .filter(sync_run::Column::Id.eq(run_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Saves a running run's stage, percent and counters (the worker's heartbeat). Guarded in
/// SQL: a run that already ended is never written (a heartbeat racing the finish loses),
/// nor one another worker has taken over (`owner`: the lease holder writing; `None` for a
/// run executed in the foreground without a lease). Returns whether it was written.
pub async fn save_progress(
    db: &impl ConnectionTrait,
    run_id: i64,
    owner: Option<&str>,
    stage: &str,
    percent: i32,
    c: &Counters,
) -> AppResult<bool> {
    let mut update = figures(stage, percent, c)
        .filter(sync_run::Column::Id.eq(run_id))
        .filter(sync_run::Column::Status.eq(RunStatus::Running));
    if let Some(owner) = owner {
        update = update.filter(sync_run::Column::LeaseOwner.eq(owner));
    }
    let res = update.exec(db).await?;
    Ok(res.rows_affected > 0)
}

/// The figures a queued run starts with (a CSV import's, before its push is claimed).
pub async fn save_queued_figures(
    db: &impl ConnectionTrait,
    run_id: i64,
    stage: &str,
    c: &Counters,
) -> AppResult<()> {
    figures(stage, 0, c)
        .filter(sync_run::Column::Id.eq(run_id))
        .filter(sync_run::Column::Status.eq(RunStatus::Queued))
        .exec(db)
        .await?;
    Ok(())
}

fn figures(stage: &str, percent: i32, c: &Counters) -> sea_orm::UpdateMany<sync_run::Entity> {
    use sync_run::Column as C;
    sync_run::Entity::update_many()
        .col_expr(C::Stage, Expr::value(stage))
        .col_expr(C::Progress, Expr::value(percent))
        .col_expr(C::Fetched, Expr::value(c.fetched))
        .col_expr(C::Created, Expr::value(c.created))
        .col_expr(C::Updated, Expr::value(c.updated))
        .col_expr(C::Deleted, Expr::value(c.deleted))
        .col_expr(C::Pushed, Expr::value(c.pushed))
        .col_expr(C::Conflicts, Expr::value(c.conflicts))
        .col_expr(C::Skipped, Expr::value(c.skipped))
        .col_expr(C::Errors, Expr::value(c.errors))
        .col_expr(C::Reimbursements, Expr::value(c.reimbursements))
        .col_expr(C::LedgerEvents, Expr::value(c.ledger_events))
        .col_expr(C::ClaimsDetected, Expr::value(c.claims_detected))
        .col_expr(C::UpdatedAt, Expr::value(chrono::Utc::now()))
}

pub struct Finish<'a> {
    pub status: RunStatus,
    pub stage: &'a str,
    pub counters: Counters,
    pub summary: serde_json::Value,
    pub error: Option<(String, String)>,
}

pub async fn finish(
    db: &impl ConnectionTrait,
    run_id: i64,
    f: Finish<'_>,
) -> AppResult<sync_run::Model> {
    let run = sync_run::Entity::find_by_id(run_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("sync run", run_id))?;
    let mut a: sync_run::ActiveModel = run.into();
    let now = chrono::Utc::now();
    a.status = Set(f.status);
    a.stage = Set(f.stage.to_owned());
    if f.status == RunStatus::Succeeded {
        a.progress = Set(100);
    }
    let c = f.counters;
    a.fetched = Set(c.fetched);
    a.created = Set(c.created);
    a.updated = Set(c.updated);
    a.deleted = Set(c.deleted);
    a.pushed = Set(c.pushed);
    a.conflicts = Set(c.conflicts);
    a.skipped = Set(c.skipped);
    a.errors = Set(c.errors);
    a.reimbursements = Set(c.reimbursements);
    a.ledger_events = Set(c.ledger_events);
    a.claims_detected = Set(c.claims_detected);
    let mut summary = f.summary;
    crate::redact::scrub_json(&mut summary);
    a.summary = Set(summary);
    if let Some((code, message)) = f.error {
        a.error_code = Set(Some(code));
        a.error = Set(Some(crate::redact::scrub(&message).into_owned()));
    }
    a.finished_at = Set(Some(now));
    a.lease_owner = Set(None);
    a.lease_expires_at = Set(None);
    a.updated_at = Set(now);
    Ok(a.update(db).await?)
}

/// Inserts a queued run unless the connection already has an active one, in which case
/// that one is returned (`Err`). The partial unique indexes (one queued, one running run
/// per connection) make this hold under concurrent requests and across instances: a
/// queued run inserted while another instance's request made a run start in between is
/// withdrawn again.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    new: NewRun,
) -> AppResult<Result<sync_run::Model, sync_run::Model>> {
    let connection_id = new.connection_id;
    if let Some(active) = active_for_connection(db, connection_id).await? {
        return Ok(Err(active));
    }
    let run = match create(
        db,
        NewRun {
            status: RunStatus::Queued,
            ..new
        },
    )
    .await
    {
        Ok(run) => run,
        Err(e) => {
            return match active_for_connection(db, connection_id).await? {
                Some(active) => Ok(Err(active)),
                None => Err(e),
            };
        }
    };
    // No worker claims a queued run while its connection has a running one, so this row
    // is still queued when another run is found running.
    if let Some(running) = running_for_connection(db, connection_id).await?
        && running.id != run.id
    {
        sync_run::Entity::delete_many()
            .filter(sync_run::Column::Id.eq(run.id))
            .filter(sync_run::Column::Status.eq(RunStatus::Queued))
            .exec(db)
            .await?;
        return Ok(Err(running));
    }
    Ok(Ok(run))
}

/// The connection's active run: the running one when there is one, else the queued one.
/// One query, so a queued run claimed meanwhile is found either way.
pub async fn active_for_connection(
    db: &impl ConnectionTrait,
    connection_id: i64,
) -> AppResult<Option<sync_run::Model>> {
    let active = active_runs_for_connection(db, connection_id).await?;
    let running = active.iter().position(|r| r.status == RunStatus::Running);
    Ok(active.into_iter().nth(running.unwrap_or(0)))
}

/// Every queued or running run of the connection (at most one of each), oldest first.
pub async fn active_runs_for_connection(
    db: &impl ConnectionTrait,
    connection_id: i64,
) -> AppResult<Vec<sync_run::Model>> {
    use sea_orm::QueryOrder;
    Ok(sync_run::Entity::find()
        .filter(sync_run::Column::ConnectionId.eq(connection_id))
        .filter(sync_run::Column::Status.is_in([RunStatus::Queued, RunStatus::Running]))
        .order_by_asc(sync_run::Column::Id)
        .all(db)
        .await?)
}

async fn running_for_connection(
    db: &impl ConnectionTrait,
    connection_id: i64,
) -> AppResult<Option<sync_run::Model>> {
    in_status(db, connection_id, RunStatus::Running).await
}

async fn queued_for_connection(
    db: &impl ConnectionTrait,
    connection_id: i64,
) -> AppResult<Option<sync_run::Model>> {
    in_status(db, connection_id, RunStatus::Queued).await
}

async fn in_status(
    db: &impl ConnectionTrait,
    connection_id: i64,
    status: RunStatus,
) -> AppResult<Option<sync_run::Model>> {
    Ok(sync_run::Entity::find()
        .filter(sync_run::Column::ConnectionId.eq(connection_id))
        .filter(sync_run::Column::Status.eq(status))
        .one(db)
        .await?)
}

/// A queued run that will push every link of its connection still owing a push when it
/// starts: a push-on-save run, or an unlimited full or incremental (non-dry) run.
pub fn pushes_all_pending(run: &sync_run::Model) -> bool {
    run.status == RunStatus::Queued
        && !run.dry_run
        && match run.mode {
            RunMode::Push => run.trigger == RunTrigger::Save,
            RunMode::Full | RunMode::Incremental => run.entity_types.is_none(),
            _ => false,
        }
}

/// Push on save: the connection's queued run that a local edit (already committed) joins,
/// or a new queued push run (`true`: newly queued). A run that is executing is never
/// joined — its listing of pending links may be past the edit — so an edit made while
/// one runs queues a follow-up. `None`: the queued run is one that will not push the edit
/// (an ENTITY, dry, limited, import or resolution run); the edit stays pending.
///
/// Race-free across instances: the edit is committed before the queued run is looked at,
/// and a queued run lists the pending links only after it is claimed; two requests
/// inserting at once meet at the one-queued-run index and the loser joins the winner.
pub async fn join_or_queue_push(
    db: &impl ConnectionTrait,
    account_id: i64,
    connection_id: i64,
) -> AppResult<Option<(sync_run::Model, bool)>> {
    for _ in 0..3 {
        if let Some(queued) = queued_for_connection(db, connection_id).await? {
            if !pushes_all_pending(&queued) {
                return Ok(None);
            }
            if queued.trigger == RunTrigger::Save {
                // Another edit: the run waits for a quiet moment again (see `claim`).
                sync_run::Entity::update_many()
                    .col_expr(sync_run::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
                    .filter(sync_run::Column::Id.eq(queued.id))
                    .filter(sync_run::Column::Status.eq(RunStatus::Queued))
                    .exec(db)
                    .await?;
            }
            return Ok(Some((queued, false)));
        }
        let new = NewRun {
            account_id,
            connection_id,
            mode: RunMode::Push,
            trigger: RunTrigger::Save,
            dry_run: false,
            params: serde_json::json!({}),
            requested_by: None,
            status: RunStatus::Queued,
        };
        if let Ok(run) = create(db, new).await {
            return Ok(Some((run, true)));
        }
        // Another request queued one at the same moment: join it.
    }
    Err(AppError::internal(
        "could not queue a push-on-save run: the queue kept changing",
    ))
}

/// A push-on-save run is claimed once no edit joined it for this long…
pub const SAVE_QUIET: std::time::Duration = std::time::Duration::from_millis(300);
/// …or once it has waited this long, whichever comes first: a burst of edits makes a few
/// runs, and a steady stream of edits still pushes every couple of seconds.
pub const SAVE_MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Claims the oldest queued run whose connection has no running run (a push-on-save run
/// only after [`SAVE_QUIET`] without a new edit, or [`SAVE_MAX_WAIT`]), or a running one
/// whose lease expired (its worker died), for `owner` until `lease_until`. PostgreSQL skips rows other instances are claiming;
/// SQLite's single writer makes the conditional update race-free.
pub async fn claim(
    db: &impl ConnectionTrait,
    owner: &str,
    now: chrono::DateTime<chrono::Utc>,
    lease_until: chrono::DateTime<chrono::Utc>,
) -> AppResult<Option<sync_run::Model>> {
    use sea_orm::{DatabaseBackend, Statement};
    let backend = db.get_database_backend();
    let before = |d: std::time::Duration| now - chrono::Duration::from_std(d).unwrap_or_default();
    let (quiet_since, waited_since) = (before(SAVE_QUIET), before(SAVE_MAX_WAIT));
    let (sql, values): (&str, Vec<sea_orm::Value>) = match backend {
        DatabaseBackend::Postgres => (
            "UPDATE sync_runs SET status = 'running', lease_owner = $1, lease_expires_at = $2, attempts = attempts + 1, \
             started_at = COALESCE(started_at, $3), updated_at = $3 \
             WHERE id = (SELECT id FROM sync_runs q WHERE (q.status = 'queued' \
                         AND (q.trigger <> 'save' OR q.updated_at <= $4 OR q.queued_at <= $5) AND NOT EXISTS (SELECT 1 FROM sync_runs r \
                         WHERE r.connection_id = q.connection_id AND r.status = 'running')) \
                         OR (q.status = 'running' AND q.lease_expires_at < $3) \
                         ORDER BY q.id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING *",
            vec![
                owner.into(),
                lease_until.into(),
                now.into(),
                quiet_since.into(),
                waited_since.into(),
            ],
        ),
        _ => (
            "UPDATE sync_runs SET status = 'running', lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1, \
             started_at = COALESCE(started_at, ?), updated_at = ? \
             WHERE id = (SELECT id FROM sync_runs q WHERE (q.status = 'queued' \
             AND (q.trigger <> 'save' OR q.updated_at <= ? OR q.queued_at <= ?) AND NOT EXISTS (SELECT 1 FROM sync_runs r \
             WHERE r.connection_id = q.connection_id AND r.status = 'running')) \
             OR (q.status = 'running' AND q.lease_expires_at < ?) ORDER BY q.id LIMIT 1) \
             AND (status = 'queued' OR lease_expires_at < ?) RETURNING *",
            vec![
                owner.into(),
                lease_until.into(),
                now.into(),
                now.into(),
                quiet_since.into(),
                waited_since.into(),
                now.into(),
                now.into(),
            ],
        ),
    };
    Ok(sync_run::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
        .one(db)
        .await?)
}

/// Extends the lease while the owner still holds it; returns whether cancel was requested
/// (from any instance), or `None` when the lease was lost.
pub async fn heartbeat(
    db: &impl ConnectionTrait,
    run_id: i64,
    owner: &str,
    lease_until: chrono::DateTime<chrono::Utc>,
) -> AppResult<Option<bool>> {
    let res = sync_run::Entity::update_many()
        .col_expr(sync_run::Column::LeaseExpiresAt, Expr::value(lease_until))
        .filter(sync_run::Column::Id.eq(run_id))
        .filter(sync_run::Column::LeaseOwner.eq(owner))
        .filter(sync_run::Column::Status.eq(RunStatus::Running))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Ok(None);
    }
    let run = sync_run::Entity::find_by_id(run_id).one(db).await?;
    Ok(run.map(|r| r.cancel_requested))
}

/// Cancels a queued run at once; a running one is asked to stop at the next page.
pub async fn request_cancel(db: &impl ConnectionTrait, run_id: i64) -> AppResult<()> {
    let now = chrono::Utc::now();
    sync_run::Entity::update_many()
        .col_expr(
            sync_run::Column::Status,
            Expr::value(RunStatus::Cancelled.as_str()),
        )
        .col_expr(
            sync_run::Column::Stage,
            Expr::value("cancelled before it started"),
        )
        .col_expr(sync_run::Column::FinishedAt, Expr::value(now))
        .col_expr(sync_run::Column::UpdatedAt, Expr::value(now))
        .filter(sync_run::Column::Id.eq(run_id))
        .filter(sync_run::Column::Status.eq(RunStatus::Queued))
        .exec(db)
        .await?;
    sync_run::Entity::update_many()
        .col_expr(sync_run::Column::CancelRequested, Expr::value(true))
        .col_expr(sync_run::Column::UpdatedAt, Expr::value(now))
        .filter(sync_run::Column::Id.eq(run_id))
        .filter(sync_run::Column::Status.eq(RunStatus::Running))
        .exec(db)
        .await?;
    Ok(())
}

/// `force`: the active run gives up its slot at once (its worker stops at the next page).
pub async fn force_cancel(db: &impl ConnectionTrait, run_id: i64) -> AppResult<()> {
    let now = chrono::Utc::now();
    sync_run::Entity::update_many()
        .col_expr(
            sync_run::Column::Status,
            Expr::value(RunStatus::Cancelled.as_str()),
        )
        .col_expr(sync_run::Column::CancelRequested, Expr::value(true))
        .col_expr(
            sync_run::Column::Stage,
            Expr::value("cancelled: replaced by a forced run"),
        )
        .col_expr(sync_run::Column::FinishedAt, Expr::value(now))
        .col_expr(sync_run::Column::UpdatedAt, Expr::value(now))
        .filter(sync_run::Column::Id.eq(run_id))
        .filter(sync_run::Column::Status.is_in([RunStatus::Queued, RunStatus::Running]))
        .exec(db)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub connection_id: Option<i64>,
    pub status: Option<RunStatus>,
    pub mode: Option<RunMode>,
    pub trigger: Option<RunTrigger>,
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    /// Runs that covered this entity type: those limited to it, and the unlimited full and
    /// incremental runs of connections whose provider syncs it.
    pub entity_type: Option<String>,
    /// `true`: succeeded runs that skipped records with errors; `false`: every other
    /// finished run (clean successes and failures alike are not "with record errors").
    pub finished_with_record_errors: Option<bool>,
}

/// Refuses an entity type no provider syncs (a typo would otherwise list nothing).
fn known_entity_type(name: &str) -> AppResult<()> {
    if crate::connectors::providers_syncing(name).is_empty() {
        return Err(AppError::bad_input(format!(
            "unknown entity type '{name}' (e.g. materials, services, equipment, products, inventory)"
        )));
    }
    Ok(())
}

/// `value` as a LIKE pattern that matches it literally (escape character `\`).
fn like_literal(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Newest first.
impl super::page::Listing for RunFilter {
    type Entity = sync_run::Entity;
    const ID: sync_run::Column = sync_run::Column::Id;
    const NEWEST_FIRST: bool = true;

    fn select(&self, account_id: i64) -> sea_orm::Select<sync_run::Entity> {
        let mut q = sync_run::Entity::find().filter(sync_run::Column::AccountId.eq(account_id));
        if let Some(c) = self.connection_id {
            q = q.filter(sync_run::Column::ConnectionId.eq(c));
        }
        if let Some(s) = self.status {
            q = q.filter(sync_run::Column::Status.eq(s));
        }
        if let Some(m) = self.mode {
            q = q.filter(sync_run::Column::Mode.eq(m));
        }
        if let Some(t) = self.trigger {
            q = q.filter(sync_run::Column::Trigger.eq(t));
        }
        if let Some(from) = self.from {
            q = q.filter(sync_run::Column::QueuedAt.gte(from));
        }
        if let Some(to) = self.to {
            q = q.filter(sync_run::Column::QueuedAt.lt(to));
        }
        if let Some(name) = &self.entity_type {
            use entity::connection;
            use sea_orm::sea_query::{Condition, LikeExpr, Query};
            let pattern = LikeExpr::new(format!("%,{},%", like_literal(name))).escape('\\');
            let mut syncing = Query::select();
            syncing
                .column(connection::Column::Id)
                .from(connection::Entity)
                .and_where(connection::Column::AccountId.eq(account_id))
                .and_where(
                    connection::Column::Provider.is_in(crate::connectors::providers_syncing(name)),
                );
            let unlimited = Condition::all()
                .add(sync_run::Column::EntityTypes.is_null())
                .add(sync_run::Column::Mode.is_in([RunMode::Full, RunMode::Incremental]))
                .add(sync_run::Column::ConnectionId.in_subquery(syncing.to_owned()));
            q = q.filter(
                Condition::any()
                    .add(sync_run::Column::EntityTypes.like(pattern))
                    .add(unlimited),
            );
        }
        if let Some(with_errors) = self.finished_with_record_errors {
            use sea_orm::ExprTrait;
            let flagged = sync_run::Column::Status
                .eq(RunStatus::Succeeded)
                .and(sync_run::Column::Errors.gt(0));
            q = if with_errors {
                q.filter(flagged)
            } else {
                q.filter(
                    sync_run::Column::Status.is_not_in([RunStatus::Queued, RunStatus::Running]),
                )
                .filter(flagged.not())
            };
        }
        q
    }

    fn validate(&self) -> AppResult<()> {
        self.entity_type
            .as_deref()
            .map_or(Ok(()), known_entity_type)
    }
}

pub async fn latest_finished(
    db: &impl ConnectionTrait,
    connection_id: i64,
) -> AppResult<Option<sync_run::Model>> {
    use sea_orm::QueryOrder;
    Ok(sync_run::Entity::find()
        .filter(sync_run::Column::ConnectionId.eq(connection_id))
        .filter(sync_run::Column::Status.is_not_in([RunStatus::Queued, RunStatus::Running]))
        .order_by_desc(sync_run::Column::Id)
        .one(db)
        .await?)
}

pub async fn queue_depth(db: &impl ConnectionTrait) -> AppResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(sync_run::Entity::find()
        .filter(sync_run::Column::Status.eq(RunStatus::Queued))
        .count(db)
        .await?)
}

/// Events of runs, oldest first.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub run_id: Option<i64>,
    pub connection_id: Option<i64>,
    pub level: Option<entity::enums::EventLevel>,
    /// Events about records of this entity type (by the record's link on the event's
    /// connection); run-level events and records never linked are left out.
    pub entity_type: Option<String>,
}

impl super::page::Listing for EventFilter {
    type Entity = entity::sync_event::Entity;
    const ID: entity::sync_event::Column = entity::sync_event::Column::Id;
    const NEWEST_FIRST: bool = false;

    fn select(&self, account_id: i64) -> sea_orm::Select<entity::sync_event::Entity> {
        use entity::sync_event;
        let mut q = sync_event::Entity::find().filter(sync_event::Column::AccountId.eq(account_id));
        if let Some(run) = self.run_id {
            q = q.filter(sync_event::Column::RunId.eq(run));
        }
        if let Some(c) = self.connection_id {
            q = q.filter(sync_event::Column::ConnectionId.eq(c));
        }
        if let Some(level) = self.level {
            q = q.filter(sync_event::Column::Level.eq(level));
        }
        if let Some(name) = &self.entity_type {
            use entity::item_link as l;
            use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
            let mut link = Query::select();
            link.expr(Expr::val(1))
                .from(l::Entity)
                .and_where(
                    Expr::col((l::Entity, l::Column::ConnectionId))
                        .equals((sync_event::Entity, sync_event::Column::ConnectionId)),
                )
                .and_where(Expr::col((l::Entity, l::Column::EntityType)).eq(name.as_str()))
                .cond_where(
                    Condition::any()
                        .add(
                            Expr::col((l::Entity, l::Column::ItemId))
                                .equals((sync_event::Entity, sync_event::Column::ItemId)),
                        )
                        .add(
                            Expr::col((l::Entity, l::Column::RemoteId))
                                .equals((sync_event::Entity, sync_event::Column::RemoteId)),
                        ),
                );
            q = q.filter(Expr::exists(link.to_owned()));
        }
        q
    }

    fn validate(&self) -> AppResult<()> {
        self.entity_type
            .as_deref()
            .map_or(Ok(()), known_entity_type)
    }
}

pub async fn save_summary(
    db: &impl ConnectionTrait,
    run_id: i64,
    summary: serde_json::Value,
) -> AppResult<()> {
    sync_run::Entity::update_many()
        .col_expr(sync_run::Column::Summary, Expr::value(summary))
        .filter(sync_run::Column::Id.eq(run_id))
        .exec(db)
        .await?;
    Ok(())
}
