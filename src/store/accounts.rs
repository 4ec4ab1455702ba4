use crate::error::AppResult;
use entity::account;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

pub async fn find(db: &impl ConnectionTrait, name: &str) -> AppResult<Option<account::Model>> {
    Ok(account::Entity::find()
        .filter(account::Column::Name.eq(name))
        .one(db)
        .await?)
}

/// Every account's name, alphabetically (for the CLI's messages).
pub async fn names(db: &impl ConnectionTrait) -> AppResult<Vec<String>> {
    use sea_orm::QueryOrder;
    Ok(account::Entity::find()
        .order_by_asc(account::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.name)
        .collect())
}

/// Finds an account by name, creating it when new.
pub async fn find_or_create(db: &impl ConnectionTrait, name: &str) -> AppResult<account::Model> {
    if let Some(existing) = find(db, name).await? {
        return Ok(existing);
    }
    let created = account::ActiveModel {
        name: Set(name.to_owned()),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(created)
}

pub async fn count(db: &impl ConnectionTrait) -> AppResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(account::Entity::find().count(db).await?)
}
