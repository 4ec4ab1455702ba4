//! Fulfil REST v2 emulator (products): `PUT /api/v2/model/product.product/search_read`
//! and `search_count` with `x-api-key`, Tryton-style domains, `(write_date, id)` order,
//! `limit` ≤ 500, `__class__`-encoded values, its own request rate (429 + `Retry-After`),
//! and the DESIGN §6 control API for remote edits and faults.

mod domain;
mod routes;

use super::faults::Faults;
use crate::connectors::fulfil::SANDBOX_API_KEY;
use crate::connectors::fulfil::wire::Product;
use axum::Router;
use chrono::{DateTime, Duration, TimeZone, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    pub api_key: String,
    /// Requests per second before 429 (None: unlimited).
    pub rate_limit_per_second: Option<u32>,
    pub max_page_size: u64,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            api_key: SANDBOX_API_KEY.into(),
            rate_limit_per_second: Some(20),
            max_page_size: 500,
        }
    }
}

/// How many products to seed (`POST /_control/seed {"products": N}`).
#[derive(Debug, Clone, Deserialize)]
pub struct SeedSpec {
    #[serde(default)]
    pub products: usize,
}

#[derive(Default, Debug)]
pub struct Stats {
    pub search_read: AtomicU64,
    pub search_count: AtomicU64,
    pub throttled: AtomicU64,
    pub unauthorized: AtomicU64,
    pub faults: AtomicU64,
}

impl Stats {
    pub fn to_json(&self) -> serde_json::Value {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        serde_json::json!({
            "search_read": l(&self.search_read), "search_count": l(&self.search_count),
            "throttled": l(&self.throttled), "unauthorized": l(&self.unauthorized),
            "faults": l(&self.faults),
        })
    }

    fn reset(&self) {
        for a in [
            &self.search_read,
            &self.search_count,
            &self.throttled,
            &self.unauthorized,
            &self.faults,
        ] {
            a.store(0, Ordering::Relaxed);
        }
    }
}

/// Products by id plus a `(write_date, id)` index, and a clock that never repeats.
#[derive(Default)]
pub(crate) struct Data {
    rows: BTreeMap<i64, Product>,
    order: BTreeSet<(DateTime<Utc>, i64)>,
    last_write: Option<DateTime<Utc>>,
}

impl Data {
    fn put(&mut self, p: Product) {
        if let Some(old) = self.rows.get(&p.id) {
            self.order
                .remove(&(old.write_date.unwrap_or_default(), old.id));
        }
        self.order.insert((p.write_date.unwrap_or_default(), p.id));
        self.rows.insert(p.id, p);
    }

    fn remove(&mut self, id: i64) -> Option<Product> {
        let old = self.rows.remove(&id)?;
        self.order
            .remove(&(old.write_date.unwrap_or_default(), old.id));
        Some(old)
    }

    /// Now, at microsecond precision (Fulfil's), after every earlier write.
    fn tick(&mut self) -> DateTime<Utc> {
        let now = Utc::now();
        let now = Utc
            .timestamp_micros(now.timestamp_micros())
            .single()
            .unwrap_or(now);
        let at = match self.last_write {
            Some(last) if last >= now => last + Duration::microseconds(1),
            _ => now,
        };
        self.last_write = Some(at);
        at
    }

    /// Rows in `(write_date, id)` order.
    fn ordered(&self) -> impl Iterator<Item = &Product> {
        self.order.iter().filter_map(|(_, id)| self.rows.get(id))
    }
}

/// Product `i` (1-based) of the seed: weights alternate kg and g, sizes cm and mm.
pub fn seeded_product(i: usize) -> Product {
    let n = i as i64;
    let metric_weight = i % 2 == 1;
    let metric_size = !i.is_multiple_of(3);
    let grams = Decimal::from(50 + (n * 37) % 4950);
    Product {
        id: n,
        code: Some(format!("FUL-{i:06}")),
        name: Some(format!("Fulfil product {i}")),
        weight: Some(if metric_weight {
            grams / Decimal::from(1000)
        } else {
            grams
        }),
        weight_uom: Some(if metric_weight { "kg" } else { "g" }.into()),
        length: Some(
            Decimal::from(10 + n % 90)
                * if metric_size {
                    Decimal::ONE
                } else {
                    Decimal::TEN
                },
        ),
        width: Some(
            Decimal::new(50 + (n % 40) * 5, 1)
                * if metric_size {
                    Decimal::ONE
                } else {
                    Decimal::TEN
                },
        ),
        height: Some(
            Decimal::new(25 + n % 30, 1)
                * if metric_size {
                    Decimal::ONE
                } else {
                    Decimal::TEN
                },
        ),
        dimensions_uom: Some(if metric_size { "cm" } else { "mm" }.into()),
        list_price: Some(Decimal::new(999 + (n % 500) * 100, 2)),
        cost_price: Some(Decimal::new(4_50 + (n % 300) * 25, 2)),
        active: !i.is_multiple_of(50),
        // Seeded history: one product a minute from 2026-01-01, long before any edit.
        write_date: Some(
            Utc.timestamp_opt(1_767_225_600 + n * 60, 0)
                .single()
                .unwrap_or_default(),
        ),
    }
}

pub(crate) struct Inner {
    config: EmulatorConfig,
    data: RwLock<Data>,
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
                data: RwLock::new(Data::default()),
                faults: Faults::default(),
                limiter,
                stats: Stats::default(),
            }),
        }
    }

    pub fn router(&self) -> Router {
        routes::router(self.inner.clone())
    }

    /// Replaces the products with `spec.products` seeded ones (ids 1..=N).
    pub fn seed(&self, spec: &SeedSpec) {
        if let Ok(mut d) = self.inner.data.write() {
            *d = Data::default();
            for i in 1..=spec.products {
                d.put(seeded_product(i));
            }
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

    /// A remote edit in Fulfil's own encoding (creates the product when the id is new);
    /// bumps `write_date`.
    pub fn set_remote(
        &self,
        id: i64,
        patch: &serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        routes::control_patch(&self.inner, id, patch)
    }

    pub fn get_remote(&self, id: i64) -> Option<serde_json::Value> {
        let d = self.inner.data.read().ok()?;
        d.rows.get(&id).map(Product::encode)
    }

    pub fn delete_remote(&self, id: i64) -> bool {
        self.inner
            .data
            .write()
            .ok()
            .and_then(|mut d| d.remove(id))
            .is_some()
    }

    pub fn ids(&self) -> Vec<i64> {
        self.inner
            .data
            .read()
            .map(|d| d.rows.keys().copied().collect())
            .unwrap_or_default()
    }
}
