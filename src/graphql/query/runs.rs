use crate::graphql::types::relay::{self, RelayConnection};
use crate::graphql::types::run::{SyncMode, SyncRun, SyncStatus, SyncStatusPayload, SyncTrigger};
use crate::graphql::{caller, parse_id, state};
use crate::jobs::schedule;
use crate::store::{self, Db, page::PageArgs, runs::RunFilter};
use async_graphql::{Context, ID, Object};
use entity::connection;
use entity::enums::LinkStatus;

#[derive(Default)]
pub struct RunQuery;

#[Object]
impl RunQuery {
    /// Run history, newest first; filter by connection, status, mode, trigger, queue time
    /// (`from` inclusive, `to` exclusive) and entity type.
    #[allow(clippy::too_many_arguments)]
    async fn sync_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only runs of this connection.")] connection_id: Option<ID>,
        #[graphql(desc = "Only runs in this status.")] status: Option<SyncStatus>,
        #[graphql(desc = "Only runs of this mode.")] mode: Option<SyncMode>,
        #[graphql(desc = "Only runs started this way.")] trigger: Option<SyncTrigger>,
        #[graphql(desc = "Only runs queued at or after this instant.")] from: Option<
            chrono::DateTime<chrono::Utc>,
        >,
        #[graphql(desc = "Only runs queued before this instant.")] to: Option<
            chrono::DateTime<chrono::Utc>,
        >,
        #[graphql(
            desc = "Runs that covered this upstream entity type (e.g. `materials`): runs limited to it and the unlimited full and incremental runs of connections that sync it."
        )]
        entity_type: Option<String>,
        #[graphql(
            desc = "true: runs that succeeded but skipped records with errors; false: every other finished run."
        )]
        finished_with_record_errors: Option<bool>,
        #[graphql(desc = "The first N rows after `after` (0–500, default 50).")] first: Option<i32>,
        #[graphql(
            desc = "Cursor of the row to start after (`edges.cursor` or `pageInfo.endCursor`)."
        )]
        after: Option<String>,
        #[graphql(desc = "The last N rows before `before` (0–500).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the row to end before (`pageInfo.startCursor`).")]
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<SyncRun>> {
        let c = caller(ctx)?;
        let filter = RunFilter {
            connection_id: connection_id
                .as_ref()
                .map(|id| parse_id(id, "connection"))
                .transpose()?,
            status: status.map(Into::into),
            mode: mode.map(Into::into),
            trigger: trigger.map(Into::into),
            from,
            to,
            entity_type,
            finished_with_record_errors,
        };
        let args = PageArgs::new(first, after, last, before);
        Ok(relay::list(&state(ctx).db, c.account_id, filter, &args, SyncRun).await?)
    }

    /// One run of your account by id (poll it, or follow it with `syncProgress`).
    async fn sync_run(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The run id.")] id: ID,
    ) -> async_graphql::Result<SyncRun> {
        let c = caller(ctx)?;
        Ok(SyncRun(
            store::runs::get(&state(ctx).db, c.account_id, parse_id(&id, "sync run")?).await?,
        ))
    }

    /// Totals, last and running run, next scheduled run, schedule health.
    async fn sync_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The connection.")] connection_id: ID,
    ) -> async_graphql::Result<SyncStatusPayload> {
        let c = caller(ctx)?;
        let db = &state(ctx).db;
        let conn =
            store::connections::get(db, c.account_id, parse_id(&connection_id, "connection")?)
                .await?;
        Ok(status_of(db, &conn).await?)
    }
}

pub async fn status_of(
    db: &Db,
    conn: &connection::Model,
) -> crate::error::AppResult<SyncStatusPayload> {
    let counts = store::links::status_counts(db, conn.id).await?;
    let count = |s: LinkStatus| {
        counts
            .iter()
            .filter(|(k, _)| *k == s)
            .map(|(_, n)| *n)
            .sum::<i64>()
    };
    let last_run = store::runs::latest_finished(db, conn.id).await?;
    let running_run = store::runs::active_for_connection(db, conn.id).await?;
    let last_error = conn
        .schedule_paused_reason
        .clone()
        .or_else(|| last_run.as_ref().and_then(|r| r.error.clone()));
    Ok(SyncStatusPayload {
        connection_id: conn.id.into(),
        totals: counts.iter().map(|(_, n)| n).sum(),
        synced: count(LinkStatus::Synced),
        pending_push: count(LinkStatus::PendingPush),
        conflicts: store::connections::open_conflicts(db, conn.id).await? as i64,
        errors: count(LinkStatus::Error),
        last_run: last_run.map(SyncRun),
        running_run: running_run.map(SyncRun),
        next_scheduled_run: schedule::next_run(conn, chrono::Utc::now()),
        schedule_enabled: conn.schedule_enabled,
        schedule_paused: conn.schedule_paused_reason.is_some(),
        last_error,
    })
}
