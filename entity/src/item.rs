use crate::{Money, enums::ItemKind};
use sea_orm::entity::prelude::*;

/// Longest name an item may be given locally (the API and merges refuse longer).
pub const NAME_MAX_CHARS: usize = 255;
/// Longest description an item may be given locally.
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;

/// The canonical price-book row.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub kind: ItemKind,
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub cost: Option<Money>,
    pub price: Option<Money>,
    pub member_price: Option<Money>,
    pub add_on_price: Option<Money>,
    pub active: bool,
    pub category_id: Option<i64>,
    /// SI units, exact decimals as text (same reason as money).
    pub weight_kg: Option<String>,
    pub length_cm: Option<String>,
    pub width_cm: Option<String>,
    pub height_cm: Option<String>,
    pub quantity: Option<i64>,
    /// Everything else the providers carry (e.g. `materials_included`, vendors, units).
    pub attributes: Json,
    pub local_modified_at: Option<DateTimeUtc>,
    pub deleted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
