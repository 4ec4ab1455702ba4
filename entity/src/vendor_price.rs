use crate::Money;
use sea_orm::entity::prelude::*;

/// Local only, never pushed; survives remote deletes of the item.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "vendor_prices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub item_id: i64,
    pub vendor: String,
    pub vendor_sku: String,
    pub price: Money,
    pub effective_date: Date,
    pub import_run_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
