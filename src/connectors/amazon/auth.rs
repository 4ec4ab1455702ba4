//! Login with Amazon (LWA): the seller-consent URL and code exchange of the connect flow,
//! and the refresh-token grant that yields the `x-amz-access-token` of every call.
//!
//! The generic `/oauth/{provider}/callback` route calls [`authorize_url`] and
//! [`exchange_code`]; it owns `state` checking and storing the secrets.

use super::wire::{TokenError, TokenResponse};
use crate::connectors::http::UpstreamError;
use crate::connectors::token::{TokenCache, TokenSource};
use crate::error::{AppError, AppResult};
use async_trait::async_trait;
use std::time::{Duration, Instant};

pub const PRODUCTION_TOKEN_URL: &str = "https://api.amazon.com/auth/o2/token";
/// Credentials and ids the sandbox emulator accepts.
pub const SANDBOX_CLIENT_ID: &str = "amzn1.application-oa2-client.sandbox";
pub const SANDBOX_CLIENT_SECRET: &str = "sandbox-lwa-secret";
pub const SANDBOX_REFRESH_TOKEN: &str = "Atzr|sandbox-refresh-token";
pub const SANDBOX_APPLICATION_ID: &str = "amzn1.sp.solution.sandbox";
pub const SANDBOX_SELLING_PARTNER_ID: &str = "A3SANDBOXSELLER";

/// Seller Central host that shows the consent page, by SP-API region.
fn seller_central(region: &str) -> Option<&'static str> {
    match region {
        "na" => Some("https://sellercentral.amazon.com"),
        "eu" => Some("https://sellercentral-europe.amazon.com"),
        "fe" => Some("https://sellercentral.amazon.co.jp"),
        _ => None,
    }
}

fn is_sandbox(config: &serde_json::Value) -> bool {
    config
        .get("sandbox")
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

fn text<'a>(config: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    config
        .get(key)
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
}

/// The LWA token endpoint of a connection (`config.authUrl` overrides; sandbox: the
/// emulator's).
pub fn token_url(config: &serde_json::Value, sandbox_base: &str) -> String {
    if let Some(url) = text(config, "authUrl") {
        return url.to_owned();
    }
    if is_sandbox(config) {
        format!("{sandbox_base}/sandbox/amazon/auth/o2/token")
    } else {
        PRODUCTION_TOKEN_URL.to_owned()
    }
}

/// Where to send the seller to authorise the app: Seller Central's consent page with
/// `application_id`, `state` and `redirect_uri` (`version=beta` for a draft app,
/// `config.draft: true`). Amazon redirects back with `spapi_oauth_code`, `state` and
/// `selling_partner_id`.
pub fn authorize_url(
    config: &serde_json::Value,
    sandbox_base: &str,
    state: &str,
    redirect_uri: &str,
) -> AppResult<String> {
    let sandbox = is_sandbox(config);
    let base = if sandbox {
        format!("{sandbox_base}/sandbox/amazon")
    } else {
        let region = text(config, "region").unwrap_or("na");
        seller_central(region)
            .ok_or_else(|| {
                AppError::bad_input(format!(
                    "config.region must be na, eu or fe (got '{region}')"
                ))
            })?
            .to_owned()
    };
    let application_id = match text(config, "applicationId") {
        Some(id) => id,
        None if sandbox => SANDBOX_APPLICATION_ID,
        None => {
            return Err(AppError::bad_input(
                "config.applicationId is required to connect an Amazon seller",
            ));
        }
    };
    if state.is_empty() || redirect_uri.is_empty() {
        return Err(AppError::bad_input("state and redirect_uri are required"));
    }
    let mut url = reqwest::Url::parse(&format!("{base}/apps/authorize/consent"))
        .map_err(|e| AppError::bad_input(format!("invalid consent URL: {e}")))?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("application_id", application_id)
            .append_pair("state", state)
            .append_pair("redirect_uri", redirect_uri);
        if config
            .get("draft")
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
        {
            q.append_pair("version", "beta");
        }
    }
    Ok(url.into())
}

/// What the code exchange yields. The refresh token is the long-lived secret to store.
#[derive(Debug, Clone)]
pub struct LwaTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

impl LwaTokens {
    /// The connection secrets for these tokens (the connector reads `refreshToken`).
    pub fn to_secrets(
        &self,
        client_id: &str,
        client_secret: &str,
        selling_partner_id: Option<&str>,
    ) -> serde_json::Value {
        let mut s = serde_json::json!({
            "clientId": client_id,
            "clientSecret": client_secret,
            "refreshToken": self.refresh_token,
        });
        if let (Some(id), Some(obj)) = (selling_partner_id, s.as_object_mut()) {
            obj.insert("sellingPartnerId".into(), id.into());
        }
        s
    }
}

async fn post_token(
    http: &reqwest::Client,
    token_url: &str,
    form: &[(&str, &str)],
) -> Result<TokenResponse, UpstreamError> {
    let resp =
        http.post(token_url).form(form).send().await.map_err(|e| {
            crate::connectors::http::unreachable("LWA token endpoint", token_url, &e)
        })?;
    let status = resp.status();
    if status.is_success() {
        return resp
            .json::<TokenResponse>()
            .await
            .map_err(|_| UpstreamError::Malformed("LWA token response".into()));
    }
    // LWA answers `{error, error_description}`; the description never carries secrets.
    let reason = resp
        .json::<TokenError>()
        .await
        .map(|e| match e.error_description {
            Some(d) => format!("{}: {d}", e.error),
            None => e.error,
        })
        .unwrap_or_else(|_| "no error body".into());
    let message = format!(
        "LWA token endpoint answered HTTP {}: {}",
        status.as_u16(),
        crate::connectors::redact(&reason)
    );
    if status.is_server_error() {
        Err(UpstreamError::Server {
            status: status.as_u16(),
            message,
        })
    } else {
        Err(UpstreamError::Unauthorized(message))
    }
}

/// Exchanges the `spapi_oauth_code` of the consent redirect for tokens
/// (`grant_type=authorization_code`). Amazon's codes live 5 minutes and work once.
pub async fn exchange_code(
    http: &reqwest::Client,
    token_url: &str,
    client_id: &str,
    client_secret: &str,
    code: &str,
    redirect_uri: &str,
) -> Result<LwaTokens, UpstreamError> {
    let answer = post_token(
        http,
        token_url,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", client_id),
            ("client_secret", client_secret),
        ],
    )
    .await?;
    let refresh_token = answer.refresh_token.ok_or_else(|| {
        UpstreamError::Malformed("LWA code exchange returned no refresh token".into())
    })?;
    Ok(LwaTokens {
        access_token: answer.access_token,
        refresh_token,
        expires_in: answer.expires_in,
    })
}

/// Refresh early so a slow page never starts with a token about to die.
const EARLY_REFRESH: Duration = Duration::from_secs(60);

/// Access tokens from the refresh-token grant: cached, refreshed before expiry, and
/// refreshed at most once at a time per connection (the lock is held while fetching).
pub struct LwaToken {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    client_secret: String,
    refresh_token: String,
    cached: TokenCache,
}

impl LwaToken {
    pub fn new(
        http: reqwest::Client,
        token_url: String,
        client_id: String,
        client_secret: String,
        refresh_token: String,
    ) -> Self {
        LwaToken {
            http,
            token_url,
            client_id,
            client_secret,
            refresh_token,
            cached: TokenCache::default(),
        }
    }

    async fn fetch(&self) -> Result<(String, Instant), UpstreamError> {
        let answer = post_token(
            &self.http,
            &self.token_url,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &self.refresh_token),
                ("client_id", &self.client_id),
                ("client_secret", &self.client_secret),
            ],
        )
        .await?;
        let ttl = Duration::from_secs(answer.expires_in.max(1));
        // Treat the token as expired a little early (a quarter of short lifetimes).
        let early = EARLY_REFRESH.min(ttl / 4);
        Ok((answer.access_token, Instant::now() + ttl - early))
    }
}

#[async_trait]
impl TokenSource for LwaToken {
    async fn token(&self) -> Result<String, UpstreamError> {
        // `fetch` already dates the expiry early.
        self.cached.get(Duration::ZERO, self.fetch()).await
    }

    async fn refresh(&self, stale: &str) -> Result<String, UpstreamError> {
        self.cached.replace(stale, self.fetch()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn consent_url_by_region_and_sandbox() {
        let url = authorize_url(
            &json!({ "region": "eu", "applicationId": "amzn1.sp.solution.x", "draft": true }),
            "http://x",
            "s t",
            "https://me/cb",
        )
        .unwrap();
        assert_eq!(
            url,
            "https://sellercentral-europe.amazon.com/apps/authorize/consent?application_id=amzn1.sp.solution.x&state=s+t&redirect_uri=https%3A%2F%2Fme%2Fcb&version=beta"
        );
        let sb =
            authorize_url(&json!({ "sandbox": true }), "http://127.0.0.1:9", "s", "r").unwrap();
        assert!(sb.starts_with("http://127.0.0.1:9/sandbox/amazon/apps/authorize/consent?application_id=amzn1.sp.solution.sandbox"));
        let missing = authorize_url(&json!({ "region": "na" }), "", "s", "r").unwrap_err();
        assert_eq!(missing.code(), "BAD_USER_INPUT");
        assert!(
            authorize_url(
                &json!({ "region": "mars", "applicationId": "a" }),
                "",
                "s",
                "r"
            )
            .is_err()
        );
        assert_eq!(token_url(&json!({}), "b"), PRODUCTION_TOKEN_URL);
        assert_eq!(
            token_url(&json!({ "sandbox": true }), "http://h"),
            "http://h/sandbox/amazon/auth/o2/token"
        );
    }
}
