use super::relay::{self, RelayConnection};
use crate::graphql::{caller, state};
use crate::store::{self, page::PageArgs, runs::EventFilter};
use async_graphql::{ComplexObject, Context, Enum, ID, Json, Object, SimpleObject};
use entity::enums as e;
use entity::{sync_event, sync_run};

/// What a run does.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::RunMode")]
pub enum SyncMode {
    /// Everything upstream; applies remote deletions after a complete listing.
    Full,
    /// Records changed since the last run (by cursor or modified-since).
    Incremental,
    /// The records named by remote id or code.
    Entity,
    /// A CSV import; item costs are then pushed upstream.
    CsvImport,
    /// Pushes pending local changes: a push-on-save run (trigger SAVE) first re-reads
    /// each pending record upstream and compares three-way, like an ENTITY run.
    Push,
    /// Resolves many conflicts the same way (`resolveConflicts`).
    Resolve,
    /// A scheduled vendor price feed: download, then a vendor-price import.
    VendorFeed,
}

/// A run's state.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::RunStatus")]
pub enum SyncStatus {
    /// Waiting for a worker.
    Queued,
    /// A worker is executing it.
    Running,
    /// Ended without a run-level error (per-item problems are in `events`).
    Succeeded,
    /// Ended with an error; see `error`. Applied pages stay.
    Failed,
    /// Stopped on request between pages; applied pages stay.
    Cancelled,
    /// Its worker died too often; it was given up.
    Interrupted,
}

/// What started a run.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::RunTrigger")]
pub enum SyncTrigger {
    /// A user (`startSync`, an import, a resolution).
    User,
    /// The connection's schedule.
    Schedule,
    /// Creating or connecting the connection (its first full sync).
    Connect,
    /// A signed `POST /webhooks/{connectionId}`.
    Webhook,
    /// The `pricebook-sync sync` command.
    Cli,
    /// A local edit on a connection with `pushOnSave` (a PUSH run that edits made while
    /// it was queued joined).
    Save,
}

/// How serious a run event is.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "e::EventLevel")]
pub enum EventLevel {
    /// A notable step.
    Info,
    /// A record was skipped or needed attention; the run went on.
    Warn,
    /// A record or step failed.
    Error,
}

/// A run's counts so far.
#[derive(SimpleObject, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncCounters {
    /// Records read from upstream.
    pub fetched: i64,
    /// Local items created.
    pub created: i64,
    /// Local items updated from upstream.
    pub updated: i64,
    /// Local items soft-deleted because they were deleted upstream.
    pub deleted: i64,
    /// Local changes written upstream.
    pub pushed: i64,
    /// Conflicts detected.
    pub conflicts: i64,
    /// Records skipped: unchanged, paused or invalid (see events).
    pub skipped: i64,
    /// Records that failed (see events).
    pub errors: i64,
    /// Amazon recoveries: reimbursement report lines the run read (0 for other providers).
    pub reimbursements: i64,
    /// Amazon recoveries: inventory-ledger rows the run read (0 for other providers).
    pub ledger_events: i64,
    /// Amazon recoveries: claims the run detected for the first time (0 for other providers).
    pub claims_detected: i64,
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
            reimbursements: r.reimbursements,
            ledger_events: r.ledger_events,
            claims_detected: r.claims_detected,
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

/// One sync job: its progress while it runs, its outcome after.
#[Object]
impl SyncRun {
    /// The run id.
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    /// The connection synced.
    async fn connection_id(&self) -> ID {
        self.0.connection_id.into()
    }
    /// Where the run stands.
    async fn status(&self) -> SyncStatus {
        self.0.status.into()
    }
    /// What the run does.
    async fn mode(&self) -> SyncMode {
        self.0.mode.into()
    }
    /// What started it.
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
    /// Whether it only reports and writes nothing.
    async fn dry_run(&self) -> bool {
        self.0.dry_run
    }
    /// Counts so far.
    async fn counters(&self) -> SyncCounters {
        self.counter_values()
    }
    /// When it was queued.
    async fn queued_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.queued_at
    }
    /// When a worker started it.
    async fn started_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.started_at
    }
    /// When it ended.
    async fn finished_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.finished_at
    }
    /// When this state was produced (progress updates carry it, for latency checks).
    async fn updated_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.updated_at
    }
    /// Seconds from start to end (or to now while running).
    async fn duration_seconds(&self) -> Option<f64> {
        let end = self.0.finished_at.unwrap_or_else(chrono::Utc::now);
        self.0
            .started_at
            .map(|s| (end - s).num_milliseconds() as f64 / 1000.0)
    }
    /// Remaining seconds extrapolated from the progress so far; null when unknown.
    async fn eta_seconds(&self) -> Option<i64> {
        self.eta_estimate()
    }
    /// Why it failed; null unless it did.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// The run succeeded but skipped records it could not handle (`counters.errors`
    /// records, each listed in `events`). `status` stays SUCCEEDED for existing clients.
    async fn finished_with_record_errors(&self) -> bool {
        crate::sync::runner::finished_with_record_errors(&self.0)
    }
    /// Stable code of the failure (e.g. UPSTREAM_ERROR, UPSTREAM_UNAUTHORIZED, RATE_LIMITED,
    /// CANCELLED).
    async fn error_code(&self) -> Option<&str> {
        self.0.error_code.as_deref()
    }
    /// Times a worker started it (more than 1 after a crash take-over).
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// Whether a cancel was asked for and not yet honoured.
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
        #[graphql(desc = "Only events of this level.")] level: Option<EventLevel>,
        #[graphql(
            desc = "Only events about records of this upstream entity type (e.g. `materials`); run-level events are left out."
        )]
        entity_type: Option<String>,
        #[graphql(desc = "The first N rows after `after` (0–500, default 50).")] first: Option<i32>,
        #[graphql(
            desc = "Cursor of the row to start after (`edges.cursor` or `pageInfo.endCursor`)."
        )]
        after: Option<String>,
        #[graphql(desc = "The last N rows before `before` (0–500).")] last: Option<i32>,
        #[graphql(desc = "Cursor of the row to end before (`pageInfo.startCursor`).")]
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

/// A per-record problem or a notable step of a run.
#[derive(SimpleObject, Clone)]
pub struct SyncEvent {
    /// The event id.
    pub id: ID,
    /// How serious it is.
    pub level: EventLevel,
    /// What happened, as a stable word, e.g. `conflict`, `push_failed`, `auto_merged`, `not_found`.
    pub kind: String,
    /// What happened, for people.
    pub message: String,
    /// The local item concerned, if any.
    pub item_id: Option<ID>,
    /// The upstream record concerned, if any.
    pub remote_id: Option<String>,
    /// A stable code for the problem, e.g. UPSTREAM_ERROR.
    pub code: Option<String>,
    /// More about it as JSON, e.g. the fields of a diff.
    pub details: Json<serde_json::Value>,
    /// When it happened.
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

/// The run `startSync` queued, or the one already active.
#[derive(SimpleObject)]
pub struct StartSyncPayload {
    /// The queued (or already active) run.
    pub run: SyncRun,
    /// True when a run was already queued or running: `run` is that run.
    pub already_running: bool,
}

/// A connection's sync health at a glance.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct SyncStatusPayload {
    /// The connection.
    pub connection_id: ID,
    /// Linked records (not deleted upstream).
    pub totals: i64,
    /// Linked records in sync.
    pub synced: i64,
    /// Linked records with local changes waiting to be pushed.
    pub pending_push: i64,
    /// Open conflicts.
    pub conflicts: i64,
    /// Records whose last sync failed.
    pub errors: i64,
    /// The last run that ended.
    pub last_run: Option<SyncRun>,
    /// The run queued or running now.
    pub running_run: Option<SyncRun>,
    /// When the schedule starts the next run; null without a schedule.
    pub next_scheduled_run: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether scheduled runs happen.
    pub schedule_enabled: bool,
    /// Whether the schedule paused itself after repeated failures.
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

    /// The newest run that succeeded, of any mode (dry runs left out); it may have
    /// skipped records (`finishedWithRecordErrors`). Null: never synced successfully.
    async fn last_successful_run(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<SyncRun>> {
        let run = store::status::last_succeeded_run(&state(ctx).db, self.connection()?).await?;
        Ok(run.map(SyncRun))
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
    /// Linked records in sync with upstream.
    pub synced: i64,
    /// Linked records with local changes waiting to be pushed.
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
    /// What went wrong, as recorded (secrets masked).
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
