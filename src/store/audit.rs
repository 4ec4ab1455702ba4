use super::page::{Page, PageArgs};
use crate::auth::Caller;
use crate::error::AppResult;
use entity::audit_log;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};

/// Who did what. Never holds secrets: callers pass only non-secret details.
pub async fn record(
    db: &impl ConnectionTrait,
    caller: &Caller,
    action: &str,
    entity: Option<(&str, String)>,
    details: serde_json::Value,
) -> AppResult<()> {
    record_raw(
        db,
        caller.account_id,
        Some(caller.user_id),
        &caller.email,
        action,
        entity,
        details,
    )
    .await
}

pub async fn record_raw(
    db: &impl ConnectionTrait,
    account_id: i64,
    user_id: Option<i64>,
    actor: &str,
    action: &str,
    entity: Option<(&str, String)>,
    details: serde_json::Value,
) -> AppResult<()> {
    let mut details = details;
    crate::redact::scrub_json(&mut details);
    let (entity_type, entity_id) = match entity {
        Some((t, id)) => (Some(t.to_owned()), Some(id)),
        None => (None, None),
    };
    audit_log::ActiveModel {
        account_id: Set(account_id),
        user_id: Set(user_id),
        actor: Set(actor.to_owned()),
        action: Set(action.to_owned()),
        entity_type: Set(entity_type),
        entity_id: Set(entity_id),
        details: Set(details),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
}

fn filtered(account_id: i64, f: &AuditFilter) -> sea_orm::Select<audit_log::Entity> {
    let mut q = audit_log::Entity::find().filter(audit_log::Column::AccountId.eq(account_id));
    if let Some(a) = &f.action {
        q = q.filter(audit_log::Column::Action.eq(a.clone()));
    }
    if let Some(t) = &f.entity_type {
        q = q.filter(audit_log::Column::EntityType.eq(t.clone()));
    }
    if let Some(id) = &f.entity_id {
        q = q.filter(audit_log::Column::EntityId.eq(id.clone()));
    }
    q
}

/// Newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    account_id: i64,
    f: &AuditFilter,
    args: &PageArgs,
) -> AppResult<Page<audit_log::Model>> {
    super::page::by_id(
        db,
        filtered(account_id, f),
        audit_log::Column::Id,
        true,
        &args.window()?,
        |m| m.id,
    )
    .await
}

pub async fn count(db: &impl ConnectionTrait, account_id: i64, f: &AuditFilter) -> AppResult<u64> {
    Ok(filtered(account_id, f).count(db).await?)
}
