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
        ..Default::default()
    }
    .insert(db)
    .await?)
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

pub async fn save_progress(
    db: &impl ConnectionTrait,
    run_id: i64,
    stage: &str,
    percent: i32,
    c: &Counters,
) -> AppResult<()> {
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
        .col_expr(C::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(C::Id.eq(run_id))
        .exec(db)
        .await?;
    Ok(())
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
    a.summary = Set(f.summary);
    if let Some((code, message)) = f.error {
        a.error_code = Set(Some(code));
        a.error = Set(Some(message));
    }
    a.finished_at = Set(Some(now));
    a.lease_owner = Set(None);
    a.lease_expires_at = Set(None);
    a.updated_at = Set(now);
    Ok(a.update(db).await?)
}
