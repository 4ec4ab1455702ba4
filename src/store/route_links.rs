//! Queries of a route (one connection's items pushed to another): the source's links in
//! id order, keyset-paged, so a route run walks every item it feeds once per run.

use crate::error::AppResult;
use entity::item_link;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// Live links of `connection_id` for `entity` after link id `after_id`, at most `limit`.
pub async fn source_links(
    db: &impl ConnectionTrait,
    connection_id: i64,
    entity: &str,
    after_id: i64,
    limit: u64,
) -> AppResult<Vec<item_link::Model>> {
    Ok(item_link::Entity::find()
        .filter(item_link::Column::ConnectionId.eq(connection_id))
        .filter(item_link::Column::EntityType.eq(entity))
        .filter(item_link::Column::DeletedRemotely.eq(false))
        .filter(item_link::Column::Id.gt(after_id))
        .order_by_asc(item_link::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// How many live links `source_links` will walk (for progress).
pub async fn count_source_links(
    db: &impl ConnectionTrait,
    connection_id: i64,
    entity: &str,
) -> AppResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(item_link::Entity::find()
        .filter(item_link::Column::ConnectionId.eq(connection_id))
        .filter(item_link::Column::EntityType.eq(entity))
        .filter(item_link::Column::DeletedRemotely.eq(false))
        .count(db)
        .await?)
}
