use crate::error::{AppError, AppResult};
use entity::{enums::Role, user};
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

pub async fn create(
    db: &impl ConnectionTrait,
    account_id: i64,
    email: &str,
    password_hash: String,
    role: Role,
) -> AppResult<user::Model> {
    let email = normalise_email(email)?;
    if find_by_email(db, &email).await?.is_some() {
        return Err(AppError::bad_input(format!(
            "a user with email {email} already exists"
        )));
    }
    let model = user::ActiveModel {
        account_id: Set(account_id),
        email: Set(email),
        password_hash: Set(password_hash),
        role: Set(role),
        created_at: Set(chrono::Utc::now()),
        last_login_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(model)
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
    let mut active: user::ActiveModel = get(db, account_id, id).await?.into();
    active.role = Set(role);
    Ok(active.update(db).await?)
}

pub async fn count_all(db: &impl ConnectionTrait) -> AppResult<u64> {
    Ok(user::Entity::find().count(db).await?)
}
