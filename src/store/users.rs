use crate::error::{AppError, AppResult};
use entity::{enums::Role, user};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

pub fn normalise_email(email: &str) -> AppResult<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 320
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        });
    if valid {
        Ok(email)
    } else {
        Err(AppError::bad_input(format!(
            "'{email}' is not a valid email address"
        )))
    }
}

pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await?)
}

/// Creates a user. An email already in use (in this account or any other) is refused with
/// the same message either way, so an admin of one tenant cannot learn who uses another.
pub async fn create(
    db: &impl ConnectionTrait,
    account_id: i64,
    email: &str,
    password_hash: String,
    role: Role,
) -> AppResult<user::Model> {
    let email = normalise_email(email)?;
    if find_by_email(db, &email).await?.is_some() {
        return Err(email_unavailable(&email));
    }
    let model = user::ActiveModel {
        account_id: Set(account_id),
        email: Set(email.clone()),
        password_hash: Set(password_hash),
        role: Set(role),
        created_at: Set(chrono::Utc::now()),
        last_login_at: Set(None),
        token_version: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await
    // Two creations racing past the check above meet the unique index.
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => email_unavailable(&email),
        _ => e.into(),
    })?;
    Ok(model)
}

fn email_unavailable(email: &str) -> AppError {
    AppError::bad_input(format!(
        "{email} cannot be used for a new user; choose another email address"
    ))
}

pub async fn touch_login(db: &impl ConnectionTrait, user_id: i64) -> AppResult<()> {
    user::Entity::update_many()
        .col_expr(
            user::Column::LastLoginAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now()),
        )
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn get(db: &impl ConnectionTrait, account_id: i64, id: i64) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .filter(user::Column::AccountId.eq(account_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("user", id))
}

pub async fn list(db: &impl ConnectionTrait, account_id: i64) -> AppResult<Vec<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::AccountId.eq(account_id))
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?)
}

pub async fn set_role(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: i64,
    role: Role,
) -> AppResult<user::Model> {
    let current = get(db, account_id, id).await?;
    let version = current.token_version + 1;
    let mut active: user::ActiveModel = current.into();
    active.role = Set(role);
    // A new role revokes the sessions issued under the old one.
    active.token_version = Set(version);
    Ok(active.update(db).await?)
}

/// A user by id in any account: what a session token names, checked on every request.
pub async fn get_unscoped(db: &impl ConnectionTrait, id: i64) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id).one(db).await?)
}

/// Revokes every session token of the user issued so far ("sign out everywhere").
pub async fn bump_token_version(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: i64,
) -> AppResult<()> {
    let done = user::Entity::update_many()
        .col_expr(
            user::Column::TokenVersion,
            sea_orm::sea_query::Expr::col(user::Column::TokenVersion).add(1),
        )
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(AppError::not_found("user", id));
    }
    Ok(())
}

/// Stores a new password hash and revokes the sessions issued before it.
pub async fn set_password(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: i64,
    password_hash: String,
) -> AppResult<user::Model> {
    let current = get(db, account_id, id).await?;
    let version = current.token_version + 1;
    let mut active: user::ActiveModel = current.into();
    active.password_hash = Set(password_hash);
    active.token_version = Set(version);
    Ok(active.update(db).await?)
}

/// Deletes a user of the account; their sessions stop working with the row.
pub async fn delete(db: &impl ConnectionTrait, account_id: i64, id: i64) -> AppResult<user::Model> {
    let existing = get(db, account_id, id).await?;
    user::Entity::delete_by_id(id)
        .filter(user::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    Ok(existing)
}

/// Admins of an account (deleting or demoting the last one would lock the account out).
pub async fn count_admins(db: &impl ConnectionTrait, account_id: i64) -> AppResult<u64> {
    Ok(user::Entity::find()
        .filter(user::Column::AccountId.eq(account_id))
        .filter(user::Column::Role.eq(Role::Admin))
        .count(db)
        .await?)
}

pub async fn count_all(db: &impl ConnectionTrait) -> AppResult<u64> {
    Ok(user::Entity::find().count(db).await?)
}
