use async_graphql::{ID, SimpleObject};
use entity::audit_log;

/// One recorded action: who did what to which record, and when.
#[derive(SimpleObject, Clone)]
pub struct AuditEntry {
    /// The entry id.
    pub id: ID,
    /// The user who acted; null for the system (schedules, webhooks).
    pub user_id: Option<ID>,
    /// Who acted, as shown to people: an email, or `system`, `schedule`, `webhook`, `oauth`.
    pub actor: String,
    /// What was done, e.g. `login`, `item.update`, `connection.create`, `conflict.resolve`.
    pub action: String,
    /// The kind of record acted on, e.g. `item`, `connection`, `user`.
    pub entity_type: Option<String>,
    /// The id of that record.
    pub entity_id: Option<String>,
    /// What changed, as JSON (e.g. `{field: {from, to}}` for an edit); never secrets.
    pub details: async_graphql::Json<serde_json::Value>,
    /// When.
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
