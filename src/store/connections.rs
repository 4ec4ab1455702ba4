use super::page::{Listing, Page, PageArgs};
use crate::auth::secrets::SecretBox;
use crate::error::{AppError, AppResult};
use entity::enums::{AdoptionPolicy, ConnectionHealth, ConnectionStatus, Provider};
use entity::{connection, connection_token, item_link, sync_cursor};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    Select, Set,
};

pub struct NewConnection {
    pub provider: Provider,
    pub name: String,
    pub config: serde_json::Value,
    pub directions: serde_json::Value,
    pub secrets: Option<serde_json::Value>,
    pub time_zone: String,
    pub adoption_policy: AdoptionPolicy,
    /// A local edit queues a push run at once (see `sync::push_on_save`).
    pub push_on_save: bool,
}

#[derive(Default)]
pub struct ConnectionPatch {
    pub name: Option<String>,
    pub config: Option<serde_json::Value>,
    pub directions: Option<serde_json::Value>,
    pub secrets: Option<serde_json::Value>,
    pub status: Option<ConnectionStatus>,
    pub time_zone: Option<String>,
    pub auto_merge_disjoint: Option<bool>,
    pub adoption_policy: Option<AdoptionPolicy>,
    pub push_on_save: Option<bool>,
}

pub async fn get(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: i64,
) -> AppResult<connection::Model> {
    connection::Entity::find_by_id(id)
        .filter(connection::Column::AccountId.eq(account_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("connection", id))
}

/// By numeric id or by name (for the CLI).
pub async fn find_by_id_or_name(
    db: &impl ConnectionTrait,
    account_id: Option<i64>,
    key: &str,
) -> AppResult<connection::Model> {
    let mut q = connection::Entity::find();
    q = match key.parse::<i64>() {
        Ok(id) => q.filter(connection::Column::Id.eq(id)),
        Err(_) => q.filter(connection::Column::Name.eq(key)),
    };
    if let Some(account_id) = account_id {
        q = q.filter(connection::Column::AccountId.eq(account_id));
    }
    q.one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("connection '{key}' not found")))
}

/// Unscoped lookup for background workers that already hold a run of this connection.
pub async fn get_unscoped(db: &impl ConnectionTrait, id: i64) -> AppResult<connection::Model> {
    connection::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("connection", id))
}

/// Every connection of the account, oldest first.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllConnections;

impl Listing for AllConnections {
    type Entity = connection::Entity;
    const ID: connection::Column = connection::Column::Id;
    const NEWEST_FIRST: bool = false;

    fn select(&self, account_id: i64) -> Select<connection::Entity> {
        connection::Entity::find().filter(connection::Column::AccountId.eq(account_id))
    }
}

pub async fn list(
    db: &impl ConnectionTrait,
    account_id: i64,
    args: &PageArgs,
) -> AppResult<Page<connection::Model>> {
    super::page::list(db, account_id, &AllConnections, args).await
}

async fn ensure_name_free(
    db: &impl ConnectionTrait,
    account_id: i64,
    name: &str,
    except: Option<i64>,
) -> AppResult<()> {
    let mut q = connection::Entity::find()
        .filter(connection::Column::AccountId.eq(account_id))
        .filter(connection::Column::Name.eq(name));
    if let Some(id) = except {
        q = q.filter(connection::Column::Id.ne(id));
    }
    if q.one(db).await?.is_some() {
        return Err(AppError::bad_input(format!(
            "a connection named '{name}' already exists"
        )));
    }
    Ok(())
}

pub async fn create(
    db: &impl ConnectionTrait,
    secrets_box: &SecretBox,
    account_id: i64,
    new: NewConnection,
) -> AppResult<connection::Model> {
    let name = new.name.trim().to_owned();
    if name.is_empty() || name.len() > 200 {
        return Err(AppError::bad_input(
            "connection name must be 1 to 200 characters",
        ));
    }
    ensure_name_free(db, account_id, &name, None).await?;
    let now = chrono::Utc::now();
    let model = connection::ActiveModel {
        account_id: Set(account_id),
        provider: Set(new.provider),
        name: Set(name),
        config: Set(new.config),
        directions: Set(new.directions),
        status: Set(ConnectionStatus::Active),
        time_zone: Set(new.time_zone),
        incremental_cron: Set(Some(DEFAULT_INCREMENTAL_CRON.into())),
        full_cron: Set(Some(DEFAULT_FULL_CRON.into())),
        schedule_enabled: Set(false),
        schedule_paused_reason: Set(None),
        consecutive_failures: Set(0),
        last_incremental_tick_at: Set(None),
        last_full_tick_at: Set(None),
        auto_merge_disjoint: Set(false),
        health: Set(ConnectionHealth::Active),
        health_reason: Set(None),
        health_changed_at: Set(None),
        adoption_policy: Set(new.adoption_policy),
        push_on_save: Set(new.push_on_save),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    if let Some(secrets) = new.secrets {
        store_secrets(db, secrets_box, account_id, model.id, &secrets).await?;
    }
    Ok(model)
}

/// Replaces a connection's sync policy (already validated by the caller).
pub async fn set_sync_policy(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: i64,
    policy: serde_json::Value,
) -> AppResult<()> {
    let current = get(db, account_id, id).await?;
    let mut active: connection::ActiveModel = current.into();
    active.sync_policy = Set(policy);
    active.updated_at = Set(chrono::Utc::now());
    active.update(db).await?;
    Ok(())
}

pub const DEFAULT_INCREMENTAL_CRON: &str = "*/15 * * * *";
pub const DEFAULT_FULL_CRON: &str = "0 2 * * *";

pub async fn update(
    db: &impl ConnectionTrait,
    secrets_box: &SecretBox,
    account_id: i64,
    id: i64,
    patch: ConnectionPatch,
) -> AppResult<connection::Model> {
    let current = get(db, account_id, id).await?;
    let mut active: connection::ActiveModel = current.clone().into();
    if let Some(name) = patch.name {
        let name = name.trim().to_owned();
        if name.is_empty() || name.len() > 200 {
            return Err(AppError::bad_input(
                "connection name must be 1 to 200 characters",
            ));
        }
        ensure_name_free(db, account_id, &name, Some(id)).await?;
        active.name = Set(name);
    }
    if let Some(config) = patch.config {
        active.config = Set(config);
    }
    if let Some(directions) = patch.directions {
        active.directions = Set(directions);
    }
    if let Some(status) = patch.status {
        active.status = Set(status);
    }
    if let Some(tz) = patch.time_zone {
        active.time_zone = Set(tz);
    }
    if let Some(flag) = patch.auto_merge_disjoint {
        active.auto_merge_disjoint = Set(flag);
    }
    if let Some(policy) = patch.adoption_policy {
        active.adoption_policy = Set(policy);
    }
    if let Some(flag) = patch.push_on_save {
        active.push_on_save = Set(flag);
    }
    active.updated_at = Set(chrono::Utc::now());
    let updated = active.update(db).await?;
    if let Some(secrets) = patch.secrets {
        // Merge so a partial update (e.g. a new client secret) keeps the other keys.
        let mut merged = read_secrets(db, secrets_box, id)
            .await?
            .unwrap_or_else(|| serde_json::json!({}));
        if let (Some(target), Some(source)) = (merged.as_object_mut(), secrets.as_object()) {
            for (k, v) in source {
                target.insert(k.clone(), v.clone());
            }
        }
        store_secrets(db, secrets_box, account_id, id, &merged).await?;
    }
    Ok(updated)
}

/// Deletes a connection with its links, cursors, secrets and vendor feeds. Items and
/// vendor prices stay (they are the business's data); they simply stop being synced.
pub async fn delete(db: &impl ConnectionTrait, account_id: i64, id: i64) -> AppResult<()> {
    get(db, account_id, id).await?;
    item_link::Entity::delete_many()
        .filter(item_link::Column::ConnectionId.eq(id))
        .exec(db)
        .await?;
    sync_cursor::Entity::delete_many()
        .filter(sync_cursor::Column::ConnectionId.eq(id))
        .exec(db)
        .await?;
    connection_token::Entity::delete_many()
        .filter(connection_token::Column::ConnectionId.eq(id))
        .exec(db)
        .await?;
    entity::conflict::Entity::delete_many()
        .filter(entity::conflict::Column::ConnectionId.eq(id))
        .exec(db)
        .await?;
    entity::vendor_feed::Entity::delete_many()
        .filter(entity::vendor_feed::Column::ConnectionId.eq(id))
        .exec(db)
        .await?;
    connection::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Moves a connection's health from `from` to `to`; false when it was no longer `from`
/// (another instance got there first). Only `sync::health::set` calls this.
pub async fn set_health(
    db: &impl ConnectionTrait,
    id: i64,
    from: ConnectionHealth,
    to: ConnectionHealth,
    reason: Option<&str>,
) -> AppResult<bool> {
    use sea_orm::sea_query::Expr;
    let now = chrono::Utc::now();
    let mut q = connection::Entity::update_many()
        .col_expr(connection::Column::Health, Expr::value(to.as_str()))
        .col_expr(connection::Column::HealthReason, Expr::value(reason))
        .filter(connection::Column::Id.eq(id))
        .filter(connection::Column::Health.eq(from));
    if from != to {
        q = q.col_expr(connection::Column::HealthChangedAt, Expr::value(now));
    }
    Ok(q.exec(db).await?.rows_affected == 1)
}

/// A finished run's count of consecutive failures, and the schedule's self-pause
/// (`Some(None)` clears it).
pub async fn record_failures(
    db: &impl ConnectionTrait,
    id: i64,
    consecutive_failures: i32,
    schedule_paused_reason: Option<Option<String>>,
) -> AppResult<()> {
    use sea_orm::sea_query::Expr;
    let mut q = connection::Entity::update_many()
        .col_expr(
            connection::Column::ConsecutiveFailures,
            Expr::value(consecutive_failures),
        )
        .filter(connection::Column::Id.eq(id));
    if let Some(reason) = schedule_paused_reason {
        q = q.col_expr(
            connection::Column::SchedulePausedReason,
            Expr::value(reason),
        );
    }
    q.exec(db).await?;
    Ok(())
}

pub async fn store_secrets(
    db: &impl ConnectionTrait,
    secrets_box: &SecretBox,
    account_id: i64,
    connection_id: i64,
    secrets: &serde_json::Value,
) -> AppResult<()> {
    let ciphertext = secrets_box.seal(secrets)?;
    let now = chrono::Utc::now();
    match connection_token::Entity::find()
        .filter(connection_token::Column::ConnectionId.eq(connection_id))
        .one(db)
        .await?
    {
        Some(existing) => {
            let mut active: connection_token::ActiveModel = existing.into();
            active.ciphertext = Set(ciphertext);
            active.updated_at = Set(now);
            active.update(db).await?;
        }
        None => {
            connection_token::ActiveModel {
                account_id: Set(account_id),
                connection_id: Set(connection_id),
                ciphertext: Set(ciphertext),
                access_expires_at: Set(None),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

pub async fn read_secrets(
    db: &impl ConnectionTrait,
    secrets_box: &SecretBox,
    connection_id: i64,
) -> AppResult<Option<serde_json::Value>> {
    match connection_token::Entity::find()
        .filter(connection_token::Column::ConnectionId.eq(connection_id))
        .one(db)
        .await?
    {
        Some(row) => Ok(Some(secrets_box.open(&row.ciphertext)?)),
        None => Ok(None),
    }
}

pub async fn has_secrets(db: &impl ConnectionTrait, connection_id: i64) -> AppResult<bool> {
    Ok(connection_token::Entity::find()
        .filter(connection_token::Column::ConnectionId.eq(connection_id))
        .count(db)
        .await?
        > 0)
}

pub async fn open_conflicts(db: &impl ConnectionTrait, connection_id: i64) -> AppResult<u64> {
    use entity::conflict;
    use entity::enums::ConflictStatus;
    Ok(conflict::Entity::find()
        .filter(conflict::Column::ConnectionId.eq(connection_id))
        .filter(conflict::Column::Status.eq(ConflictStatus::Open))
        .count(db)
        .await?)
}

/// Merges keys into a connection's encrypted secrets (a `null` value removes the key), e.g.
/// a rotated refresh token. Returns the merged secrets.
pub async fn merge_secrets(
    db: &impl ConnectionTrait,
    secrets_box: &SecretBox,
    connection_id: i64,
    patch: &serde_json::Value,
) -> AppResult<serde_json::Value> {
    let conn = get_unscoped(db, connection_id).await?;
    let mut merged = read_secrets(db, secrets_box, connection_id)
        .await?
        .filter(|s| s.is_object())
        .unwrap_or_else(|| serde_json::json!({}));
    if let (Some(target), Some(source)) = (merged.as_object_mut(), patch.as_object()) {
        for (k, v) in source {
            if v.is_null() {
                target.remove(k);
            } else {
                target.insert(k.clone(), v.clone());
            }
        }
    }
    store_secrets(db, secrets_box, conn.account_id, connection_id, &merged).await?;
    Ok(merged)
}
