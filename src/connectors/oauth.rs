//! The provider side of the OAuth2 authorization-code flow: where to send the user to
//! consent, and how to trade the returned code for tokens. One match arm per provider;
//! the generic flow (state, callback, storing, first sync) lives in `web::oauth` and
//! `graphql::mutation::oauth`.

use super::amazon;
use super::jobber;
use super::token::{self, keys};
use crate::error::{AppError, AppResult};
use entity::enums::Provider;

/// A provider's OAuth endpoints and this connection's client.
struct OAuthClient {
    authorize_url: String,
    token_url: String,
    client_id: String,
    client_secret: String,
}

fn client(
    provider: Provider,
    config: &serde_json::Value,
    secrets: &serde_json::Value,
    sandbox_base: &str,
) -> AppResult<OAuthClient> {
    match provider {
        Provider::Jobber => {
            let s = jobber::Settings::from_connection(config, secrets, sandbox_base)?;
            Ok(OAuthClient {
                authorize_url: s.authorize_url(),
                token_url: s.token_url(),
                client_id: s.client_id,
                client_secret: s.client_secret,
            })
        }
        other => Err(AppError::bad_input(format!(
            "{} connections do not use the OAuth connect flow (yet)",
            other.as_str()
        ))),
    }
}

/// Whether `provider` connects through OAuth (checked before anything is stored).
pub fn supported(provider: Provider) -> bool {
    matches!(provider, Provider::Jobber | Provider::Amazon)
}

/// Whether a connection can reach its provider only after an OAuth consent it has not
/// had yet: an OAuth provider without a stored refresh token (the Amazon emulator
/// accepts a built-in one, so sandbox Amazon connections work without consent).
pub fn lacks_consent(
    provider: Provider,
    config: &serde_json::Value,
    secrets: Option<&serde_json::Value>,
) -> bool {
    let sandbox = config.get("sandbox").and_then(|v| v.as_bool()) == Some(true);
    let has_refresh = secrets
        .and_then(|s| s.get(keys::REFRESH_TOKEN))
        .is_some_and(|t| t.as_str().is_some_and(|t| !t.is_empty()));
    supported(provider) && !has_refresh && !(provider == Provider::Amazon && sandbox)
}

/// The app's LWA client for a seller consent (sandbox connections use the emulator's).
fn amazon_client(
    config: &serde_json::Value,
    secrets: &serde_json::Value,
) -> AppResult<(String, String)> {
    let sandbox = config.get("sandbox").and_then(|v| v.as_bool()) == Some(true);
    let get = |key: &str, sandbox_default: &str| -> AppResult<String> {
        match secrets
            .get(key)
            .and_then(|v| v.as_str())
            .filter(|v| !v.is_empty())
        {
            Some(v) => Ok(v.to_owned()),
            None if sandbox => Ok(sandbox_default.to_owned()),
            None => Err(AppError::bad_input(format!(
                "the Amazon connection needs secrets.{key} to connect a seller"
            ))),
        }
    };
    Ok((
        get("clientId", amazon::auth::SANDBOX_CLIENT_ID)?,
        get("clientSecret", amazon::auth::SANDBOX_CLIENT_SECRET)?,
    ))
}

/// The URL the user opens to approve access; `state` comes back to the callback.
pub fn authorize_url(
    provider: Provider,
    config: &serde_json::Value,
    secrets: &serde_json::Value,
    sandbox_base: &str,
    redirect_uri: &str,
    state: &str,
) -> AppResult<String> {
    if provider == Provider::Amazon {
        amazon_client(config, secrets)?;
        return amazon::auth::authorize_url(config, sandbox_base, state, redirect_uri);
    }
    let c = client(provider, config, secrets, sandbox_base)?;
    let url = reqwest::Url::parse_with_params(
        &c.authorize_url,
        &[
            ("response_type", "code"),
            ("client_id", c.client_id.as_str()),
            ("redirect_uri", redirect_uri),
            ("state", state),
        ],
    )
    .map_err(|_| AppError::bad_input("the connection's baseUrl is not a valid URL"))?;
    Ok(url.into())
}

/// Trades an authorization code for tokens; returns the secrets to merge into the
/// connection (access token, its expiry, refresh token). Nothing here is logged.
pub async fn exchange_code(
    provider: Provider,
    config: &serde_json::Value,
    secrets: &serde_json::Value,
    sandbox_base: &str,
    code: &str,
    redirect_uri: &str,
) -> AppResult<serde_json::Value> {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(AppError::internal)?;
    if provider == Provider::Amazon {
        let (id, secret) = amazon_client(config, secrets)?;
        let token_url = amazon::auth::token_url(config, sandbox_base);
        let tokens =
            amazon::auth::exchange_code(&http, &token_url, &id, &secret, code, redirect_uri)
                .await
                .map_err(|e| {
                    AppError::Upstream(format!("amazon refused the authorization: {e}"))
                })?;
        return Ok(tokens.to_secrets(&id, &secret, None));
    }
    let c = client(provider, config, secrets, sandbox_base)?;
    let answer = token::post_grant(
        &http,
        &c.token_url,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
        ],
    )
    .await
    .map_err(|e| {
        AppError::Upstream(format!(
            "{} refused the authorization: {e}",
            provider.as_str()
        ))
    })?;
    if answer.refresh_token.is_none() {
        return Err(AppError::Upstream(format!(
            "{} answered without a refresh token",
            provider.as_str()
        )));
    }
    let patch = answer.secrets_patch(None);
    debug_assert!(patch.get(keys::REFRESH_TOKEN).is_some());
    Ok(patch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn jobber_authorize_url_carries_client_redirect_and_state() {
        let url = authorize_url(
            Provider::Jobber,
            &json!({ "sandbox": true }),
            &json!({}),
            "http://127.0.0.1:9",
            "http://127.0.0.1:9/oauth/jobber/callback",
            "st.at.e",
        )
        .unwrap();
        let parsed = reqwest::Url::parse(&url).unwrap();
        assert_eq!(parsed.path(), "/sandbox/jobber/api/oauth/authorize");
        let q: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], jobber::SANDBOX_CLIENT_ID);
        assert_eq!(
            q["redirect_uri"],
            "http://127.0.0.1:9/oauth/jobber/callback"
        );
        assert_eq!(q["state"], "st.at.e");
    }

    #[test]
    fn other_providers_are_refused_clearly() {
        let e = authorize_url(Provider::Fulfil, &json!({}), &json!({}), "", "", "").unwrap_err();
        assert!(matches!(e, AppError::BadUserInput(m) if m.contains("fulfil")));
        assert!(!supported(Provider::ServiceTitan));
    }
}
