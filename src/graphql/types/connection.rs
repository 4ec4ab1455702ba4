use super::enums::{AdoptionPolicy, ConnectionHealth, ConnectionStatus, Provider};
use crate::graphql::state;
use crate::store;
use async_graphql::{ComplexObject, Context, ID, Json, SimpleObject};
use entity::connection;

/// A link to one upstream system. Secrets are write-only: only `hasSecrets` is visible.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Connection {
    /// The connection id.
    pub id: ID,
    /// A name unique in the account, e.g. `demo` (the CLI accepts it in place of the id).
    pub name: String,
    /// The upstream system.
    pub provider: Provider,
    /// Whether it syncs.
    pub status: ConnectionStatus,
    /// Non-secret settings (base URL, tenant, marketplace…).
    pub config: Json<serde_json::Value>,
    /// Per entity type: pull, push or both.
    pub directions: Json<serde_json::Value>,
    /// IANA time zone of its schedules, e.g. `America/Chicago`.
    pub time_zone: String,
    /// Cron expression of scheduled incremental runs (in `timeZone`).
    pub incremental_cron: Option<String>,
    /// Cron expression of scheduled full runs (in `timeZone`).
    pub full_cron: Option<String>,
    /// Whether scheduled runs happen.
    pub schedule_enabled: bool,
    /// Why the schedule paused itself (after 10 consecutive failures); null when not paused.
    pub schedule_paused_reason: Option<String>,
    /// Failed runs in a row (0 after a success). From 3 on, a due incremental tick runs a
    /// full sync instead (escalation); at 10 the schedule pauses itself.
    pub consecutive_failures: i32,
    /// The next scheduled run is a full run escalated from incremental (3 or more failed runs in a row).
    pub schedule_escalated: bool,
    /// Whether edits to different fields on both sides merge automatically instead of becoming conflicts.
    pub auto_merge_disjoint_fields: bool,
    /// Whether the connection can sync now (see `ConnectionHealth`).
    pub health: ConnectionHealth,
    /// Why it is not ACTIVE (the refusal, the failures and the last error).
    pub health_reason: Option<String>,
    /// When the health last changed (null: never since the connection was created).
    pub health_changed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// What a first link does when a local item and the remote record differ.
    pub adoption_policy: AdoptionPolicy,
    /// Push on save: whether a local edit queues a push run for this connection at once
    /// (see the item's `pendingPushRuns`).
    pub push_on_save: bool,
    /// When the connection was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it was last changed.
    pub updated_at: chrono::DateTime<chrono::Utc>,
    #[graphql(skip)]
    pub raw_id: i64,
}

#[ComplexObject]
impl Connection {
    /// Whether credentials are stored (they are never returned).
    async fn has_secrets(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(store::connections::has_secrets(&state(ctx).db, self.raw_id).await?)
    }

    /// Sync totals, last and running run, schedule health.
    async fn sync_status(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<crate::graphql::types::run::SyncStatusPayload> {
        let conn = store::connections::get_unscoped(&state(ctx).db, self.raw_id).await?;
        Ok(crate::graphql::query::runs::status_of(&state(ctx).db, &conn).await?)
    }
}

impl From<connection::Model> for Connection {
    fn from(c: connection::Model) -> Self {
        Connection {
            id: c.id.into(),
            name: c.name,
            provider: c.provider.into(),
            status: c.status.into(),
            config: Json(c.config),
            directions: Json(c.directions),
            time_zone: c.time_zone,
            incremental_cron: c.incremental_cron,
            full_cron: c.full_cron,
            schedule_enabled: c.schedule_enabled,
            schedule_paused_reason: c.schedule_paused_reason,
            consecutive_failures: c.consecutive_failures,
            schedule_escalated: c.schedule_enabled
                && crate::jobs::schedule::escalate(
                    entity::enums::RunMode::Incremental,
                    c.consecutive_failures,
                ) == entity::enums::RunMode::Full,
            auto_merge_disjoint_fields: c.auto_merge_disjoint,
            health: c.health.into(),
            health_reason: c.health_reason,
            health_changed_at: c.health_changed_at,
            adoption_policy: c.adoption_policy.into(),
            push_on_save: c.push_on_save,
            created_at: c.created_at,
            updated_at: c.updated_at,
            raw_id: c.id,
        }
    }
}
