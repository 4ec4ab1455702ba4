use crate::enums::{ConflictKind, ConflictStatus, Resolution};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "conflicts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub connection_id: i64,
    pub item_id: i64,
    pub link_id: i64,
    pub run_id: Option<i64>,
    pub kind: ConflictKind,
    pub status: ConflictStatus,
    /// `[{field, base, local, remote}]`
    pub fields: Json,
    pub base: Json,
    pub local: Json,
    /// Null for a remote delete.
    pub remote: Json,
    pub local_hash: String,
    pub remote_hash: String,
    pub resolution: Option<Resolution>,
    pub merged: Option<Json>,
    pub resolved_by: Option<i64>,
    pub resolved_at: Option<DateTimeUtc>,
    pub comment: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
