use super::relay::{self, RelayConnection};
use crate::graphql::{caller, state};
use crate::store::{self, page::PageArgs, runs::EventFilter};
use async_graphql::{ComplexObject, Context, Enum, ID, Json, Object, SimpleObject};
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
    /// A scheduled vendor price feed: download, then a vendor-price import.
    VendorFeed,
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
    #[allow(clippy::too_many_arguments)]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events of this level")] level: Option<EventLevel>,
        #[graphql(
            desc = "Only events about records of this upstream entity type (e.g. `materials`); run-level events are left out"
        )]
        entity_type: Option<String>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RelayConnection<SyncEvent>> {
        let c = caller(ctx)?;
        let filter = EventFilter {
            run_id: Some(self.0.id),
            level: level.map(Into::into),
            entity_type,
            ..Default::default()
        };
        let args = PageArgs::new(first, after, last, before);
        Ok(relay::list(&state(ctx).db, c.account_id, filter, &args, SyncEvent::from).await?)
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
#[graphql(complex)]
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

/// Errors `recentErrors` lists.
const RECENT_ERRORS: u64 = 10;

/// The figures below cost a statement each, so they are read only when selected.
#[ComplexObject]
impl SyncStatusPayload {
    /// The same numbers per upstream entity type (e.g. materials, services), by name.
    async fn entities(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<EntityStatus>> {
        let rows = store::status::entity_numbers(&state(ctx).db, self.connection()?).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The newest full run that ended (dry runs left out).
    async fn last_full_run(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<SyncRun>> {
        self.last_ended(ctx, e::RunMode::Full).await
    }

    /// The newest incremental run that ended (dry runs left out).
    async fn last_incremental_run(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<SyncRun>> {
        self.last_ended(ctx, e::RunMode::Incremental).await
    }

    /// The 10 newest errors: failed runs and records that failed, newest first.
    async fn recent_errors(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<RecentSyncError>> {
        let rows =
            store::status::recent_errors(&state(ctx).db, self.connection()?, RECENT_ERRORS).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

impl SyncStatusPayload {
    fn connection(&self) -> async_graphql::Result<i64> {
        Ok(crate::graphql::parse_id(&self.connection_id, "connection")?)
    }

    async fn last_ended(
        &self,
        ctx: &Context<'_>,
        mode: e::RunMode,
    ) -> async_graphql::Result<Option<SyncRun>> {
        let run = store::status::last_ended_run(&state(ctx).db, self.connection()?, mode).await?;
        Ok(run.map(SyncRun))
    }
}

/// A connection's sync numbers for one upstream entity type.
#[derive(SimpleObject, Clone)]
pub struct EntityStatus {
    /// The upstream entity type, e.g. `materials`.
    pub entity_type: String,
    /// Linked records (not deleted upstream).
    pub total: i64,
    pub synced: i64,
    pub pending_push: i64,
    /// Open conflicts of this entity type's records.
    pub conflicts: i64,
    /// Records whose last sync failed.
    pub errors: i64,
}

impl From<store::status::EntityNumbers> for EntityStatus {
    fn from(n: store::status::EntityNumbers) -> Self {
        EntityStatus {
            entity_type: n.entity_type,
            total: n.total,
            synced: n.synced,
            pending_push: n.pending_push,
            conflicts: n.conflicts,
            errors: n.errors,
        }
    }
}

/// One problem in a connection's recent history.
#[derive(SimpleObject, Clone)]
pub struct RecentSyncError {
    /// When it happened.
    pub at: chrono::DateTime<chrono::Utc>,
    /// The run it happened in.
    pub run_id: ID,
    /// `run_failed` when the run itself failed, else what failed for one record
    /// (e.g. `push_failed`, `invalid_record`).
    pub kind: String,
    pub message: String,
    /// The local item, when the error concerns one record.
    pub item_id: Option<ID>,
    /// The upstream id of the record, when known.
    pub remote_id: Option<String>,
    /// The run's error code, or the record's item code.
    pub code: Option<String>,
}

impl From<store::status::RecentError> for RecentSyncError {
    fn from(e: store::status::RecentError) -> Self {
        RecentSyncError {
            at: e.at,
            run_id: e.run_id.into(),
            kind: e.kind,
            message: e.message,
            item_id: e.item_id.map(Into::into),
            remote_id: e.remote_id,
            code: e.code,
        }
    }
}
