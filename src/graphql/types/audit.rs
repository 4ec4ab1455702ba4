use async_graphql::{ID, SimpleObject};
use entity::audit_log;

#[derive(SimpleObject, Clone)]
pub struct AuditEntry {
    pub id: ID,
    pub user_id: Option<ID>,
    pub actor: String,
    pub action: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub details: async_graphql::Json<serde_json::Value>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<audit_log::Model> for AuditEntry {
    fn from(a: audit_log::Model) -> Self {
        AuditEntry {
            id: a.id.into(),
            user_id: a.user_id.map(Into::into),
            actor: a.actor,
            action: a.action,
            entity_type: a.entity_type,
            entity_id: a.entity_id,
            details: async_graphql::Json(a.details),
            created_at: a.created_at,
        }
    }
}
