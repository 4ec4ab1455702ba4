//! API keys: created and revoked by admins, looked up by the hash of the presented key.

use crate::error::{AppError, AppResult};
use entity::{api_key, enums::Role};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

pub struct NewApiKey<'a> {
    pub account_id: i64,
    pub name: &'a str,
    pub role: Role,
    pub key_prefix: &'a str,
    pub key_hash: &'a str,
    pub created_by: Option<i64>,
}

pub async fn create(db: &impl ConnectionTrait, new: NewApiKey<'_>) -> AppResult<api_key::Model> {
    Ok(api_key::ActiveModel {
        account_id: Set(new.account_id),
        name: Set(new.name.to_owned()),
        role: Set(new.role),
        key_prefix: Set(new.key_prefix.to_owned()),
        key_hash: Set(new.key_hash.to_owned()),
        created_by: Set(new.created_by),
        created_at: Set(chrono::Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// The key with this hash, revoked or not (the caller decides what revoked means).
pub async fn find_by_hash(
    db: &impl ConnectionTrait,
    key_hash: &str,
) -> AppResult<Option<api_key::Model>> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(key_hash))
        .one(db)
        .await?)
}

/// A key by id, in any account (for a credential that names its key, checked by the caller).
pub async fn get_unscoped(db: &impl ConnectionTrait, id: i64) -> AppResult<Option<api_key::Model>> {
    Ok(api_key::Entity::find_by_id(id).one(db).await?)
}

/// The account's keys, newest first, revoked ones included.
pub async fn list(db: &impl ConnectionTrait, account_id: i64) -> AppResult<Vec<api_key::Model>> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::AccountId.eq(account_id))
        .order_by_desc(api_key::Column::Id)
        .all(db)
        .await?)
}

/// Marks a key revoked (idempotent: the first revocation time stays).
pub async fn revoke(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: i64,
) -> AppResult<api_key::Model> {
    let key = api_key::Entity::find_by_id(id)
        .filter(api_key::Column::AccountId.eq(account_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("API key", id))?;
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    let mut active: api_key::ActiveModel = key.into();
    active.revoked_at = Set(Some(chrono::Utc::now()));
    Ok(active.update(db).await?)
}

/// Records that the key was used just now.
pub async fn touch(
    db: &impl ConnectionTrait,
    id: i64,
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    api_key::Entity::update_many()
        .col_expr(
            api_key::Column::LastUsedAt,
            sea_orm::sea_query::Expr::value(at),
        )
        .filter(api_key::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
