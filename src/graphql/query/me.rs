use crate::graphql::types::user::User;
use crate::graphql::{admin, caller, state};
use crate::store;
use async_graphql::{Context, Object};

#[derive(Default)]
pub struct MeQuery;

#[Object]
impl MeQuery {
    /// The signed-in user (an API key is not a user: see `apiKeys`).
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let c = caller(ctx)?;
        c.require_user()?;
        Ok(store::users::get(&state(ctx).db, c.account_id, c.user_id)
            .await?
            .into())
    }

    /// Users of the caller's account (admins only).
    async fn users(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<User>> {
        let c = admin(ctx)?;
        Ok(store::users::list(&state(ctx).db, c.account_id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}
