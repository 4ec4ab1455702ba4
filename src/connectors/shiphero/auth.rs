//! ShipHero tokens: `POST /auth/token` with username/password gives an access and a
//! refresh token; `POST /auth/refresh` trades the refresh token for a new access token.
//! Single-flight like `token::ClientCredentials`: the lock is held while fetching.

use super::wire::{RefreshRequest, TokenRequest, TokenResponse};
use crate::connectors::http::UpstreamError;
use crate::connectors::token::TokenSource;
use async_trait::async_trait;
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
    username: String,
    password: String,
    held: Mutex<Held>,
}

impl PasswordGrant {
    pub fn new(http: reqwest::Client, base: String, username: String, password: String) -> Self {
        PasswordGrant {
            http,
            base,
            username,
            password,
            held: Mutex::new(Held::default()),
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

    fn keep(held: &mut Held, answer: TokenResponse) -> String {
        let expires = Instant::now() + Duration::from_secs(answer.expires_in);
        crate::redact::remember(&answer.access_token);
        if let Some(r) = &answer.refresh_token {
            crate::redact::remember(r);
        }
        held.access = Some((answer.access_token.clone(), expires));
        if let Some(r) = answer.refresh_token {
            held.refresh = Some(r);
        }
        answer.access_token
    }

    async fn login(&self, held: &mut Held) -> Result<String, UpstreamError> {
        let answer = self
            .post(
                "token",
                &TokenRequest {
                    username: self.username.clone(),
                    password: self.password.clone(),
                },
            )
            .await?;
        Ok(Self::keep(held, answer))
    }

    /// Refresh token first; a refused refresh falls back to a fresh login.
    async fn renew(&self, held: &mut Held) -> Result<String, UpstreamError> {
        if let Some(refresh_token) = held.refresh.clone() {
            match self
                .post("refresh", &RefreshRequest { refresh_token })
                .await
            {
                Ok(answer) => return Ok(Self::keep(held, answer)),
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
        if held.access.is_some() {
            self.renew(&mut held).await
        } else {
            self.login(&mut held).await
        }
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
