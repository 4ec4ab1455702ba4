use super::relay::{self, RelayConnection};
use crate::graphql::{caller, state};
use crate::store::{self, page::PageArgs};
use async_graphql::{Context, Enum, ID, Json, Object, SimpleObject};
use entity::enums as e;
use entity::{sync_event, sync_run};

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::RunMode")]
pub enum SyncMode {
    Full,
    Incremental,
    Entity,
    CsvImport,
    Push,
    Resolve,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::RunStatus")]
pub enum SyncStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    Interrupted,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::RunTrigger")]
pub enum SyncTrigger {
    User,
    Schedule,
    Connect,
    Webhook,
    Cli,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::EventLevel")]
pub enum EventLevel {
    Info,
    Warn,
    Error,
}

#[derive(SimpleObject, Clone, serde::Serialize)]
pub struct SyncCounters {
    pub fetched: i64,
    pub created: i64,
    pub updated: i64,
    pub deleted: i64,
    pub pushed: i64,
    pub conflicts: i64,
    pub skipped: i64,
    pub errors: i64,
}

/// One sync job: its progress while it runs, its outcome after.
#[derive(Clone)]
pub struct SyncRun(pub sync_run::Model);

impl SyncRun {
    fn counter_values(&self) -> SyncCounters {
        let r = &self.0;
        SyncCounters {
            fetched: r.fetched,
            created: r.created,
            updated: r.updated,
            deleted: r.deleted,
            pushed: r.pushed,
            conflicts: r.conflicts,
            skipped: r.skipped,
            errors: r.errors,
        }
    }

    /// Remaining seconds extrapolated from the progress so far.
    fn eta_estimate(&self) -> Option<i64> {
        let r = &self.0;
        let started = r.started_at?;
        if r.finished_at.is_some() || r.progress <= 0 || r.progress >= 100 {
            return None;
        }
        let elapsed = (chrono::Utc::now() - started).num_milliseconds().max(0) as f64;
        Some(
            (elapsed * f64::from(100 - r.progress) / f64::from(r.progress) / 1000.0).round() as i64,
        )
    }

    /// The same payload as the GraphQL type, for SSE clients.
    pub fn to_json(&self) -> serde_json::Value {
        let r = &self.0;
        serde_json::json!({
            "id": r.id.to_string(),
            "connectionId": r.connection_id.to_string(),
            "status": r.status.as_str().to_uppercase(),
            "mode": r.mode.as_str().to_uppercase(),
            "trigger": r.trigger.as_str().to_uppercase(),
            "progress": r.progress,
            "stage": r.stage,
            "dryRun": r.dry_run,
            "queuedAt": r.queued_at,
            "startedAt": r.started_at,
            "finishedAt": r.finished_at,
            "updatedAt": r.updated_at,
            "error": r.error,
            "errorCode": r.error_code,
            "etaSeconds": self.eta_estimate(),
            "counters": self.counter_values(),
        })
    }
}

#[Object]
impl SyncRun {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn connection_id(&self) -> ID {
        self.0.connection_id.into()
    }
    async fn status(&self) -> SyncStatus {
        self.0.status.into()
    }
    async fn mode(&self) -> SyncMode {
        self.0.mode.into()
    }
    async fn trigger(&self) -> SyncTrigger {
        self.0.trigger.into()
    }
    /// 0–100; 100 only once the run succeeded.
    async fn progress(&self) -> i32 {
        self.0.progress
    }
    /// What the run is doing, e.g. "fetching materials page 3".
    async fn stage(&self) -> &str {
        &self.0.stage
    }
    async fn dry_run(&self) -> bool {
        self.0.dry_run
    }
    async fn counters(&self) -> SyncCounters {
        self.counter_values()
    }
    async fn queued_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.queued_at
    }
    async fn started_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.started_at
    }
    async fn finished_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.finished_at
    }
    /// When this state was produced (progress updates carry it, for latency checks).
    async fn updated_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.updated_at
    }
    async fn duration_seconds(&self) -> Option<f64> {
        let end = self.0.finished_at.unwrap_or_else(chrono::Utc::now);
        self.0
            .started_at
            .map(|s| (end - s).num_milliseconds() as f64 / 1000.0)
    }
    async fn eta_seconds(&self) -> Option<i64> {
        self.eta_estimate()
    }
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// Stable code of the failure (e.g. UPSTREAM_ERROR, RATE_LIMITED, CANCELLED).
    /// The run succeeded but skipped records it could not handle (`counters.errors`
    /// records, each listed in `events`). `status` stays SUCCEEDED for existing clients.
    async fn finished_with_record_errors(&self) -> bool {
        crate::sync::runner::finished_with_record_errors(&self.0)
    }
    async fn error_code(&self) -> Option<&str> {
        self.0.error_code.as_deref()
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    async fn cancel_requested(&self) -> bool {
        self.0.cancel_requested
    }
    /// Entity types, remote ids and codes the run was limited to.
    async fn params(&self) -> Json<serde_json::Value> {
        Json(self.0.params.clone())
    }
    /// Counts per three-way category and sample diffs (dry runs show what would change).
    async fn summary(&self) -> Json<serde_json::Value> {
        Json(self.0.summary.clone())
    }
    /// Per-record problems and notable steps, oldest first.
    async fn events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<SyncEvent>> {
        let c = caller(ctx)?;
        let db = state(ctx).db.clone();
        let page = store::runs::events(
            &db,
            c.account_id,
            self.0.id,
            &PageArgs {
                first,
                after,
                last,
                before,
            },
        )
        .await?;
        let (account, run) = (c.account_id, self.0.id);
        Ok(relay::connection(page, SyncEvent::from, move || {
            let db = db.clone();
            Box::pin(async move { store::runs::count_events(&db, account, run).await })
        }))
    }
}

#[derive(SimpleObject, Clone)]
pub struct SyncEvent {
    pub id: ID,
    pub level: EventLevel,
    pub kind: String,
    pub message: String,
    pub item_id: Option<ID>,
    pub remote_id: Option<String>,
    pub code: Option<String>,
    pub details: Json<serde_json::Value>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<sync_event::Model> for SyncEvent {
    fn from(e: sync_event::Model) -> Self {
        SyncEvent {
            id: e.id.into(),
            level: e.level.into(),
            kind: e.kind,
            message: e.message,
            item_id: e.item_id.map(Into::into),
            remote_id: e.remote_id,
            code: e.code,
            details: Json(e.details),
            created_at: e.created_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct StartSyncPayload {
    pub run: SyncRun,
    /// True when a run was already queued or running: `run` is that run.
    pub already_running: bool,
}

/// A connection's sync health at a glance.
#[derive(SimpleObject)]
pub struct SyncStatusPayload {
    pub connection_id: ID,
    /// Linked records (not deleted upstream).
    pub totals: i64,
    pub synced: i64,
    pub pending_push: i64,
    /// Open conflicts.
    pub conflicts: i64,
    /// Records whose last sync failed.
    pub errors: i64,
    pub last_run: Option<SyncRun>,
    pub running_run: Option<SyncRun>,
    pub next_scheduled_run: Option<chrono::DateTime<chrono::Utc>>,
    pub schedule_enabled: bool,
    pub schedule_paused: bool,
    /// Why the schedule paused itself, or the last run's error.
    pub last_error: Option<String>,
}
