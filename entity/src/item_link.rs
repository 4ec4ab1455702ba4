use crate::enums::LinkStatus;
use sea_orm::entity::prelude::*;

/// One row per (item, connection): the remote identity and the base of the three-way diff.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "item_links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub item_id: i64,
    pub connection_id: i64,
    /// Upstream entity type, e.g. "materials", "services", "products".
    pub entity_type: String,
    pub remote_id: String,
    pub remote_modified_on: Option<DateTimeUtc>,
    pub last_synced_at: Option<DateTimeUtc>,
    /// Canonical fields at the last sync; an empty object before the first one settled
    /// (a first link waiting in a FIRST_LINK conflict).
    pub base: Json,
    pub base_hash: String,
    pub last_pushed_hash: Option<String>,
    /// Set (and committed) before an upstream write is sent, cleared when its answer is
    /// recorded: a run resumed after a crash checks the upstream record for it instead of
    /// writing again.
    pub push_started_hash: Option<String>,
    pub sync_status: LinkStatus,
    pub deleted_remotely: bool,
    pub paused: bool,
    /// The full run that last saw this record upstream; after a complete listing, links
    /// not seen by the run were deleted remotely. Survives a crash, unlike memory.
    pub last_seen_run_id: Option<i64>,
    pub last_error: Option<String>,
    pub attempts: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
