use crate::auth::api_keys;
use crate::error::AppError;
use crate::graphql::types::api_key::{ApiKey, CreateApiKeyPayload};
use crate::graphql::types::enums::Role;
use crate::graphql::{parse_id, state, user_admin};
use crate::store;
use async_graphql::{Context, ID, Object};

/// Longest API key name.
const MAX_NAME_CHARS: usize = 100;

#[derive(Default)]
pub struct ApiKeyMutation;

#[Object]
impl ApiKeyMutation {
    /// Creates an API key with a role in the caller's account (admins signed in as a
    /// user). The answer's `key` is the only time the key is shown.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What the key is for, e.g. \"Retool dashboard\" (1–100 characters).")]
        name: String,
        #[graphql(desc = "What the key may do.")] role: Role,
    ) -> async_graphql::Result<CreateApiKeyPayload> {
        let c = user_admin(ctx)?;
        let st = state(ctx);
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(AppError::bad_input(format!(
                "an API key name must have 1 to {MAX_NAME_CHARS} characters"
            ))
            .into());
        }
        let new = api_keys::generate();
        let key = store::api_keys::create(
            &st.db,
            store::api_keys::NewApiKey {
                account_id: c.account_id,
                name,
                role: role.into(),
                key_prefix: &new.prefix,
                key_hash: &new.hash,
                created_by: Some(c.user_id),
            },
        )
        .await?;
        store::audit::record(
            &st.db,
            c,
            "api_key.create",
            Some(("api_key", key.id.to_string())),
            serde_json::json!({ "name": key.name, "role": key.role, "prefix": key.key_prefix }),
        )
        .await?;
        Ok(CreateApiKeyPayload {
            key: new.secret,
            api_key: key.into(),
        })
    }

    /// Revokes an API key at once (admins signed in as a user); requests with it are
    /// refused from then on. Revoking a revoked key changes nothing.
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key's id, from `apiKeys`.")] id: ID,
    ) -> async_graphql::Result<ApiKey> {
        let c = user_admin(ctx)?;
        let st = state(ctx);
        let id = parse_id(&id, "API key")?;
        let key = store::api_keys::revoke(&st.db, c.account_id, id).await?;
        st.principals.forget_key(key.id);
        store::audit::record(
            &st.db,
            c,
            "api_key.revoke",
            Some(("api_key", key.id.to_string())),
            serde_json::json!({ "name": key.name, "prefix": key.key_prefix }),
        )
        .await?;
        Ok(key.into())
    }
}
