//! Access tokens: cached, refreshed before they expire, refreshed at most once at a time.

use super::http::UpstreamError;
use async_trait::async_trait;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

#[async_trait]
pub trait TokenSource: Send + Sync {
    /// A token valid for at least a little while (fetched or refreshed when needed).
    async fn token(&self) -> Result<String, UpstreamError>;
    /// The upstream refused `stale`: get a new one unless someone already did.
    async fn refresh(&self, stale: &str) -> Result<String, UpstreamError>;
}

/// Refresh this long before the announced expiry, so a long page never starts with a
/// token about to die.
const EARLY_REFRESH: Duration = Duration::from_secs(60);

/// One cached access token and when it expires. The lock is held while fetching, so a
/// refresh happens at most once at a time per connection.
#[derive(Default)]
pub struct TokenCache(Mutex<Option<(String, Instant)>>);

impl TokenCache {
    /// The cached token while it stays valid for `margin` more; else a fresh one.
    pub async fn get<F>(&self, margin: Duration, fetch: F) -> Result<String, UpstreamError>
    where
        F: Future<Output = Result<(String, Instant), UpstreamError>>,
    {
        let mut cached = self.0.lock().await;
        if let Some((token, expires)) = cached.as_ref()
            && Instant::now() + margin < *expires
        {
            return Ok(token.clone());
        }
        Self::store(&mut cached, fetch.await?)
    }

    /// The upstream refused `stale`: a fresh token, unless another caller already got one.
    pub async fn replace<F>(&self, stale: &str, fetch: F) -> Result<String, UpstreamError>
    where
        F: Future<Output = Result<(String, Instant), UpstreamError>>,
    {
        let mut cached = self.0.lock().await;
        if let Some((token, _)) = cached.as_ref()
            && token != stale
        {
            return Ok(token.clone());
        }
        Self::store(&mut cached, fetch.await?)
    }

    fn store(
        cached: &mut Option<(String, Instant)>,
        fresh: (String, Instant),
    ) -> Result<String, UpstreamError> {
        let token = fresh.0.clone();
        crate::redact::remember(&token);
        *cached = Some(fresh);
        Ok(token)
    }
}

/// OAuth2 client-credentials grant (ServiceTitan).
pub struct ClientCredentials {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    client_secret: String,
    cached: TokenCache,
}

impl ClientCredentials {
    pub fn new(
        http: reqwest::Client,
        token_url: String,
        client_id: String,
        client_secret: String,
    ) -> Self {
        ClientCredentials {
            http,
            token_url,
            client_id,
            client_secret,
            cached: TokenCache::default(),
        }
    }

    async fn fetch(&self) -> Result<(String, Instant), UpstreamError> {
        #[derive(serde::Deserialize)]
        struct TokenResponse {
            access_token: String,
            expires_in: Option<u64>,
        }
        let resp = self
            .http
            .post(&self.token_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &self.client_id),
                ("client_secret", &self.client_secret),
            ])
            .send()
            .await
            .map_err(|e| super::http::unreachable("token endpoint", &self.token_url, &e))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(refusal(status, "token endpoint answered"));
        }
        let body: TokenResponse = resp
            .json()
            .await
            .map_err(|_| UpstreamError::Malformed("token response".into()))?;
        let ttl = Duration::from_secs(body.expires_in.unwrap_or(900));
        Ok((body.access_token, Instant::now() + ttl))
    }
}

#[async_trait]
impl TokenSource for ClientCredentials {
    async fn token(&self) -> Result<String, UpstreamError> {
        self.cached.get(EARLY_REFRESH, self.fetch()).await
    }

    async fn refresh(&self, stale: &str) -> Result<String, UpstreamError> {
        self.cached.replace(stale, self.fetch()).await
    }
}

/// Where a connector stores credentials the provider handed it (a rotated refresh token),
/// so the connector itself needs no database: the registry passes one per connection.
#[async_trait]
pub trait SecretSink: Send + Sync {
    /// Merges `patch` into the connection's encrypted secrets.
    async fn save(&self, patch: serde_json::Value) -> Result<(), UpstreamError>;
}

/// Secret keys the OAuth flows and [`RefreshingToken`] read and write.
pub mod keys {
    pub const ACCESS_TOKEN: &str = "accessToken";
    pub const REFRESH_TOKEN: &str = "refreshToken";
    /// Unix seconds.
    pub const ACCESS_EXPIRES_AT: &str = "accessTokenExpiresAt";
}

/// A token endpoint's answer to either OAuth grant.
#[derive(serde::Deserialize)]
pub struct GrantResponse {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

impl GrantResponse {
    /// The secrets patch to store; `previous_refresh` is kept when the provider did not
    /// rotate it. Access tokens without an announced lifetime are assumed to live an hour.
    pub fn secrets_patch(&self, previous_refresh: Option<&str>) -> serde_json::Value {
        let expires = chrono::Utc::now().timestamp()
            + self.expires_in.unwrap_or(3600).min(i64::MAX as u64) as i64;
        serde_json::json!({
            keys::ACCESS_TOKEN: self.access_token,
            keys::REFRESH_TOKEN: self.refresh_token.as_deref().or(previous_refresh),
            keys::ACCESS_EXPIRES_AT: expires,
        })
    }
}

/// A token endpoint's failure. Only a client error (`invalid_grant`, `invalid_client`:
/// 4xx) means the credentials were refused and someone must reconnect; a 5xx or 429 is
/// the endpoint's own trouble and says nothing about them.
fn refusal(status: reqwest::StatusCode, what: &str) -> UpstreamError {
    let message = format!("{what} (HTTP {})", status.as_u16());
    if status.is_client_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS {
        UpstreamError::Unauthorized(message)
    } else {
        UpstreamError::Server {
            status: status.as_u16(),
            message,
        }
    }
}

/// POSTs a form to a token endpoint; failures never echo the body (it may hold tokens).
pub async fn post_grant(
    http: &reqwest::Client,
    token_url: &str,
    form: &[(&str, &str)],
) -> Result<GrantResponse, UpstreamError> {
    let resp = http
        .post(token_url)
        .form(form)
        .send()
        .await
        .map_err(|e| super::http::unreachable("token endpoint", token_url, &e))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(refusal(status, "token endpoint refused the grant"));
    }
    resp.json()
        .await
        .map_err(|_| UpstreamError::Malformed("token response".into()))
}

struct Grant {
    access: Option<(String, Option<Instant>)>,
    refresh: String,
}

/// OAuth2 refresh-token grant with rotation (Jobber, Amazon): the new refresh token is
/// stored through the [`SecretSink`] BEFORE the new access token is used, so a crash never
/// leaves us holding only a refresh token the provider has already retired.
pub struct RefreshingToken {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    client_secret: String,
    sink: std::sync::Arc<dyn SecretSink>,
    state: Mutex<Grant>,
}

impl RefreshingToken {
    /// From the stored secrets (`accessToken`, `accessTokenExpiresAt`, `refreshToken`).
    pub fn new(
        http: reqwest::Client,
        token_url: String,
        client_id: String,
        client_secret: String,
        secrets: &serde_json::Value,
        sink: std::sync::Arc<dyn SecretSink>,
    ) -> Self {
        let s = |k: &str| secrets.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let expires = secrets
            .get(keys::ACCESS_EXPIRES_AT)
            .and_then(|v| v.as_i64())
            .map(|at| {
                let left = at - chrono::Utc::now().timestamp();
                Instant::now() + Duration::from_secs(left.max(0) as u64)
            });
        RefreshingToken {
            http,
            token_url,
            client_id,
            client_secret,
            sink,
            state: Mutex::new(Grant {
                access: s(keys::ACCESS_TOKEN).map(|t| (t, expires)),
                refresh: s(keys::REFRESH_TOKEN).unwrap_or_default(),
            }),
        }
    }

    async fn refresh_locked(&self, grant: &mut Grant) -> Result<String, UpstreamError> {
        if grant.refresh.is_empty() {
            return Err(UpstreamError::Unauthorized(
                "no refresh token stored; connect the account again".into(),
            ));
        }
        let answer = post_grant(
            &self.http,
            &self.token_url,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &grant.refresh),
                ("client_id", &self.client_id),
                ("client_secret", &self.client_secret),
            ],
        )
        .await?;
        let patch = answer.secrets_patch(Some(&grant.refresh));
        // Persist first: the old refresh token may already be dead upstream.
        self.sink.save(patch).await?;
        if let Some(rotated) = answer.refresh_token {
            grant.refresh = rotated;
        }
        let ttl = Duration::from_secs(answer.expires_in.unwrap_or(3600));
        crate::redact::remember(&answer.access_token);
        grant.access = Some((answer.access_token.clone(), Some(Instant::now() + ttl)));
        Ok(answer.access_token)
    }
}

#[async_trait]
impl TokenSource for RefreshingToken {
    async fn token(&self) -> Result<String, UpstreamError> {
        // Holding the lock while refreshing makes refresh single-flight per connection.
        let mut grant = self.state.lock().await;
        if let Some((token, expires)) = grant.access.as_ref()
            && expires.is_none_or(|at| Instant::now() + EARLY_REFRESH < at)
        {
            return Ok(token.clone());
        }
        self.refresh_locked(&mut grant).await
    }

    async fn refresh(&self, stale: &str) -> Result<String, UpstreamError> {
        let mut grant = self.state.lock().await;
        if let Some((token, _)) = grant.access.as_ref()
            && token != stale
        {
            return Ok(token.clone());
        }
        self.refresh_locked(&mut grant).await
    }
}
