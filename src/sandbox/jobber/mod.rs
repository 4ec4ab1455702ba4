//! Jobber emulator: `POST /api/graphql` (version header required, bearer token), the
//! OAuth authorize (auto-approves) and token endpoints with refresh-token rotation, the
//! query-cost bucket (`extensions.cost`, `THROTTLED`) and the request budget (429), and
//! a control API (`/_control/...`) for remote edits, tokens, limits and faults.
//!
//! It answers only the operations our connector sends, recognised by their root field,
//! and reads their variables; a full GraphQL schema would double every type for no test
//! the shared `wire` types do not already cover.

mod graphql;
mod oauth;
mod routes;
pub mod seed;

use super::faults::Faults;
use crate::connectors::jobber::wire::{
    DEFAULT_API_VERSION, ProductOrService, ThrottleStatus, TokenResponse,
};
use crate::connectors::jobber::{SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET};
use axum::Router;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
pub use seed::SeedSpec;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The versions the emulator serves by default: the current one and its predecessor.
pub const SUPPORTED_VERSIONS: &[&str] = &["2025-04-16", DEFAULT_API_VERSION];

/// Limits and lifetimes; all but the client can be changed at run time (`PATCH /_control/config`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EmulatorConfig {
    pub client_id: String,
    pub client_secret: String,
    pub access_token_ttl_seconds: u64,
    pub maximum_available: f64,
    pub restore_rate: f64,
    /// Requests per window before HTTP 429 (Jobber: 2,500 per 5 minutes).
    pub request_budget: usize,
    pub request_window_seconds: u64,
    pub max_page_size: u32,
    /// API versions served; a request naming another is refused with
    /// `UNSUPPORTED_API_VERSION` (Jobber retires a version 12 months after its successor).
    pub supported_versions: Vec<String>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            client_id: SANDBOX_CLIENT_ID.into(),
            client_secret: SANDBOX_CLIENT_SECRET.into(),
            access_token_ttl_seconds: 3600,
            maximum_available: 10_000.0,
            restore_rate: 500.0,
            request_budget: 2_500,
            request_window_seconds: 300,
            max_page_size: 100,
            supported_versions: SUPPORTED_VERSIONS.iter().map(|v| (*v).to_owned()).collect(),
        }
    }
}

/// Request counts by kind, so tests can assert "zero upstream writes" or "one refresh".
#[derive(Default, Debug)]
pub struct Stats {
    pub graphql: AtomicU64,
    pub list: AtomicU64,
    pub get: AtomicU64,
    pub edit: AtomicU64,
    pub create: AtomicU64,
    pub user_errors: AtomicU64,
    pub authorize: AtomicU64,
    pub code_grants: AtomicU64,
    pub refresh_grants: AtomicU64,
    pub refused_grants: AtomicU64,
    pub unauthorized: AtomicU64,
    pub throttled: AtomicU64,
    pub rate_limited: AtomicU64,
    pub faults: AtomicU64,
}

impl Stats {
    fn all(&self) -> [(&'static str, &AtomicU64); 14] {
        [
            ("graphql", &self.graphql),
            ("list", &self.list),
            ("get", &self.get),
            ("edit", &self.edit),
            ("create", &self.create),
            ("userErrors", &self.user_errors),
            ("authorize", &self.authorize),
            ("codeGrants", &self.code_grants),
            ("refreshGrants", &self.refresh_grants),
            ("refusedGrants", &self.refused_grants),
            ("unauthorized", &self.unauthorized),
            ("throttled", &self.throttled),
            ("rateLimited", &self.rate_limited),
            ("faults", &self.faults),
        ]
    }

    pub fn writes(&self) -> u64 {
        self.edit.load(Ordering::Relaxed) + self.create.load(Ordering::Relaxed)
    }

    pub fn to_json(&self) -> serde_json::Value {
        let mut m: serde_json::Map<String, serde_json::Value> = self
            .all()
            .iter()
            .map(|(k, a)| ((*k).to_owned(), a.load(Ordering::Relaxed).into()))
            .collect();
        m.insert("writes".into(), self.writes().into());
        serde_json::Value::Object(m)
    }

    fn reset(&self) {
        for (_, a) in self.all() {
            a.store(0, Ordering::Relaxed);
        }
    }
}

/// The query-cost bucket: refills continuously, drained by each query's cost.
pub(crate) struct Bucket {
    available: f64,
    at: Instant,
}

pub(crate) struct State {
    pub config: EmulatorConfig,
    pub products: BTreeMap<i64, ProductOrService>,
    /// Authorization code → the redirect URI it was issued for.
    pub codes: HashMap<String, (String, Instant)>,
    pub access: HashMap<String, Instant>,
    pub refresh: HashSet<String>,
    pub bucket: Bucket,
    pub requests: VecDeque<Instant>,
    /// Every `X-JOBBER-GRAPHQL-VERSION` value an API call named.
    pub versions_seen: std::collections::BTreeSet<String>,
}

impl State {
    /// The bucket as of now (refilled since the last look).
    pub fn throttle_status(&mut self) -> ThrottleStatus {
        let now = Instant::now();
        let refilled = now.duration_since(self.bucket.at).as_secs_f64() * self.config.restore_rate;
        self.bucket.available =
            (self.bucket.available + refilled).min(self.config.maximum_available);
        self.bucket.at = now;
        ThrottleStatus {
            maximum_available: self.config.maximum_available,
            currently_available: self.bucket.available,
            restore_rate: self.config.restore_rate,
        }
    }

    pub fn next_id(&self) -> i64 {
        self.products.keys().next_back().copied().unwrap_or(0) + 1
    }

    pub fn issue_tokens(&mut self) -> TokenResponse {
        let ttl = self.config.access_token_ttl_seconds;
        let access = format!("jba_{}", uuid::Uuid::new_v4().simple());
        let refresh = format!("jbr_{}", uuid::Uuid::new_v4().simple());
        let now = Instant::now();
        self.access.retain(|_, exp| *exp > now);
        self.access
            .insert(access.clone(), now + Duration::from_secs(ttl));
        self.refresh.insert(refresh.clone());
        TokenResponse {
            access_token: access,
            refresh_token: refresh,
            expires_in: Some(ttl),
        }
    }
}

pub(crate) struct Inner {
    pub state: Mutex<State>,
    pub faults: Faults,
    pub stats: Stats,
}

/// Jobber ids are opaque base64 global ids.
pub fn encode_id(id: i64) -> String {
    STANDARD.encode(format!("gid://Jobber/ProductOrService/{id}"))
}

pub fn decode_id(text: &str) -> Option<i64> {
    let raw = String::from_utf8(STANDARD.decode(text.trim()).ok()?).ok()?;
    raw.strip_prefix("gid://Jobber/ProductOrService/")?
        .parse()
        .ok()
}

#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

impl Emulator {
    pub fn new(config: EmulatorConfig) -> Self {
        let bucket = Bucket {
            available: config.maximum_available,
            at: Instant::now(),
        };
        Emulator {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    config,
                    products: BTreeMap::new(),
                    codes: HashMap::new(),
                    access: HashMap::new(),
                    refresh: HashSet::new(),
                    bucket,
                    requests: VecDeque::new(),
                    versions_seen: Default::default(),
                }),
                faults: Faults::default(),
                stats: Stats::default(),
            }),
        }
    }

    /// Routes relative to where they are mounted (`/sandbox/jobber` or the root).
    pub fn router(&self) -> Router {
        routes::router(self.inner.clone())
    }

    pub fn seed(&self, spec: &SeedSpec) {
        if let Ok(mut s) = self.inner.state.lock() {
            seed::seed(&mut s.products, spec);
        }
    }

    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// The `X-JOBBER-GRAPHQL-VERSION` values API calls named so far, sorted.
    pub fn versions_seen(&self) -> Vec<String> {
        self.inner
            .state
            .lock()
            .map(|s| s.versions_seen.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn reset_stats(&self) {
        self.inner.stats.reset();
    }

    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// A fresh access/refresh pair, as if a user had just approved access.
    pub fn issue_tokens(&self) -> Option<TokenResponse> {
        Some(self.inner.state.lock().ok()?.issue_tokens())
    }

    /// Every access token stops working now (refresh tokens stay valid).
    pub fn expire_access_tokens(&self) {
        if let Ok(mut s) = self.inner.state.lock() {
            s.access.clear();
        }
    }

    /// Whether a refresh token would still be accepted.
    pub fn refresh_token_valid(&self, token: &str) -> bool {
        self.inner
            .state
            .lock()
            .map(|s| s.refresh.contains(token))
            .unwrap_or(false)
    }

    /// Changes limits at run time (JSON like `PATCH /_control/config`).
    pub fn configure(&self, patch: &serde_json::Value) -> Result<serde_json::Value, String> {
        routes::configure(&self.inner, patch)
    }

    /// Applies a remote edit (Jobber field names) as if made in Jobber.
    pub fn set_remote(
        &self,
        id: i64,
        patch: &serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        routes::control_patch(&self.inner, id, patch)
    }

    pub fn get_remote(&self, id: i64) -> Option<serde_json::Value> {
        let s = self.inner.state.lock().ok()?;
        serde_json::to_value(s.products.get(&id)?).ok()
    }

    pub fn delete_remote(&self, id: i64) -> bool {
        self.inner
            .state
            .lock()
            .map(|mut s| s.products.remove(&id).is_some())
            .unwrap_or(false)
    }

    /// Numeric ids of the records, in id order.
    pub fn ids(&self) -> Vec<i64> {
        self.inner
            .state
            .lock()
            .map(|s| s.products.keys().copied().collect())
            .unwrap_or_default()
    }
}

impl Default for Emulator {
    fn default() -> Self {
        let e = Emulator::new(EmulatorConfig::default());
        e.seed(&SeedSpec::default());
        e
    }
}
