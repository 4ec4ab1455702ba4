//! Queries of the sync engine: links by remote id, batched upserts, cursors, events,
//! conflicts and synced categories. Batched so a page costs a handful of statements.

use crate::error::AppResult;
use crate::sync::progress::RunEvent;
use entity::enums::{ConflictStatus, LinkStatus};
use entity::{category, conflict, item, item_link, sync_cursor, sync_event};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, Iterable,
    PrimaryKeyToColumn, QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::HashSet;

/// A model as a row to insert: the database assigns the primary key.
fn new_row<M: IntoActiveModel<A>, A: ActiveModelTrait>(model: M) -> A {
    let mut row = model.into_active_model();
    for key in <A::Entity as EntityTrait>::PrimaryKey::iter() {
        row.not_set(key.into_column());
    }
    row
}

/// Inserts new rows in one statement (nothing to do for none).
async fn insert_new<M, A>(db: &impl ConnectionTrait, rows: Vec<M>) -> AppResult<()>
where
    M: IntoActiveModel<A>,
    A: ActiveModelTrait + Send,
{
    if rows.is_empty() {
        return Ok(());
    }
    <A::Entity as EntityTrait>::insert_many(rows.into_iter().map(new_row))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn links_by_remote_ids(
    db: &impl ConnectionTrait,
    connection_id: i64,
    entity: &str,
    remote_ids: &[String],
) -> AppResult<Vec<item_link::Model>> {
    Ok(item_link::Entity::find()
        .filter(item_link::Column::ConnectionId.eq(connection_id))
        .filter(item_link::Column::EntityType.eq(entity))
        .filter(item_link::Column::RemoteId.is_in(remote_ids.iter().cloned()))
        .all(db)
        .await?)
}

pub async fn links_of_items(
    db: &impl ConnectionTrait,
    connection_id: i64,
    item_ids: &[i64],
) -> AppResult<Vec<item_link::Model>> {
    Ok(item_link::Entity::find()
        .filter(item_link::Column::ConnectionId.eq(connection_id))
        .filter(item_link::Column::ItemId.is_in(item_ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn items_by_ids(
    db: &impl ConnectionTrait,
    account_id: i64,
    ids: &[i64],
) -> AppResult<Vec<item::Model>> {
    super::items::by_ids(db, account_id, ids).await
}

/// Live items with one of `codes`, candidates for adoption by code.
pub async fn items_by_codes(
    db: &impl ConnectionTrait,
    account_id: i64,
    kind: entity::enums::ItemKind,
    codes: &[String],
) -> AppResult<Vec<item::Model>> {
    Ok(item::Entity::find()
        .filter(item::Column::AccountId.eq(account_id))
        .filter(item::Column::Kind.eq(kind))
        .filter(item::Column::Code.is_in(codes.iter().cloned()))
        .filter(item::Column::DeletedAt.is_null())
        .order_by_asc(item::Column::Id)
        .all(db)
        .await?)
}

/// Inserts new items and returns them in input order (one statement, RETURNING).
pub async fn insert_items(
    db: &impl ConnectionTrait,
    rows: Vec<item::Model>,
) -> AppResult<Vec<item::Model>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let models = rows.into_iter().map(new_row);
    Ok(item::Entity::insert_many(models)
        .exec_with_returning(db)
        .await?)
}

/// Rewrites existing items in one statement (upsert on the primary key).
pub async fn update_items(db: &impl ConnectionTrait, rows: Vec<item::Model>) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    use item::Column as C;
    let models = rows.into_iter().map(|m| m.into_active_model().reset_all());
    item::Entity::insert_many(models)
        .on_conflict(
            OnConflict::column(C::Id)
                .update_columns([
                    C::Code,
                    C::Name,
                    C::Description,
                    C::Cost,
                    C::Price,
                    C::MemberPrice,
                    C::AddOnPrice,
                    C::Active,
                    C::CategoryId,
                    C::WeightKg,
                    C::LengthCm,
                    C::WidthCm,
                    C::HeightCm,
                    C::Quantity,
                    C::Attributes,
                    C::LocalModifiedAt,
                    C::DeletedAt,
                    C::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn insert_links(db: &impl ConnectionTrait, rows: Vec<item_link::Model>) -> AppResult<()> {
    insert_new(db, rows).await
}

/// Inserts new links and returns them in input order (one statement, RETURNING).
pub async fn insert_links_returning(
    db: &impl ConnectionTrait,
    rows: Vec<item_link::Model>,
) -> AppResult<Vec<item_link::Model>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    Ok(
        item_link::Entity::insert_many(rows.into_iter().map(new_row))
            .exec_with_returning(db)
            .await?,
    )
}

pub async fn update_links(db: &impl ConnectionTrait, rows: Vec<item_link::Model>) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    use item_link::Column as C;
    let models = rows.into_iter().map(|m| m.into_active_model().reset_all());
    item_link::Entity::insert_many(models)
        .on_conflict(
            OnConflict::column(C::Id)
                .update_columns([
                    C::RemoteId,
                    C::RemoteModifiedOn,
                    C::LastSyncedAt,
                    C::Base,
                    C::BaseHash,
                    C::LastPushedHash,
                    C::PushStartedHash,
                    C::SyncStatus,
                    C::DeletedRemotely,
                    C::Paused,
                    C::LastSeenRunId,
                    C::LastError,
                    C::Attempts,
                    C::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Records that a full run saw these links upstream.
/// Removes links (a record left its connection's filter); their items stay.
pub async fn delete_links(db: &impl ConnectionTrait, ids: &[i64]) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    item_link::Entity::delete_many()
        .filter(item_link::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// Deepest category tree a filter follows.
const MAX_CATEGORY_DEPTH: usize = 32;

/// A category and every category below it (the account's; bounded depth).
pub async fn category_subtree(
    db: &impl ConnectionTrait,
    account_id: i64,
    root: i64,
) -> AppResult<HashSet<i64>> {
    let mut all: HashSet<i64> = HashSet::from([root]);
    let mut level = vec![root];
    for _ in 0..MAX_CATEGORY_DEPTH {
        if level.is_empty() {
            break;
        }
        let children = super::categories::children_of(db, account_id, &level).await?;
        level = children
            .into_iter()
            .map(|c| c.id)
            .filter(|id| all.insert(*id))
            .collect();
    }
    Ok(all)
}

pub async fn mark_seen(db: &impl ConnectionTrait, link_ids: &[i64], run_id: i64) -> AppResult<()> {
    if link_ids.is_empty() {
        return Ok(());
    }
    item_link::Entity::update_many()
        .col_expr(item_link::Column::LastSeenRunId, Expr::value(run_id))
        .filter(item_link::Column::Id.is_in(link_ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// Links of an entity type a completed full listing did not see: deleted upstream.
pub async fn unseen_links(
    db: &impl ConnectionTrait,
    connection_id: i64,
    entity: &str,
    run_id: i64,
    after_id: i64,
    limit: u64,
) -> AppResult<Vec<item_link::Model>> {
    Ok(item_link::Entity::find()
        .filter(item_link::Column::ConnectionId.eq(connection_id))
        .filter(item_link::Column::EntityType.eq(entity))
        .filter(item_link::Column::DeletedRemotely.eq(false))
        .filter(item_link::Column::Id.gt(after_id))
        .filter(
            item_link::Column::LastSeenRunId
                .is_null()
                .or(item_link::Column::LastSeenRunId.ne(run_id)),
        )
        .order_by_asc(item_link::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Links that owe a push, in id order (keyset-paged by the caller).
pub async fn links_to_push(
    db: &impl ConnectionTrait,
    connection_id: i64,
    after_id: i64,
    limit: u64,
    only_items: Option<&[i64]>,
) -> AppResult<Vec<item_link::Model>> {
    let mut q = item_link::Entity::find()
        .filter(item_link::Column::ConnectionId.eq(connection_id))
        .filter(item_link::Column::SyncStatus.is_in([LinkStatus::PendingPush, LinkStatus::Error]))
        .filter(item_link::Column::Paused.eq(false))
        .filter(item_link::Column::DeletedRemotely.eq(false))
        .filter(item_link::Column::Id.gt(after_id));
    if let Some(ids) = only_items {
        q = q.filter(item_link::Column::ItemId.is_in(ids.iter().copied()));
    }
    Ok(q.order_by_asc(item_link::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

pub async fn get_cursor(
    db: &impl ConnectionTrait,
    connection_id: i64,
    entity: &str,
) -> AppResult<Option<String>> {
    Ok(sync_cursor::Entity::find()
        .filter(sync_cursor::Column::ConnectionId.eq(connection_id))
        .filter(sync_cursor::Column::EntityType.eq(entity))
        .one(db)
        .await?
        .map(|c| c.cursor))
}

pub async fn set_cursor(
    db: &impl ConnectionTrait,
    account_id: i64,
    connection_id: i64,
    entity: &str,
    cursor: &str,
) -> AppResult<()> {
    let existing = sync_cursor::Entity::find()
        .filter(sync_cursor::Column::ConnectionId.eq(connection_id))
        .filter(sync_cursor::Column::EntityType.eq(entity))
        .one(db)
        .await?;
    let now = chrono::Utc::now();
    match existing {
        Some(c) => {
            let mut a = c.into_active_model();
            a.cursor = Set(cursor.to_owned());
            a.updated_at = Set(now);
            a.update(db).await?;
        }
        None => {
            sync_cursor::ActiveModel {
                account_id: Set(account_id),
                connection_id: Set(connection_id),
                entity_type: Set(entity.to_owned()),
                cursor: Set(cursor.to_owned()),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

pub async fn insert_events(
    db: &impl ConnectionTrait,
    account_id: i64,
    connection_id: i64,
    run_id: i64,
    events: Vec<RunEvent>,
) -> AppResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let now = chrono::Utc::now();
    let rows = events.into_iter().map(|mut e| {
        // Upstream answers end up in event messages: never with a secret in them.
        e.message = crate::redact::scrub(&e.message).into_owned();
        crate::redact::scrub_json(&mut e.details);
        e
    });
    let mut rows = rows.map(|e| sync_event::ActiveModel {
        account_id: Set(account_id),
        run_id: Set(run_id),
        connection_id: Set(connection_id),
        level: Set(e.level),
        kind: Set(e.kind),
        item_id: Set(e.item_id),
        remote_id: Set(e.remote_id),
        code: Set(e.code),
        message: Set(e.message),
        details: Set(e.details),
        created_at: Set(now),
        ..Default::default()
    });
    // In statements of at most 1,000 rows: a page may fail record by record, and one
    // statement for all of them would pass SQLite's limit of 32,766 bound values.
    loop {
        let chunk: Vec<_> = rows.by_ref().take(1_000).collect();
        if chunk.is_empty() {
            return Ok(());
        }
        sync_event::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
}

pub async fn open_conflicts_of_links(
    db: &impl ConnectionTrait,
    link_ids: &[i64],
) -> AppResult<Vec<conflict::Model>> {
    Ok(conflict::Entity::find()
        .filter(conflict::Column::LinkId.is_in(link_ids.iter().copied()))
        .filter(conflict::Column::Status.eq(ConflictStatus::Open))
        .all(db)
        .await?)
}

pub async fn insert_conflicts(
    db: &impl ConnectionTrait,
    rows: Vec<conflict::Model>,
) -> AppResult<()> {
    insert_new(db, rows).await
}

/// Refreshes open conflicts whose sides changed again since they were stored.
pub async fn refresh_conflict(db: &impl ConnectionTrait, row: conflict::Model) -> AppResult<()> {
    row.into_active_model().reset_all().update(db).await?;
    Ok(())
}

pub async fn categories_of_connection(
    db: &impl ConnectionTrait,
    connection_id: i64,
) -> AppResult<Vec<category::Model>> {
    Ok(category::Entity::find()
        .filter(category::Column::ConnectionId.eq(connection_id))
        .order_by_asc(category::Column::Id)
        .all(db)
        .await?)
}

pub async fn insert_categories(
    db: &impl ConnectionTrait,
    rows: Vec<category::Model>,
) -> AppResult<()> {
    insert_new(db, rows).await
}

pub async fn update_categories(
    db: &impl ConnectionTrait,
    rows: Vec<category::Model>,
) -> AppResult<()> {
    for row in rows {
        row.into_active_model().reset_all().update(db).await?;
    }
    Ok(())
}
