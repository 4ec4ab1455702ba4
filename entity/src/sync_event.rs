use crate::enums::EventLevel;
use sea_orm::entity::prelude::*;

/// Per-record problems and notable steps of a run.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub run_id: i64,
    pub connection_id: i64,
    pub level: EventLevel,
    pub kind: String,
    pub item_id: Option<i64>,
    pub remote_id: Option<String>,
    pub code: Option<String>,
    pub message: String,
    pub details: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
