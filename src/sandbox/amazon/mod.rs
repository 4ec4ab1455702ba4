//! Amazon SP-API emulator: Login with Amazon (`/auth/o2/token`, both grants), the seller
//! consent page (`/apps/authorize/consent`), FBA inventory summaries and financial events
//! with the real response shapes, pagination tokens that expire, per-operation usage
//! plans answered with 429 + `x-amzn-RateLimit-Limit`, 403 `Unauthorized` for dead tokens,
//! the Reports API (reimbursements and inventory-ledger documents generated from the seeded
//! inventory, processing delays, `CANCELLED` for empty windows, `FATAL`, gzip, pre-signed
//! document URLs that expire) and inbound shipment items (`recoveries`, `reports`), and a
//! control API (`/_control/...`) for remote edits, added ledger events and
//! reimbursements, configuration and faults.

pub mod recoveries;
pub mod reports;
mod routes;
pub mod seed;
mod store;

use super::faults::Faults;
use crate::connectors::amazon::auth::{
    SANDBOX_APPLICATION_ID, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REFRESH_TOKEN,
    SANDBOX_SELLING_PARTNER_ID,
};
use crate::connectors::amazon::reports::{
    CREATE_REPORT_PLAN, GET_DOCUMENT_PLAN, GET_REPORT_PLAN, GET_REPORTS_PLAN, SHIPMENT_ITEMS_PLAN,
};
use crate::connectors::amazon::wire::{FinancialEvents, InventorySummary};
use crate::connectors::amazon::{
    FINANCES_BURST, FINANCES_RATE, INVENTORY_BURST, INVENTORY_RATE, SANDBOX_MARKETPLACE,
};
use axum::Router;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
pub use seed::SeedSpec;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use store::StoredEvent;

/// The emulated seller account's settings; all but the credentials can change at run
/// time through `POST /_control/config` (camelCase keys).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EmulatorConfig {
    pub client_id: String,
    pub client_secret: String,
    pub application_id: String,
    pub selling_partner_id: String,
    pub marketplace_id: String,
    /// Usage plans (requests per second and burst); a rate of 0 disables the limit.
    pub inventory_rate: f64,
    pub inventory_burst: u32,
    pub finances_rate: f64,
    pub finances_burst: u32,
    pub token_ttl_seconds: u64,
    /// Lifetime of `nextToken` / `NextToken` (Amazon: 30 s).
    pub next_token_ttl_ms: u64,
    pub inventory_page_size: usize,
    /// Reports API usage plans (`createReport`, `getReport`, `getReports`,
    /// `getReportDocument`) and inbound `getShipmentItems`.
    pub create_report_rate: f64,
    pub create_report_burst: u32,
    pub get_report_rate: f64,
    pub get_report_burst: u32,
    pub get_reports_rate: f64,
    pub get_reports_burst: u32,
    pub get_document_rate: f64,
    pub get_document_burst: u32,
    pub shipment_items_rate: f64,
    pub shipment_items_burst: u32,
    /// A new report stays `IN_QUEUE` this long, then `IN_PROGRESS` for `report_processing_ms`.
    pub report_queue_ms: u64,
    pub report_processing_ms: u64,
    /// Documents are served gzip-compressed (`compressionAlgorithm: GZIP`) or plain.
    pub report_gzip: bool,
    /// Lifetime of a pre-signed document URL (Amazon: 5 minutes).
    pub document_url_ttl_ms: u64,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            client_id: SANDBOX_CLIENT_ID.into(),
            client_secret: SANDBOX_CLIENT_SECRET.into(),
            application_id: SANDBOX_APPLICATION_ID.into(),
            selling_partner_id: SANDBOX_SELLING_PARTNER_ID.into(),
            marketplace_id: SANDBOX_MARKETPLACE.into(),
            inventory_rate: INVENTORY_RATE,
            inventory_burst: INVENTORY_BURST,
            finances_rate: FINANCES_RATE,
            finances_burst: FINANCES_BURST,
            token_ttl_seconds: 3600,
            next_token_ttl_ms: 30_000,
            inventory_page_size: 50,
            create_report_rate: CREATE_REPORT_PLAN.0,
            create_report_burst: CREATE_REPORT_PLAN.1,
            get_report_rate: GET_REPORT_PLAN.0,
            get_report_burst: GET_REPORT_PLAN.1,
            get_reports_rate: GET_REPORTS_PLAN.0,
            get_reports_burst: GET_REPORTS_PLAN.1,
            get_document_rate: GET_DOCUMENT_PLAN.0,
            get_document_burst: GET_DOCUMENT_PLAN.1,
            shipment_items_rate: SHIPMENT_ITEMS_PLAN.0,
            shipment_items_burst: SHIPMENT_ITEMS_PLAN.1,
            report_queue_ms: 100,
            report_processing_ms: 200,
            report_gzip: true,
            document_url_ttl_ms: 300_000,
        }
    }
}

/// Request counts by kind, for tests and the control API.
#[derive(Default, Debug)]
pub struct Stats {
    pub token: AtomicU64,
    pub consent: AtomicU64,
    pub inventory: AtomicU64,
    pub finances: AtomicU64,
    pub throttled: AtomicU64,
    pub faults: AtomicU64,
    pub expired_tokens: AtomicU64,
    pub unauthorized: AtomicU64,
    pub create_report: AtomicU64,
    pub get_report: AtomicU64,
    pub get_reports: AtomicU64,
    pub get_document: AtomicU64,
    pub downloads: AtomicU64,
    pub expired_urls: AtomicU64,
    pub shipment_items: AtomicU64,
}

impl Stats {
    pub fn get(a: &AtomicU64) -> u64 {
        a.load(Ordering::Relaxed)
    }

    pub fn to_json(&self) -> serde_json::Value {
        let l = Self::get;
        serde_json::json!({
            "token": l(&self.token), "consent": l(&self.consent), "inventory": l(&self.inventory),
            "finances": l(&self.finances), "throttled": l(&self.throttled), "faults": l(&self.faults),
            "expiredTokens": l(&self.expired_tokens), "unauthorized": l(&self.unauthorized),
            "createReport": l(&self.create_report), "getReport": l(&self.get_report),
            "getReports": l(&self.get_reports), "getReportDocument": l(&self.get_document),
            "downloads": l(&self.downloads), "expiredUrls": l(&self.expired_urls),
            "shipmentItems": l(&self.shipment_items),
        })
    }

    fn reset(&self) {
        for a in [
            &self.token,
            &self.consent,
            &self.inventory,
            &self.finances,
            &self.throttled,
            &self.faults,
            &self.expired_tokens,
            &self.unauthorized,
            &self.create_report,
            &self.get_report,
            &self.get_reports,
            &self.get_document,
            &self.downloads,
            &self.expired_urls,
            &self.shipment_items,
        ] {
            a.store(0, Ordering::Relaxed);
        }
    }
}

/// Per-operation usage plans.
pub(crate) struct Limiters {
    inventory: Option<DefaultDirectRateLimiter>,
    finances: Option<DefaultDirectRateLimiter>,
    create_report: Option<DefaultDirectRateLimiter>,
    get_report: Option<DefaultDirectRateLimiter>,
    get_reports: Option<DefaultDirectRateLimiter>,
    get_document: Option<DefaultDirectRateLimiter>,
    shipment_items: Option<DefaultDirectRateLimiter>,
}

fn limiter(rate: f64, burst: u32) -> Option<DefaultDirectRateLimiter> {
    if rate <= 0.0 || !rate.is_finite() {
        return None;
    }
    let quota = Quota::with_period(Duration::from_secs_f64(1.0 / rate))?
        .allow_burst(NonZeroU32::new(burst.max(1))?);
    Some(RateLimiter::direct(quota))
}

impl Limiters {
    fn of(c: &EmulatorConfig) -> Self {
        Limiters {
            inventory: limiter(c.inventory_rate, c.inventory_burst),
            finances: limiter(c.finances_rate, c.finances_burst),
            create_report: limiter(c.create_report_rate, c.create_report_burst),
            get_report: limiter(c.get_report_rate, c.get_report_burst),
            get_reports: limiter(c.get_reports_rate, c.get_reports_burst),
            get_document: limiter(c.get_document_rate, c.get_document_burst),
            shipment_items: limiter(c.shipment_items_rate, c.shipment_items_burst),
        }
    }
}

/// An authorization code of the consent flow: single use, 5 minutes, bound to its
/// redirect URI.
struct AuthCode {
    redirect_uri: String,
    expires: Instant,
}

pub(crate) struct Inner {
    config: RwLock<EmulatorConfig>,
    limiters: RwLock<Arc<Limiters>>,
    data: RwLock<store::Data>,
    access_tokens: Mutex<HashMap<String, Instant>>,
    refresh_tokens: Mutex<HashSet<String>>,
    codes: Mutex<HashMap<String, AuthCode>>,
    faults: Faults,
    /// Requests that carry a pagination token and should find it expired (fault).
    expire_next: AtomicU32,
    /// Report faults: the next N reports end FATAL / stay IN_QUEUE; the next N document
    /// URLs are issued already expired.
    fatal_next: AtomicU32,
    stuck_next: AtomicU32,
    expired_urls_next: AtomicU32,
    /// Signs pre-signed document URLs.
    url_secret: String,
    stats: Stats,
}

impl Inner {
    fn config(&self) -> EmulatorConfig {
        self.config.read().map(|c| c.clone()).unwrap_or_default()
    }

    fn limiters(&self) -> Arc<Limiters> {
        self.limiters
            .read()
            .map(|l| l.clone())
            .unwrap_or_else(|_| Arc::new(Limiters::of(&EmulatorConfig::default())))
    }
}

#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

impl Emulator {
    pub fn new(config: EmulatorConfig) -> Self {
        let emulator = Emulator {
            inner: Arc::new(Inner {
                limiters: RwLock::new(Arc::new(Limiters::of(&config))),
                config: RwLock::new(config),
                data: RwLock::new(store::Data::default()),
                access_tokens: Mutex::new(HashMap::new()),
                refresh_tokens: Mutex::new(HashSet::from([SANDBOX_REFRESH_TOKEN.to_owned()])),
                codes: Mutex::new(HashMap::new()),
                faults: Faults::default(),
                expire_next: AtomicU32::new(0),
                fatal_next: AtomicU32::new(0),
                stuck_next: AtomicU32::new(0),
                expired_urls_next: AtomicU32::new(0),
                url_secret: uuid::Uuid::new_v4().simple().to_string(),
                stats: Stats::default(),
            }),
        };
        emulator.seed(&SeedSpec::default());
        emulator
    }

    /// Routes relative to where they are mounted (`/sandbox/amazon`).
    pub fn router(&self) -> Router {
        routes::router(self.inner.clone())
    }

    pub fn seed(&self, spec: &SeedSpec) {
        if let Ok(mut d) = self.inner.data.write() {
            seed::seed(&mut d, spec);
        }
    }

    pub fn config(&self) -> EmulatorConfig {
        self.inner.config()
    }

    /// Applies a partial configuration (JSON, camelCase) and rebuilds the rate limiters.
    pub fn configure(&self, patch: &serde_json::Value) -> Result<EmulatorConfig, String> {
        routes::configure(&self.inner, patch)
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

    /// The next `n` requests that carry a pagination token find it expired.
    pub fn expire_next_tokens(&self, n: u32) {
        self.inner.expire_next.fetch_add(n, Ordering::Relaxed);
    }

    /// Changes a summary as if the seller's stock moved (bumps `lastUpdatedTime`).
    pub fn set_remote(
        &self,
        sku: &str,
        patch: &serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        routes::control_patch(&self.inner, sku, patch)
    }

    pub fn get_remote(&self, sku: &str) -> Option<InventorySummary> {
        self.inner.data.read().ok()?.inventory.get(sku).cloned()
    }

    pub fn delete_remote(&self, sku: &str) -> bool {
        self.inner
            .data
            .write()
            .map(|mut d| d.inventory.remove(sku).is_some())
            .unwrap_or(false)
    }

    /// Adds a summary as given (even one without `sellerSku`, to test bad records).
    pub fn put_summary(&self, summary: InventorySummary) {
        routes::control_put(&self.inner, summary);
    }

    /// Adds financial events; service fees are dated `service_fees_at`.
    pub fn add_events(
        &self,
        events: FinancialEvents,
        service_fees_at: chrono::DateTime<chrono::Utc>,
    ) {
        let Ok(mut d) = self.inner.data.write() else {
            return;
        };
        for e in events.shipment_event_list.into_iter().flatten() {
            d.events.push(StoredEvent::Shipment(e));
        }
        for e in events.refund_event_list.into_iter().flatten() {
            d.events.push(StoredEvent::Refund(e));
        }
        for e in events.adjustment_event_list.into_iter().flatten() {
            d.events.push(StoredEvent::Adjustment(e));
        }
        for e in events.service_fee_event_list.into_iter().flatten() {
            d.events.push(StoredEvent::ServiceFee {
                at: service_fees_at,
                event: e,
            });
        }
        d.sort_events();
    }

    /// Adds reimbursement lines (they appear in reports created from now on).
    pub fn add_reimbursements(&self, rows: Vec<recoveries::StoredReimbursement>) {
        if let Ok(mut d) = self.inner.data.write() {
            d.recoveries.reimbursements.extend(rows);
        }
    }

    /// Adds inventory-ledger events.
    pub fn add_ledger_events(&self, rows: Vec<recoveries::StoredLedgerEvent>) {
        if let Ok(mut d) = self.inner.data.write() {
            d.recoveries.ledger.extend(rows);
        }
    }

    /// Adds or replaces inbound shipment items (by shipment and SKU).
    pub fn put_inbound(&self, rows: Vec<recoveries::StoredInbound>) {
        if let Ok(mut d) = self.inner.data.write() {
            for row in rows {
                let same = |x: &recoveries::StoredInbound| {
                    x.item.shipment_id == row.item.shipment_id
                        && x.item.seller_sku == row.item.seller_sku
                };
                d.recoveries.inbound.retain(|x| !same(x));
                d.recoveries.inbound.push(row);
            }
        }
    }

    /// The cases the seed planted that a correct detector reports as claims.
    pub fn planted_claims(&self) -> Vec<recoveries::Planted> {
        self.inner
            .data
            .read()
            .map(|d| d.recoveries.planted.clone())
            .unwrap_or_default()
    }

    /// Reports created so far, newest first, with their status now.
    pub fn reports(&self) -> Vec<crate::connectors::amazon::wire::Report> {
        reports::list_all(&self.inner)
    }

    /// The next `n` reports end FATAL.
    pub fn fail_next_reports(&self, n: u32) {
        self.inner.fatal_next.fetch_add(n, Ordering::Relaxed);
    }

    /// The next `n` reports stay IN_QUEUE.
    pub fn stall_next_reports(&self, n: u32) {
        self.inner.stuck_next.fetch_add(n, Ordering::Relaxed);
    }

    /// The next `n` document URLs are issued already expired.
    pub fn expire_next_urls(&self, n: u32) {
        self.inner.expired_urls_next.fetch_add(n, Ordering::Relaxed);
    }

    /// Seller SKUs in listing order.
    pub fn skus(&self) -> Vec<String> {
        self.inner
            .data
            .read()
            .map(|d| d.inventory.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub fn event_count(&self) -> usize {
        self.inner.data.read().map(|d| d.events.len()).unwrap_or(0)
    }
}

impl Default for Emulator {
    fn default() -> Self {
        Self::new(EmulatorConfig::default())
    }
}
