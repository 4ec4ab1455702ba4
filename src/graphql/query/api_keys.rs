use crate::graphql::types::api_key::ApiKey;
use crate::graphql::{state, user_admin};
use crate::store;
use async_graphql::{Context, Object};

#[derive(Default)]
pub struct ApiKeyQuery;

#[Object]
impl ApiKeyQuery {
    /// The account's API keys, newest first, revoked ones included (admins signed in as a
    /// user).
    async fn api_keys(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ApiKey>> {
        let c = user_admin(ctx)?;
        Ok(store::api_keys::list(&state(ctx).db, c.account_id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}
