use super::page::Listing;
use crate::error::{AppError, AppResult};
use entity::category;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Select};

#[derive(Debug, Clone, Default)]
pub struct CategoryFilter {
    /// Some(None): roots only; Some(Some(id)): children of id; None: all.
    pub parent: Option<Option<i64>>,
    pub connection_id: Option<i64>,
}

/// Oldest first.
impl Listing for CategoryFilter {
    type Entity = category::Entity;
    const ID: category::Column = category::Column::Id;
    const NEWEST_FIRST: bool = false;

    fn select(&self, account_id: i64) -> Select<category::Entity> {
        let mut q = category::Entity::find().filter(category::Column::AccountId.eq(account_id));
        match self.parent {
            Some(None) => q = q.filter(category::Column::ParentId.is_null()),
            Some(Some(p)) => q = q.filter(category::Column::ParentId.eq(p)),
            None => {}
        }
        if let Some(c) = self.connection_id {
            q = q.filter(category::Column::ConnectionId.eq(c));
        }
        q
    }
}

pub async fn get(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: i64,
) -> AppResult<category::Model> {
    category::Entity::find_by_id(id)
        .filter(category::Column::AccountId.eq(account_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("category", id))
}

pub async fn by_ids(
    db: &impl ConnectionTrait,
    account_id: i64,
    ids: &[i64],
) -> AppResult<Vec<category::Model>> {
    Ok(category::Entity::find()
        .filter(category::Column::AccountId.eq(account_id))
        .filter(super::in_ids(
            db.get_database_backend(),
            category::Column::Id,
            ids,
        ))
        .all(db)
        .await?)
}

pub async fn children_of(
    db: &impl ConnectionTrait,
    account_id: i64,
    parent_ids: &[i64],
) -> AppResult<Vec<category::Model>> {
    Ok(category::Entity::find()
        .filter(category::Column::AccountId.eq(account_id))
        .filter(category::Column::ParentId.is_in(parent_ids.iter().copied()))
        .order_by_asc(category::Column::Id)
        .all(db)
        .await?)
}
