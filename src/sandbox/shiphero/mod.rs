//! ShipHero public API emulator (products): `/auth/token`, `/auth/refresh`, `POST
//! /graphql` with `product(sku:)`, `products`, `product_create` (fails when the SKU
//! exists), `product_update`, a per-account credit bucket answering `code: 30` with
//! `time_remaining`, and the DESIGN §6 control API.
//!
//! It dispatches on the operation's root field and reads arguments from `variables`; it
//! does not validate selection sets (the answer always carries every product field).

mod credits;
mod routes;

use super::faults::Faults;
use crate::connectors::shiphero::wire::Product;
use crate::connectors::shiphero::{SANDBOX_PASSWORD, SANDBOX_USERNAME};
use axum::Router;
pub use credits::CreditConfig;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    pub username: String,
    pub password: String,
    pub token_ttl_seconds: u64,
    pub credits: CreditConfig,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            username: SANDBOX_USERNAME.into(),
            password: SANDBOX_PASSWORD.into(),
            token_ttl_seconds: 28 * 24 * 3600,
            credits: CreditConfig::default(),
        }
    }
}

#[derive(Default, Debug)]
pub struct Stats {
    pub token: AtomicU64,
    pub refresh: AtomicU64,
    pub query: AtomicU64,
    pub create: AtomicU64,
    pub update: AtomicU64,
    /// `product_create` refused because the SKU existed.
    pub create_conflicts: AtomicU64,
    pub throttled: AtomicU64,
    pub unauthorized: AtomicU64,
    pub faults: AtomicU64,
}

impl Stats {
    /// Successful or attempted writes (`product_create` + `product_update` calls).
    pub fn writes(&self) -> u64 {
        self.create.load(Ordering::Relaxed) + self.update.load(Ordering::Relaxed)
    }

    pub fn to_json(&self) -> serde_json::Value {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        serde_json::json!({
            "token": l(&self.token), "refresh": l(&self.refresh), "query": l(&self.query),
            "create": l(&self.create), "update": l(&self.update),
            "create_conflicts": l(&self.create_conflicts), "throttled": l(&self.throttled),
            "unauthorized": l(&self.unauthorized), "faults": l(&self.faults),
            "writes": self.writes(),
        })
    }

    fn reset(&self) {
        for a in [
            &self.token,
            &self.refresh,
            &self.query,
            &self.create,
            &self.update,
            &self.create_conflicts,
            &self.throttled,
            &self.unauthorized,
            &self.faults,
        ] {
            a.store(0, Ordering::Relaxed);
        }
    }
}

/// Products by SKU, with ShipHero-style opaque ids.
#[derive(Default)]
pub(crate) struct Data {
    by_sku: BTreeMap<String, Product>,
    next_id: i64,
}

impl Data {
    fn insert_new(&mut self, mut p: Product) -> Product {
        self.next_id += 1;
        p.legacy_id = Some(self.next_id);
        p.id = product_id(self.next_id);
        self.by_sku.insert(p.sku.clone(), p.clone());
        p
    }
}

/// ShipHero ids are base64 of `ProductInfo:<legacy id>`.
fn product_id(legacy: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("ProductInfo:{legacy}"))
}

#[derive(Default)]
pub(crate) struct Tokens {
    access: HashMap<String, Instant>,
    refresh: HashMap<String, ()>,
}

pub(crate) struct Inner {
    config: EmulatorConfig,
    data: RwLock<Data>,
    tokens: Mutex<Tokens>,
    credits: credits::Bucket,
    faults: Faults,
    /// Queued `code: 30` answers (fault kind "30").
    forced_throttles: Mutex<u32>,
    stats: Stats,
}

#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

impl Emulator {
    pub fn new(config: EmulatorConfig) -> Self {
        Emulator {
            inner: Arc::new(Inner {
                credits: credits::Bucket::new(config.credits.clone()),
                config,
                data: RwLock::new(Data::default()),
                tokens: Mutex::new(Tokens::default()),
                faults: Faults::default(),
                forced_throttles: Mutex::new(0),
                stats: Stats::default(),
            }),
        }
    }

    pub fn router(&self) -> Router {
        routes::router(self.inner.clone())
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

    /// Queues `count` answers of `code: 30` (not enough credits).
    pub fn force_throttle(&self, count: u32) {
        if let Ok(mut n) = self.inner.forced_throttles.lock() {
            *n += count;
        }
    }

    /// Changes the credit bucket (and fills it).
    pub fn set_credits(&self, config: CreditConfig) {
        self.inner.credits.reconfigure(config);
    }

    /// Expires every access token (the next call gets 401 and must refresh).
    pub fn expire_tokens(&self) {
        if let Ok(mut t) = self.inner.tokens.lock() {
            t.access.clear();
        }
    }

    /// A product as ShipHero holds it, by SKU.
    /// Forgets every refresh token issued (as when the user revokes the app): the next
    /// `/auth/refresh` is refused.
    pub fn revoke_refresh_tokens(&self) {
        if let Ok(mut t) = self.inner.tokens.lock() {
            t.refresh.clear();
        }
    }

    pub fn product(&self, sku: &str) -> Option<Product> {
        self.inner.data.read().ok()?.by_sku.get(sku).cloned()
    }

    pub fn products(&self) -> Vec<Product> {
        self.inner
            .data
            .read()
            .map(|d| d.by_sku.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Adds a product as if made in ShipHero's UI (for create→update fallbacks).
    pub fn insert_remote(&self, product: Product) -> Product {
        match self.inner.data.write() {
            Ok(mut d) => d.insert_new(product),
            Err(_) => product,
        }
    }

    pub fn clear(&self) {
        if let Ok(mut d) = self.inner.data.write() {
            *d = Data::default();
        }
    }
}
