//! `startOAuth`: the consent link for a connection whose provider uses OAuth. The link's
//! `state` is a signed, 10-minute token; its nonce is remembered on the connection until
//! the callback (`web::oauth`) consumes it, so each link connects at most once.

use crate::auth::jwt::{OAUTH_STATE_TTL_MINUTES, OAuthState};
use crate::connectors::oauth;
use crate::error::AppError;
use crate::graphql::{admin, parse_id, state};
use crate::store;
use async_graphql::{Context, ID, Object, SimpleObject};

/// Where an OAuth nonce waits for its callback, inside the connection's encrypted secrets.
pub const NONCE_KEY: &str = "oauthNonce";

/// Where to send the user to approve access.
#[derive(SimpleObject)]
#[graphql(name = "OAuthStart")]
pub struct OAuthStart {
    /// Open this in a browser to approve access; it comes back to `/oauth/{provider}/callback`.
    pub authorize_url: String,
    /// The consent must be completed before this (10 minutes).
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// `{public_url}/oauth/{provider}/callback`: sent with the consent and again with the code.
pub fn redirect_uri(public_url: &str, provider: &str) -> String {
    format!("{public_url}/oauth/{provider}/callback")
}

#[derive(Default)]
pub struct OAuthMutation;

#[Object]
impl OAuthMutation {
    /// Starts connecting a connection through its provider's OAuth consent (admins only).
    #[graphql(name = "startOAuth")]
    async fn start_oauth(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The Jobber or Amazon connection to connect.")] connection_id: ID,
    ) -> async_graphql::Result<OAuthStart> {
        let c = admin(ctx)?;
        let st = state(ctx);
        let id = parse_id(&connection_id, "connection")?;
        let conn = store::connections::get(&st.db, c.account_id, id).await?;
        if !oauth::supported(conn.provider) {
            return Err(AppError::bad_input(format!(
                "{} connections do not connect through OAuth",
                conn.provider.as_str()
            ))
            .into());
        }
        let provider = conn.provider.as_str();
        let secrets = store::connections::read_secrets(&st.db, &st.secrets, id)
            .await?
            .unwrap_or_else(|| serde_json::json!({}));
        let public_url = st.registry.sandbox_base();
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let claims = OAuthState::new(c.account_id, c.user_id, id, provider, nonce.clone());
        let signed = st.jwt.sign_oauth_state(&claims)?;
        let authorize_url = oauth::authorize_url(
            conn.provider,
            &conn.config,
            &secrets,
            &public_url,
            &redirect_uri(&public_url, provider),
            &signed,
        )?;
        let txn = store::db::begin_write(&st.db).await?;
        store::connections::merge_secrets(
            &txn,
            &st.secrets,
            id,
            &serde_json::json!({ NONCE_KEY: nonce }),
        )
        .await?;
        store::audit::record(
            &txn,
            c,
            "connection.oauth_start",
            Some(("connection", id.to_string())),
            serde_json::json!({ "provider": provider }),
        )
        .await?;
        txn.commit().await?;
        Ok(OAuthStart {
            authorize_url,
            expires_at: chrono::Utc::now() + chrono::Duration::minutes(OAUTH_STATE_TTL_MINUTES),
        })
    }
}
