use crate::error::AppResult;
use entity::enums::LinkStatus;
use entity::item_link;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

/// What the API shows of a link: everything but the stored base record, which is large
/// and only the engine reads.
#[derive(Debug, Clone, sea_orm::DerivePartialModel)]
#[sea_orm(entity = "item_link::Entity")]
pub struct LinkSummary {
    pub id: i64,
    pub item_id: i64,
    pub connection_id: i64,
    pub entity_type: String,
    pub remote_id: String,
    pub sync_status: LinkStatus,
    pub last_synced_at: Option<chrono::DateTime<chrono::Utc>>,
    pub remote_modified_on: Option<chrono::DateTime<chrono::Utc>>,
    pub deleted_remotely: bool,
    pub paused: bool,
    pub last_error: Option<String>,
    pub attempts: i32,
}

impl From<item_link::Model> for LinkSummary {
    fn from(l: item_link::Model) -> Self {
        LinkSummary {
            id: l.id,
            item_id: l.item_id,
            connection_id: l.connection_id,
            entity_type: l.entity_type,
            remote_id: l.remote_id,
            sync_status: l.sync_status,
            last_synced_at: l.last_synced_at,
            remote_modified_on: l.remote_modified_on,
            deleted_remotely: l.deleted_remotely,
            paused: l.paused,
            last_error: l.last_error,
            attempts: l.attempts,
        }
    }
}

/// Link summaries of many items at once (DataLoader batch).
pub async fn summaries_for_items(
    db: &impl ConnectionTrait,
    account_id: i64,
    item_ids: &[i64],
) -> AppResult<Vec<LinkSummary>> {
    // Sorted here, not in SQL: `ORDER BY id` next to an `item_id IN …` look-up makes SQLite
    // build a temporary b-tree per page, a tenth of a dashboard request's database time.
    let mut rows: Vec<LinkSummary> =
        summaries_query(db.get_database_backend(), account_id, item_ids)
            .into_partial_model()
            .all(db)
            .await?;
    rows.sort_unstable_by_key(|l| l.id);
    Ok(rows)
}

/// The statement of [`summaries_for_items`] (its plan is tested).
///
/// `account_id + 0` is no index term, so SQLite finds the links by `item_id`
/// (idx_links_item_connection) instead of walking all the account's links through
/// idx_links_account_status_item, which it prefers without statistics: that walk was
/// most of an items page's CPU on SQLite. PostgreSQL plans by its statistics either way.
pub fn summaries_query(
    backend: sea_orm::DbBackend,
    account_id: i64,
    item_ids: &[i64],
) -> sea_orm::Select<item_link::Entity> {
    item_link::Entity::find()
        .filter(
            Expr::col(item_link::Column::AccountId)
                .add(0)
                .eq(account_id),
        )
        .filter(super::in_ids(backend, item_link::Column::ItemId, item_ids))
}

/// Links of many items at once.
pub async fn for_items(
    db: &impl ConnectionTrait,
    account_id: i64,
    item_ids: &[i64],
) -> AppResult<Vec<item_link::Model>> {
    Ok(item_link::Entity::find()
        .filter(item_link::Column::AccountId.eq(account_id))
        .filter(item_link::Column::ItemId.is_in(item_ids.iter().copied()))
        .order_by_asc(item_link::Column::Id)
        .all(db)
        .await?)
}

/// A local edit makes every (unpaused) link of the item owe a push.
pub async fn mark_pending_push(db: &impl ConnectionTrait, item_id: i64) -> AppResult<()> {
    item_link::Entity::update_many()
        .col_expr(
            item_link::Column::SyncStatus,
            Expr::value(LinkStatus::PendingPush.as_str()),
        )
        .col_expr(
            item_link::Column::UpdatedAt,
            Expr::value(chrono::Utc::now()),
        )
        .filter(item_link::Column::ItemId.eq(item_id))
        .filter(
            item_link::Column::SyncStatus
                .is_in([LinkStatus::Synced.as_str(), LinkStatus::Error.as_str()]),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// How many live links of a connection are in each sync state.
pub async fn status_counts(
    db: &impl ConnectionTrait,
    connection_id: i64,
) -> AppResult<Vec<(LinkStatus, i64)>> {
    use sea_orm::QuerySelect;
    let rows: Vec<(String, i64)> = item_link::Entity::find()
        .select_only()
        .column(item_link::Column::SyncStatus)
        .column_as(item_link::Column::Id.count(), "n")
        .filter(item_link::Column::ConnectionId.eq(connection_id))
        .filter(item_link::Column::DeletedRemotely.eq(false))
        .group_by(item_link::Column::SyncStatus)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, n)| s.parse().ok().map(|s| (s, n)))
        .collect())
}

pub async fn by_ids(
    db: &impl ConnectionTrait,
    account_id: i64,
    ids: &[i64],
) -> AppResult<Vec<item_link::Model>> {
    Ok(item_link::Entity::find()
        .filter(item_link::Column::AccountId.eq(account_id))
        .filter(item_link::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn get(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: i64,
) -> AppResult<item_link::Model> {
    item_link::Entity::find_by_id(id)
        .filter(item_link::Column::AccountId.eq(account_id))
        .one(db)
        .await?
        .ok_or_else(|| crate::error::AppError::not_found("link", id))
}

pub async fn of_item(
    db: &impl ConnectionTrait,
    account_id: i64,
    item_id: i64,
) -> AppResult<Vec<item_link::Model>> {
    for_items(db, account_id, &[item_id]).await
}

pub async fn set_paused(
    db: &impl ConnectionTrait,
    account_id: i64,
    item_id: i64,
    paused: bool,
) -> AppResult<u64> {
    let res = item_link::Entity::update_many()
        .col_expr(item_link::Column::Paused, Expr::value(paused))
        .col_expr(
            item_link::Column::UpdatedAt,
            Expr::value(chrono::Utc::now()),
        )
        .filter(item_link::Column::AccountId.eq(account_id))
        .filter(item_link::Column::ItemId.eq(item_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
