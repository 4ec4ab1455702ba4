use sea_orm::entity::prelude::*;

/// A maintained count of items in one scope of an account (see the `item_counts`
/// migration): written only by database triggers on `items` and `item_links`. On
/// PostgreSQL a scope may have several rows (deltas) whose sum is the count.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "item_counts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    /// `i/{kind}/{active}/{deleted}`, `c/{connection_id}/{sync_status}` or `s/{sync_status}`.
    pub scope: String,
    pub n: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
