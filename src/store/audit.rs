use super::page::Listing;
use crate::auth::Caller;
use crate::error::AppResult;
use entity::audit_log;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

/// Who did what. Never holds secrets: callers pass only non-secret details.
pub async fn record(
    db: &impl ConnectionTrait,
    caller: &Caller,
    action: &str,
    entity: Option<(&str, String)>,
    details: serde_json::Value,
) -> AppResult<()> {
    // Done with an API key: the key is the actor, not the admin who created it.
    let (user_id, details) = match caller.api_key_id {
        None => (Some(caller.user_id), details),
        Some(key) => {
            let mut details = details;
            if let Some(obj) = details.as_object_mut() {
                obj.insert("apiKeyId".into(), key.to_string().into());
            }
            (None, details)
        }
    };
    record_raw(
        db,
        caller.account_id,
        user_id,
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

/// Newest first.
impl Listing for AuditFilter {
    type Entity = audit_log::Entity;
    const ID: audit_log::Column = audit_log::Column::Id;
    const NEWEST_FIRST: bool = true;

    fn select(&self, account_id: i64) -> sea_orm::Select<audit_log::Entity> {
        let mut q = audit_log::Entity::find().filter(audit_log::Column::AccountId.eq(account_id));
        if let Some(a) = &self.action {
            q = q.filter(audit_log::Column::Action.eq(a.clone()));
        }
        if let Some(t) = &self.entity_type {
            q = q.filter(audit_log::Column::EntityType.eq(t.clone()));
        }
        if let Some(id) = &self.entity_id {
            q = q.filter(audit_log::Column::EntityId.eq(id.clone()));
        }
        q
    }
}
