//! ServiceTitan Pricebook v2 emulator: `/connect/token`, `ST-App-Key`, paged lists,
//! export feeds with `continueFrom`, create/patch/delete, bulk, its own 60 req/s limit,
//! and a control API (`/_control/...`) for remote edits and fault injection.

mod routes;
pub mod seed;
mod store;

use super::faults::Faults;
use crate::connectors::servicetitan::{
    SANDBOX_APP_KEY, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_TENANT,
};
use axum::Router;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
pub use seed::SeedSpec;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    pub client_id: String,
    pub client_secret: String,
    pub app_key: String,
    pub tenant: i64,
    /// The provider's own limit (None: unlimited, for measuring the emulator alone).
    pub rate_limit_per_second: Option<u32>,
    pub token_ttl_seconds: u64,
    pub max_page_size: usize,
    pub export_page_size: usize,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            client_id: SANDBOX_CLIENT_ID.into(),
            client_secret: SANDBOX_CLIENT_SECRET.into(),
            app_key: SANDBOX_APP_KEY.into(),
            tenant: SANDBOX_TENANT,
            rate_limit_per_second: Some(60),
            token_ttl_seconds: 900,
            max_page_size: 500,
            export_page_size: 500,
        }
    }
}

/// Request counts by kind, so tests can assert "zero upstream writes".
#[derive(Default, Debug)]
pub struct Stats {
    pub token: AtomicU64,
    pub list: AtomicU64,
    pub export: AtomicU64,
    pub get: AtomicU64,
    pub create: AtomicU64,
    pub update: AtomicU64,
    pub delete: AtomicU64,
    pub bulk: AtomicU64,
    pub throttled: AtomicU64,
    pub faults: AtomicU64,
}

impl Stats {
    pub fn writes(&self) -> u64 {
        self.create.load(Ordering::Relaxed)
            + self.update.load(Ordering::Relaxed)
            + self.delete.load(Ordering::Relaxed)
            + self.bulk.load(Ordering::Relaxed)
    }

    pub fn to_json(&self) -> serde_json::Value {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        serde_json::json!({
            "token": l(&self.token), "list": l(&self.list), "export": l(&self.export), "get": l(&self.get),
            "create": l(&self.create), "update": l(&self.update), "delete": l(&self.delete), "bulk": l(&self.bulk),
            "throttled": l(&self.throttled), "faults": l(&self.faults), "writes": self.writes(),
        })
    }

    fn reset(&self) {
        for a in [
            &self.token,
            &self.list,
            &self.export,
            &self.get,
            &self.create,
            &self.update,
            &self.delete,
            &self.bulk,
            &self.throttled,
            &self.faults,
        ] {
            a.store(0, Ordering::Relaxed);
        }
    }
}

pub(crate) struct Inner {
    config: EmulatorConfig,
    data: RwLock<store::Data>,
    tokens: Mutex<HashMap<String, Instant>>,
    faults: Faults,
    limiter: Option<DefaultDirectRateLimiter>,
    stats: Stats,
}

#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

impl Emulator {
    pub fn new(config: EmulatorConfig) -> Self {
        let limiter = config
            .rate_limit_per_second
            .and_then(NonZeroU32::new)
            .map(|n| RateLimiter::direct(Quota::per_second(n)));
        Emulator {
            inner: Arc::new(Inner {
                config,
                data: RwLock::new(store::Data::default()),
                tokens: Mutex::new(HashMap::new()),
                faults: Faults::default(),
                limiter,
                stats: Stats::default(),
            }),
        }
    }

    pub fn config(&self) -> &EmulatorConfig {
        &self.inner.config
    }

    /// Routes relative to where they are mounted (`/sandbox/servicetitan` or the root).
    pub fn router(&self) -> Router {
        routes::router(self.inner.clone())
    }

    pub fn seed(&self, spec: &SeedSpec) {
        if let Ok(mut d) = self.inner.data.write() {
            seed::seed(&mut d, spec);
        }
    }

    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    pub fn reset_stats(&self) {
        self.inner.stats.reset();
    }

    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// Access tokens the emulator currently accepts (tests grep for them).
    pub fn live_tokens(&self) -> Vec<String> {
        self.inner
            .tokens
            .lock()
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Applies a remote edit (camelCase fields) as if made in ServiceTitan.
    pub fn set_remote(
        &self,
        entity: &str,
        id: i64,
        patch: &serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        routes::control_patch(&self.inner, entity, id, patch)
    }

    pub fn get_remote(&self, entity: &str, id: i64) -> Option<serde_json::Value> {
        routes::control_get(&self.inner, entity, id)
    }

    pub fn delete_remote(&self, entity: &str, id: i64) -> bool {
        routes::control_delete(&self.inner, entity, id)
    }

    /// Ids of the records of an entity type, in id order.
    pub fn ids(&self, entity: &str) -> Vec<i64> {
        let Ok(d) = self.inner.data.read() else {
            return Vec::new();
        };
        match entity {
            "categories" => d.categories.rows.keys().copied().collect(),
            other => d
                .skus(other)
                .map(|t| t.rows.keys().copied().collect())
                .unwrap_or_default(),
        }
    }
}
