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

/// OAuth2 client-credentials grant (ServiceTitan).
pub struct ClientCredentials {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    client_secret: String,
    cached: Mutex<Option<(String, Instant)>>,
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
            cached: Mutex::new(None),
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
            .map_err(|_| UpstreamError::Network("token endpoint unreachable".into()))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(UpstreamError::Unauthorized(format!(
                "token endpoint answered HTTP {}",
                status.as_u16()
            )));
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
        // Holding the lock while fetching makes refresh single-flight per connection.
        let mut cached = self.cached.lock().await;
        if let Some((token, expires)) = cached.as_ref()
            && Instant::now() + EARLY_REFRESH < *expires
        {
            return Ok(token.clone());
        }
        let fresh = self.fetch().await?;
        *cached = Some(fresh.clone());
        Ok(fresh.0)
    }

    async fn refresh(&self, stale: &str) -> Result<String, UpstreamError> {
        let mut cached = self.cached.lock().await;
        if let Some((token, _)) = cached.as_ref()
            && token != stale
        {
            return Ok(token.clone());
        }
        let fresh = self.fetch().await?;
        *cached = Some(fresh.clone());
        Ok(fresh.0)
    }
}
