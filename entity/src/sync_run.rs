use crate::enums::{RunMode, RunStatus, RunTrigger};
use sea_orm::entity::prelude::*;

/// One sync job: queue entry, lease, progress, checkpoint and outcome.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "sync_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub connection_id: i64,
    pub mode: RunMode,
    pub status: RunStatus,
    pub trigger: RunTrigger,
    pub dry_run: bool,
    /// Entity types, remote ids and codes the run is limited to.
    pub params: Json,
    pub progress: i32,
    pub stage: String,
    pub fetched: i64,
    pub created: i64,
    pub updated: i64,
    pub deleted: i64,
    pub pushed: i64,
    pub conflicts: i64,
    pub skipped: i64,
    pub errors: i64,
    /// Amazon recoveries: reimbursement report lines read by the run.
    pub reimbursements: i64,
    /// Amazon recoveries: inventory-ledger rows read by the run.
    pub ledger_events: i64,
    /// Amazon recoveries: claims the run detected for the first time.
    pub claims_detected: i64,
    /// Resume point: per entity type cursor/page reached.
    pub checkpoint: Json,
    /// Summary figures beyond the counters (per category, samples of diffs).
    pub summary: Json,
    pub cancel_requested: bool,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTimeUtc>,
    pub attempts: i32,
    pub error: Option<String>,
    pub error_code: Option<String>,
    pub requested_by: Option<i64>,
    pub queued_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    /// The entity types of `params` as `,materials,services,` (filterable in SQL); None:
    /// every entity type of the connection.
    pub entity_types: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
