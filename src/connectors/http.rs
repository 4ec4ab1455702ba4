//! The one HTTP client every connector uses: timeouts, a per-connection rate limit kept
//! under the provider's, retries with exponential backoff and jitter on network errors,
//! 429 and 5xx (honouring `Retry-After`), and a token refresh-and-retry for each request
//! refused with 401 (beyond the first, within the retry budget).

use super::token::TokenSource;
use backon::BackoffBuilder;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What went wrong talking to an upstream, after retries.
#[derive(Debug, Clone)]
pub enum UpstreamError {
    /// Network failure or dropped connection that retries did not cure.
    Network(String),
    /// A non-retryable answer (4xx other than 401/429) — usually about one record.
    Rejected { status: u16, message: String },
    /// 5xx that retries did not cure.
    Server { status: u16, message: String },
    /// Credentials refused even after one refresh.
    Unauthorized(String),
    /// The body was not what the provider documents.
    Malformed(String),
    /// Throttled for longer than the run is allowed to wait; the run stops early and
    /// continues next time.
    RateLimitBudget { waited: Duration },
    /// The provider does not serve the API version the connection names (Jobber's
    /// `X-JOBBER-GRAPHQL-VERSION`): a connection setting to change, not a record error.
    UnsupportedVersion(String),
}

impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.describe();
        f.write_str(&crate::redact::scrub(&text))
    }
}

impl UpstreamError {
    fn describe(&self) -> String {
        use std::fmt::Write;
        let mut f = String::new();
        let _ = match self {
            Self::Network(m) => write!(f, "network error: {m}"),
            Self::Rejected { status, message } => {
                write!(f, "rejected with HTTP {status}: {message}")
            }
            Self::Server { status, message } => write!(f, "server error HTTP {status}: {message}"),
            Self::Unauthorized(m) => write!(f, "unauthorized: {m}"),
            Self::Malformed(m) => write!(f, "malformed response: {m}"),
            Self::RateLimitBudget { waited } => write!(
                f,
                "rate limited for {}s; continues next run",
                waited.as_secs()
            ),
            Self::UnsupportedVersion(m) => write!(f, "unsupported API version: {m}"),
        };
        f
    }
}

impl UpstreamError {
    /// Errors about one record (the run records them and goes on).
    pub fn is_record_level(&self) -> bool {
        matches!(self, Self::Rejected { .. })
    }

    /// The upstream says the record does not exist (any more): 404 or 410.
    pub fn is_gone(&self) -> bool {
        matches!(
            self,
            Self::Rejected {
                status: 404 | 410,
                ..
            }
        )
    }
}

impl From<UpstreamError> for crate::error::AppError {
    fn from(e: UpstreamError) -> Self {
        use crate::error::AppError;
        match e {
            UpstreamError::RateLimitBudget { .. } => AppError::RateLimited(e.to_string()),
            UpstreamError::Unauthorized(_) => AppError::UpstreamUnauthorized(e.to_string()),
            UpstreamError::UnsupportedVersion(_) => AppError::UpstreamApiVersion(e.to_string()),
            other => AppError::Upstream(other.to_string()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// Longest total time one call may spend waiting out throttling.
    pub max_throttle_wait: Duration,
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 6,
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(20),
            max_throttle_wait: Duration::from_secs(120),
            timeout: Duration::from_secs(60),
        }
    }
}

/// Counters a run (and the tests) can read.
#[derive(Default, Debug)]
pub struct HttpStats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
    pub refreshes: AtomicU64,
}

#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    policy: RetryPolicy,
    pub stats: Arc<HttpStats>,
}

/// Statuses that say "the token is no good" for a provider (Amazon uses 403).
#[derive(Clone, Copy)]
pub struct AuthFailure(pub &'static [u16]);

/// Like [`AuthFailure`], but a status only counts when the error body names one of
/// `body_codes` (Amazon answers 403 `Unauthorized`/`InvalidToken` for a dead token, and
/// other 403s for missing roles, which a refresh cannot cure). Empty: any body.
#[derive(Clone, Copy)]
pub struct AuthRule {
    pub statuses: &'static [u16],
    pub body_codes: &'static [&'static str],
}

impl From<AuthFailure> for AuthRule {
    fn from(f: AuthFailure) -> Self {
        AuthRule {
            statuses: f.0,
            body_codes: &[],
        }
    }
}

impl AuthRule {
    fn matches(&self, status: u16, body: &str) -> bool {
        self.statuses.contains(&status)
            && (self.body_codes.is_empty()
                || self
                    .body_codes
                    .iter()
                    .any(|c| body.contains(&format!("\"{c}\""))))
    }
}

impl HttpClient {
    /// `per_second`: the provider's documented limit; we stay a little under it.
    pub fn new(per_second: Option<u32>, policy: RetryPolicy) -> Self {
        let limiter = per_second
            .and_then(|n| NonZeroU32::new((n * 9 / 10).max(1)))
            .map(|n| Arc::new(RateLimiter::direct(Quota::per_second(n))));
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(16)
            .user_agent(concat!("pricebook-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("static reqwest configuration is valid");
        HttpClient {
            client,
            limiter,
            policy,
            stats: Arc::new(HttpStats::default()),
        }
    }

    /// A client with its own rate limit (e.g. one per upstream operation) that shares
    /// this one's connection pool, policy and stats.
    pub fn with_quota(&self, quota: Option<Quota>) -> Self {
        HttpClient {
            client: self.client.clone(),
            limiter: quota.map(|q| Arc::new(RateLimiter::direct(q))),
            policy: self.policy.clone(),
            stats: self.stats.clone(),
        }
    }

    pub fn inner(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends a request built by `build` (called again for each attempt, with the current
    /// token) and decodes the JSON answer.
    pub async fn json<T: DeserializeOwned>(
        &self,
        auth: Option<&dyn TokenSource>,
        auth_failure: impl Into<AuthRule>,
        build: impl Fn(&reqwest::Client, Option<&str>) -> RequestBuilder,
    ) -> Result<T, UpstreamError> {
        self.send(auth, auth_failure, build, |body| {
            serde_json::from_slice::<T>(&body).map_err(|e| {
                // Truncated or garbled JSON is often transient: retry it like a 5xx; valid
                // JSON of the wrong shape will not get better by asking again.
                if e.is_syntax() || e.is_eof() {
                    Decode::Retry(format!("invalid JSON: {e}"))
                } else {
                    Decode::Fail(format!("unexpected shape: {e}"))
                }
            })
        })
        .await
    }

    /// Like [`HttpClient::json`] for a body that is not JSON (a report document).
    pub async fn bytes(
        &self,
        auth: Option<&dyn TokenSource>,
        auth_failure: impl Into<AuthRule>,
        build: impl Fn(&reqwest::Client, Option<&str>) -> RequestBuilder,
    ) -> Result<Vec<u8>, UpstreamError> {
        self.send(auth, auth_failure, build, Ok).await
    }

    async fn send<T>(
        &self,
        auth: Option<&dyn TokenSource>,
        auth_failure: impl Into<AuthRule>,
        build: impl Fn(&reqwest::Client, Option<&str>) -> RequestBuilder,
        decode: impl Fn(Vec<u8>) -> Result<T, Decode>,
    ) -> Result<T, UpstreamError> {
        let auth_failure = auth_failure.into();
        let mut delays = backon::ExponentialBuilder::default()
            .with_min_delay(self.policy.min_delay)
            .with_max_delay(self.policy.max_delay)
            .with_max_times(self.policy.max_retries)
            .with_jitter()
            .build();
        let mut refreshes = 0u32;
        let mut throttle_wait = Duration::ZERO;
        loop {
            if let Some(limiter) = &self.limiter {
                limiter.until_ready().await;
            }
            let token = match auth {
                Some(a) => Some(a.token().await?),
                None => None,
            };
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let outcome = match build(&self.client, token.as_deref()).send().await {
                Ok(resp) => self.classify(resp, auth_failure).await,
                Err(e) => Attempt::Retry(network_error(&e), None),
            };
            match outcome {
                Attempt::Done(body) => match decode(body) {
                    Ok(value) => return Ok(value),
                    Err(Decode::Retry(message)) => {
                        let err = UpstreamError::Malformed(message);
                        let Some(delay) = delays.next() else {
                            return Err(err);
                        };
                        self.stats.retries.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(delay).await;
                    }
                    Err(Decode::Fail(message)) => {
                        return Err(UpstreamError::Malformed(message));
                    }
                },
                Attempt::Unauthorized(message) => {
                    let (Some(a), Some(stale)) = (auth, token.as_deref()) else {
                        return Err(UpstreamError::Unauthorized(message));
                    };
                    // One refresh per refused request. The first goes at once; when the
                    // fresh token is refused too (a revocation racing the refresh), the
                    // next ones wait out the backoff and spend the retry budget, so a
                    // credential the upstream never accepts still fails the call.
                    if refreshes > 0 {
                        let Some(delay) = delays.next() else {
                            return Err(UpstreamError::Unauthorized(message));
                        };
                        self.stats.retries.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(delay).await;
                    }
                    refreshes += 1;
                    self.stats.refreshes.fetch_add(1, Ordering::Relaxed);
                    a.refresh(stale).await?;
                }
                Attempt::Throttled(retry_after) => {
                    self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                    let wait = retry_after
                        .unwrap_or_else(|| delays.next().unwrap_or(self.policy.max_delay));
                    throttle_wait += wait;
                    if throttle_wait > self.policy.max_throttle_wait {
                        return Err(UpstreamError::RateLimitBudget {
                            waited: throttle_wait,
                        });
                    }
                    tokio::time::sleep(wait).await;
                }
                Attempt::ThrottledAtRate(hint) => {
                    self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                    let backoff = delays.next().unwrap_or(self.policy.max_delay);
                    let wait = hint.map_or(backoff, |h| h.max(backoff));
                    throttle_wait += wait;
                    if throttle_wait > self.policy.max_throttle_wait {
                        return Err(UpstreamError::RateLimitBudget {
                            waited: throttle_wait,
                        });
                    }
                    tokio::time::sleep(wait).await;
                }
                Attempt::Retry(err, retry_after) => {
                    let Some(delay) = delays.next() else {
                        return Err(err);
                    };
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(error = %err, "retrying upstream call");
                    tokio::time::sleep(retry_after.unwrap_or(delay)).await;
                }
                Attempt::Fail(err) => return Err(err),
            }
        }
    }

    async fn classify(&self, resp: Response, auth_failure: AuthRule) -> Attempt {
        let status = resp.status();
        let retry_after = retry_after(&resp);
        let rate_hint = rate_hint(&resp);
        if status.is_success() {
            return match resp.bytes().await {
                Ok(b) => Attempt::Done(b.to_vec()),
                Err(e) => Attempt::Retry(network_error(&e), None),
            };
        }
        let body = resp.text().await.unwrap_or_default();
        let message = excerpt(&body);
        if auth_failure.matches(status.as_u16(), &body) {
            return Attempt::Unauthorized(message);
        }
        match status {
            StatusCode::TOO_MANY_REQUESTS => match retry_after {
                Some(wait) => Attempt::Throttled(Some(wait)),
                None => Attempt::ThrottledAtRate(rate_hint),
            },
            s if s.is_server_error() => Attempt::Retry(
                UpstreamError::Server {
                    status: s.as_u16(),
                    message,
                },
                retry_after,
            ),
            s => Attempt::Fail(UpstreamError::Rejected {
                status: s.as_u16(),
                message,
            }),
        }
    }
}

/// Why a successful answer's body could not be decoded.
enum Decode {
    /// Likely transient (truncated): retried like a 5xx.
    Retry(String),
    Fail(String),
}

enum Attempt {
    Done(Vec<u8>),
    Unauthorized(String),
    Throttled(Option<Duration>),
    /// Throttled with only a rate hint: wait at least that long, backing off further.
    ThrottledAtRate(Option<Duration>),
    Retry(UpstreamError, Option<Duration>),
    Fail(UpstreamError),
}

fn retry_after(resp: &Response) -> Option<Duration> {
    let value = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(300.0)))
}

/// The provider's rate hint on a 429 without `Retry-After`: Amazon sends
/// `x-amzn-RateLimit-Limit: <requests per second>`, so one request interval at that rate
/// is the least a throttled caller waits (backoff still grows past it when 429s repeat).
fn rate_hint(resp: &Response) -> Option<Duration> {
    resp.headers()
        .get("x-amzn-ratelimit-limit")?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|rate| *rate > 0.0 && rate.is_finite())
        .map(|rate| Duration::from_secs_f64((1.0 / rate).min(60.0)))
}

/// Upstream bodies can be long and may echo credentials: keep a short, single-line excerpt.
fn excerpt(body: &str) -> String {
    let one_line: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    super::redact(&one_line)
}

/// A request to `url` that got no answer, naming the endpoint (scheme, host, port and
/// path: never the query string, which may carry tokens) and why, e.g. `token endpoint
/// https://auth.servicetitan.io/connect/token unreachable (connection refused)`.
pub fn unreachable(what: &str, url: &str, e: &reqwest::Error) -> UpstreamError {
    let shown = match reqwest::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => "(invalid URL)".to_owned(),
    };
    UpstreamError::Network(format!(
        "{what} {shown} unreachable ({})",
        describe_reqwest(e)
    ))
}

/// A failed request, naming its endpoint when reqwest knows it.
fn network_error(e: &reqwest::Error) -> UpstreamError {
    match e.url() {
        Some(url) => unreachable("endpoint", url.as_str(), e),
        None => UpstreamError::Network(describe_reqwest(e)),
    }
}

fn describe_reqwest(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection refused"
    } else if e.is_body() || e.is_decode() {
        "connection dropped while reading the body"
    } else {
        "request failed"
    };
    // The URL may carry tokens in query strings: never include it.
    kind.to_owned()
}

#[cfg(test)]
mod auth_rule_tests {
    use super::*;

    #[test]
    fn body_codes_narrow_which_statuses_mean_a_dead_token() {
        let amazon = AuthRule {
            statuses: &[403],
            body_codes: &["Unauthorized", "InvalidToken"],
        };
        assert!(amazon.matches(403, r#"{"errors":[{"code":"Unauthorized","message":"x"}]}"#));
        assert!(amazon.matches(403, r#"{"errors":[{"code":"InvalidToken"}]}"#));
        assert!(!amazon.matches(403, r#"{"errors":[{"code":"AccessDenied"}]}"#));
        assert!(!amazon.matches(401, r#"{"errors":[{"code":"Unauthorized"}]}"#));
        let any: AuthRule = AuthFailure(&[401]).into();
        assert!(any.matches(401, ""));
        assert!(!any.matches(403, ""));
    }
}
