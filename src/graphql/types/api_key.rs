use super::enums::Role;
use async_graphql::{ID, SimpleObject};
use entity::api_key;

/// A long-lived credential for a dashboard or an integration (Retool, scripts): send it as
/// `Authorization: Bearer <key>`. It acts with its own role in its account, like a user,
/// and cannot manage users, sessions or keys.
#[derive(SimpleObject, Clone)]
pub struct ApiKey {
    /// The key's id (for `revokeApiKey`); not the key itself.
    pub id: ID,
    /// What the key is for, e.g. "Retool dashboard".
    pub name: String,
    /// What the key may do: VIEWER reads, EDITOR also edits and syncs, ADMIN everything
    /// but managing credentials.
    pub role: Role,
    /// The first characters of the key (`pbk_` and 8 more), to tell keys apart.
    pub prefix: String,
    /// The admin who created the key.
    pub created_by: Option<ID>,
    /// When the key was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When a request last used the key (updated at most once a minute).
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When the key was revoked; a revoked key is refused.
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<api_key::Model> for ApiKey {
    fn from(k: api_key::Model) -> Self {
        ApiKey {
            id: k.id.into(),
            name: k.name,
            role: k.role.into(),
            prefix: k.key_prefix,
            created_by: k.created_by.map(Into::into),
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new API key. `key` is shown this once and never stored: copy it now.
#[derive(SimpleObject)]
pub struct CreateApiKeyPayload {
    /// The secret to send as `Authorization: Bearer <key>`.
    pub key: String,
    /// The key's record, as `apiKeys` lists it.
    pub api_key: ApiKey,
}
