//! ShipHero tokens: `POST /auth/token` with username/password gives an access and a
//! refresh token; `POST /auth/refresh` trades the refresh token for a new access token.
//! Single-flight like `token::ClientCredentials`: the lock is held while fetching.
//!
//! A connection may hold only a refresh token (from ShipHero's developer settings). Every
//! token obtained is stored, encrypted, in the connection's secrets (`accessToken`,
//! `accessTokenExpiresAt`, `refreshToken`) before it is used, so a restart reuses it
//! instead of authenticating again. A refused refresh without a username and password to
//! fall back on is `Unauthorized`: the connection becomes NEEDS_REAUTH.

use super::wire::{RefreshRequest, TokenRequest, TokenResponse};
use crate::connectors::http::UpstreamError;
use crate::connectors::token::{SecretSink, TokenSource, keys};
use async_trait::async_trait;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const EARLY_REFRESH: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Held {
    access: Option<(String, Instant)>,
    refresh: Option<String>,
}

pub struct PasswordGrant {
    http: reqwest::Client,
    base: String,
    /// Username and password, when the connection has them (else refresh token only).
    login: Option<(String, String)>,
    sink: Arc<dyn SecretSink>,
    held: Mutex<Held>,
}

impl PasswordGrant {
    /// Starts from the tokens stored in `secrets`, if any.
    pub fn new(
        http: reqwest::Client,
        base: String,
        login: Option<(String, String)>,
        secrets: &serde_json::Value,
        sink: Arc<dyn SecretSink>,
    ) -> Self {
        let s = |k: &str| secrets.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let access = s(keys::ACCESS_TOKEN).and_then(|token| {
            let at = secrets.get(keys::ACCESS_EXPIRES_AT)?.as_i64()?;
            let left = at - chrono::Utc::now().timestamp();
            Some((
                token,
                Instant::now() + Duration::from_secs(left.max(0) as u64),
            ))
        });
        PasswordGrant {
            http,
            base,
            login,
            sink,
            held: Mutex::new(Held {
                access,
                refresh: s(keys::REFRESH_TOKEN),
            }),
        }
    }

    async fn post<B: serde::Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<TokenResponse, UpstreamError> {
        let url = format!("{}/auth/{path}", self.base.trim_end_matches('/'));
        let resp = self.http.post(&url).json(body).send().await.map_err(|e| {
            crate::connectors::http::unreachable("ShipHero auth endpoint", &url, &e)
        })?;
        let status = resp.status();
        if !status.is_success() {
            return Err(UpstreamError::Unauthorized(format!(
                "ShipHero /auth/{path} answered HTTP {}",
                status.as_u16()
            )));
        }
        resp.json()
            .await
            .map_err(|_| UpstreamError::Malformed("ShipHero token response".into()))
    }

    /// Stores the new tokens (encrypted, in the connection's secrets), then holds them.
    async fn keep(&self, held: &mut Held, answer: TokenResponse) -> Result<String, UpstreamError> {
        let refresh = answer.refresh_token.clone().or(held.refresh.clone());
        self.sink
            .save(serde_json::json!({
                keys::ACCESS_TOKEN: answer.access_token,
                keys::REFRESH_TOKEN: refresh,
                keys::ACCESS_EXPIRES_AT: chrono::Utc::now().timestamp()
                    + answer.expires_in.min(i64::MAX as u64 / 2) as i64,
            }))
            .await?;
        let expires = Instant::now() + Duration::from_secs(answer.expires_in);
        crate::redact::remember(&answer.access_token);
        if let Some(r) = &answer.refresh_token {
            crate::redact::remember(r);
        }
        held.access = Some((answer.access_token.clone(), expires));
        held.refresh = refresh;
        Ok(answer.access_token)
    }

    async fn login(&self, held: &mut Held) -> Result<String, UpstreamError> {
        let Some((username, password)) = self.login.clone() else {
            return Err(UpstreamError::Unauthorized(
                "ShipHero refused the refresh token; store a new one (secrets.refreshToken)".into(),
            ));
        };
        let answer = self
            .post("token", &TokenRequest { username, password })
            .await?;
        self.keep(held, answer).await
    }

    /// Refresh token first; a refused refresh falls back to a fresh login.
    async fn renew(&self, held: &mut Held) -> Result<String, UpstreamError> {
        if let Some(refresh_token) = held.refresh.clone() {
            match self
                .post("refresh", &RefreshRequest { refresh_token })
                .await
            {
                Ok(answer) => return self.keep(held, answer).await,
                Err(e) => tracing::info!("ShipHero refresh refused ({e}); logging in again"),
            }
        }
        self.login(held).await
    }
}

#[async_trait]
impl TokenSource for PasswordGrant {
    async fn token(&self) -> Result<String, UpstreamError> {
        let mut held = self.held.lock().await;
        if let Some((token, expires)) = held.access.as_ref()
            && Instant::now() + EARLY_REFRESH < *expires
        {
            return Ok(token.clone());
        }
        self.renew(&mut held).await
    }

    async fn refresh(&self, stale: &str) -> Result<String, UpstreamError> {
        let mut held = self.held.lock().await;
        if let Some((token, _)) = held.access.as_ref()
            && token != stale
        {
            return Ok(token.clone());
        }
        self.renew(&mut held).await
    }
}
