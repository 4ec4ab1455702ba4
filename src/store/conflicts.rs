//! Conflicts and the rest of the review queue (links whose last sync failed), always
//! scoped to the caller's account.

use super::page::Listing;
use crate::error::{AppError, AppResult};
use entity::enums::{ConflictKind, ConflictStatus, LinkStatus};
use entity::{conflict, item, item_link};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, Select,
};

#[derive(Debug, Clone, Default)]
pub struct ConflictFilter {
    pub connection_id: Option<i64>,
    pub status: Option<ConflictStatus>,
    pub kind: Option<ConflictKind>,
    /// Matches the item's code or name.
    pub search: Option<String>,
}

/// Newest first.
impl Listing for ConflictFilter {
    type Entity = conflict::Entity;
    const ID: conflict::Column = conflict::Column::Id;
    const NEWEST_FIRST: bool = true;

    fn select(&self, account_id: i64) -> Select<conflict::Entity> {
        let mut q = conflict::Entity::find().filter(conflict::Column::AccountId.eq(account_id));
        if let Some(c) = self.connection_id {
            q = q.filter(conflict::Column::ConnectionId.eq(c));
        }
        if let Some(s) = self.status {
            q = q.filter(conflict::Column::Status.eq(s));
        }
        if let Some(k) = self.kind {
            q = q.filter(conflict::Column::Kind.eq(k));
        }
        if let Some(text) = self
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let mut items = Query::select();
            items
                .column(item::Column::Id)
                .from(item::Entity)
                .and_where(item::Column::AccountId.eq(account_id))
                .cond_where(super::items::matches_search(text));
            q = q.filter(conflict::Column::ItemId.in_subquery(items.to_owned()));
        }
        q
    }
}

pub async fn get(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: i64,
) -> AppResult<conflict::Model> {
    conflict::Entity::find_by_id(id)
        .filter(conflict::Column::AccountId.eq(account_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("conflict", id))
}

/// Several conflicts of the account; unknown ids are simply absent from the answer.
pub async fn get_many(
    db: &impl ConnectionTrait,
    account_id: i64,
    ids: &[i64],
) -> AppResult<Vec<conflict::Model>> {
    Ok(conflict::Entity::find()
        .filter(conflict::Column::AccountId.eq(account_id))
        .filter(conflict::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// Writes a conflict row back (resolved, or refreshed with newer sides).
pub async fn save(db: &impl ConnectionTrait, row: conflict::Model) -> AppResult<conflict::Model> {
    use sea_orm::ActiveModelTrait;
    Ok(row.into_active_model().reset_all().update(db).await?)
}

/// Open conflicts per kind, for the review queue's counts.
pub async fn open_counts(
    db: &impl ConnectionTrait,
    account_id: i64,
    connection_id: Option<i64>,
) -> AppResult<Vec<(ConflictKind, i64)>> {
    let mut q = conflict::Entity::find()
        .select_only()
        .column(conflict::Column::Kind)
        .column_as(conflict::Column::Id.count(), "n")
        .filter(conflict::Column::AccountId.eq(account_id))
        .filter(conflict::Column::Status.eq(ConflictStatus::Open));
    if let Some(c) = connection_id {
        q = q.filter(conflict::Column::ConnectionId.eq(c));
    }
    let rows: Vec<(String, i64)> = q
        .group_by(conflict::Column::Kind)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(k, n)| k.parse().ok().map(|k| (k, n)))
        .collect())
}

/// Links whose last sync failed (newest first) and that nobody chose to ignore (a paused
/// link is the admin's answer, so it leaves the queue): the other half of the review queue.
#[derive(Debug, Clone, Default)]
pub struct FailedLinks {
    pub connection_id: Option<i64>,
}

impl Listing for FailedLinks {
    type Entity = item_link::Entity;
    const ID: item_link::Column = item_link::Column::Id;
    const NEWEST_FIRST: bool = true;

    fn select(&self, account_id: i64) -> Select<item_link::Entity> {
        let mut q = item_link::Entity::find()
            .filter(item_link::Column::AccountId.eq(account_id))
            .filter(item_link::Column::SyncStatus.eq(LinkStatus::Error))
            .filter(item_link::Column::Paused.eq(false));
        if let Some(c) = self.connection_id {
            q = q.filter(item_link::Column::ConnectionId.eq(c));
        }
        q
    }
}

/// The newest conflict id of the account (0 when none), where a live feed starts.
pub async fn max_id(db: &impl ConnectionTrait, account_id: i64) -> AppResult<i64> {
    let max: Option<Option<i64>> = conflict::Entity::find()
        .select_only()
        .column_as(conflict::Column::Id.max(), "m")
        .filter(conflict::Column::AccountId.eq(account_id))
        .into_tuple()
        .one(db)
        .await?;
    Ok(max.flatten().unwrap_or(0))
}

/// Open conflicts stored after `after_id`, oldest first (the live feed's next batch).
pub async fn open_after(
    db: &impl ConnectionTrait,
    account_id: i64,
    connection_id: Option<i64>,
    after_id: i64,
) -> AppResult<Vec<conflict::Model>> {
    use sea_orm::QueryOrder;
    let mut q = conflict::Entity::find()
        .filter(conflict::Column::AccountId.eq(account_id))
        .filter(conflict::Column::Status.eq(ConflictStatus::Open))
        .filter(conflict::Column::Id.gt(after_id));
    if let Some(c) = connection_id {
        q = q.filter(conflict::Column::ConnectionId.eq(c));
    }
    Ok(q.order_by_asc(conflict::Column::Id)
        .limit(500)
        .all(db)
        .await?)
}
