use crate::auth::session;
use crate::graphql::types::user::LoginPayload;
use crate::graphql::{ClientIp, state};
use async_graphql::{Context, Object};

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Exchanges email and password for a session token (send it as `Authorization: Bearer`).
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account email (case-insensitive).")] email: String,
        #[graphql(
            desc = "The password; 10 wrong attempts a minute lock this email and address out for a minute."
        )]
        password: String,
    ) -> async_graphql::Result<LoginPayload> {
        let ip = ctx.data_opt::<ClientIp>().map(|c| c.0);
        let s = session::login(state(ctx), &email, password, ip).await?;
        Ok(LoginPayload {
            token: s.token,
            expires_at: s.expires_at,
            user: s.user.into(),
        })
    }
}
