use crate::enums::{AdoptionPolicy, ConnectionHealth, ConnectionStatus, Provider};
use sea_orm::entity::prelude::*;

/// A link to one upstream system. Secrets live in `connection_tokens`, never here.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "connections")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub provider: Provider,
    pub name: String,
    /// Non-secret settings: base URL, tenant id, marketplace, warehouse, sandbox flag…
    pub config: Json,
    /// Per entity type: "pull" | "push" | "both".
    pub directions: Json,
    pub status: ConnectionStatus,
    pub time_zone: String,
    pub incremental_cron: Option<String>,
    pub full_cron: Option<String>,
    pub schedule_enabled: bool,
    /// Set when the schedule paused itself after repeated failures.
    pub schedule_paused_reason: Option<String>,
    pub consecutive_failures: i32,
    /// The last schedule tick acted on; missed ticks since then coalesce into one run.
    pub last_incremental_tick_at: Option<DateTimeUtc>,
    pub last_full_tick_at: Option<DateTimeUtc>,
    pub auto_merge_disjoint: bool,
    /// Changed only through `sync::health::set`, which records every change.
    pub health: ConnectionHealth,
    pub health_reason: Option<String>,
    pub health_changed_at: Option<DateTimeUtc>,
    pub adoption_policy: AdoptionPolicy,
    /// Sync policy per entity type (or `default`): field ownership and local-edit rule;
    /// read through `sync::policy`. `{}` = every field both ways.
    pub sync_policy: Json,
    /// A local edit queues a push run for this connection at once (`jobs::push_on_save`).
    pub push_on_save: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
