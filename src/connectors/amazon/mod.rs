//! Amazon Selling Partner API: FBA inventory summaries become `product` items (pull only),
//! financial events become per-SKU sales/fee lines (the engine's finances stage).
//!
//! - Auth: LWA refresh-token grant → `x-amz-access-token`; a 403 `Unauthorized` /
//!   `InvalidToken` refreshes once and retries (shared [`HttpClient`] rule).
//! - Rate limits, per connection and operation: inventory 2 req/s (burst 2), finances
//!   0.5 req/s (burst 30), both kept ~10 % under; a 429 waits at least one interval of
//!   the `x-amzn-RateLimit-Limit` it carries, backing off further when it repeats.
//! - Pagination tokens expire after ~30 s and cannot be re-created. An expired inventory
//!   `nextToken` restarts the listing (same `startDateTime`) — applying pages is
//!   idempotent, so re-reading them costs requests, not correctness; after
//!   [`MAX_RESTARTS`] the run fails instead of looping. An expired finances `NextToken`
//!   restarts the current posting window the same way (the engine decides).
//! - FBA recoveries (reimbursements and inventory-ledger reports, inbound shipment
//!   items): [`reports`], parsed by [`report_rows`]; claims are detected by the engine.
//! - Cursors (ours, JSON): `{"since", "next", "started", "restarts", "seen"}`. A finished
//!   listing leaves `{"since": <its start − 5 min>}` for the next incremental run.
//! - Deletion signals: an incremental listing (`startDateTime`) returns changed summaries
//!   only, so a SKU gone from the inventory shows as absence from a full listing. The
//!   connection is pull-only: nothing is ever pushed to a deleted record.

pub mod auth;
pub mod map;
pub mod report_rows;
pub mod reports;
pub mod wire;

use super::finances::{FinanceListing, FinanceSource, FinanceWindows};
use super::http::{AuthRule, HttpClient, RetryPolicy, UpstreamError};
use super::{Capabilities, Connector, EntityType, RemotePage, RemoteRecord};
use crate::error::{AppError, AppResult};
use crate::record::Fields;
use async_trait::async_trait;
use auth::LwaToken;
use chrono::{DateTime, Duration as Span, Utc};
use entity::enums::ItemKind;
use governor::Quota;
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use wire::{GetInventorySummariesResponse, InventorySummary, ListFinancialEventsResponse};

/// The North America marketplace (amazon.com); sandbox connections default to it.
pub const SANDBOX_MARKETPLACE: &str = "ATVPDKIKX0DER";
/// Documented usage plans.
pub const INVENTORY_RATE: f64 = 2.0;
pub const INVENTORY_BURST: u32 = 2;
pub const FINANCES_RATE: f64 = 0.5;
pub const FINANCES_BURST: u32 = 30;
/// Listing restarts after expired tokens before a run gives up.
pub const MAX_RESTARTS: u32 = 3;
/// Overlap of incremental inventory listings (clock skew, in-flight updates).
const SINCE_OVERLAP: Span = Span::minutes(5);

pub const ENTITIES: &[EntityType] = &[EntityType {
    name: "inventory",
    kind: Some(ItemKind::Product),
}];

/// Errors that mean "the token is dead", as opposed to a 403 for missing roles.
const AUTH: AuthRule = AuthRule {
    statuses: &[403],
    body_codes: &["Unauthorized", "InvalidToken"],
};

#[derive(Debug, Clone)]
pub struct Settings {
    pub base_url: String,
    pub token_url: String,
    pub marketplace_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    pub inventory_rate: f64,
    pub inventory_burst: u32,
    pub finances_rate: f64,
    pub finances_burst: u32,
    /// Pull financial events as a stage of each run (config `finances`, default true).
    pub finances: bool,
    pub lookback_days: i64,
    pub overlap_hours: i64,
    pub max_retries: usize,
    /// Pull reimbursements, the inventory ledger and inbound items and detect claims as a
    /// stage of each run (config `recoveries`, default true).
    pub recoveries: bool,
    pub recoveries_lookback_days: i64,
    pub recoveries_overlap_days: i64,
    pub report_align_minutes: i64,
    pub report_wait_seconds: u64,
    pub report_poll_ms: u64,
    pub ledger_date_order: report_rows::DateOrder,
    /// List inbound shipment items for the inbound-shortage rule (config `inbound`).
    pub inbound: bool,
}

fn region_host(region: &str, sandbox_host: bool) -> AppResult<String> {
    if !matches!(region, "na" | "eu" | "fe") {
        return Err(AppError::bad_input(format!(
            "config.region must be na, eu or fe (got '{region}')"
        )));
    }
    let prefix = if sandbox_host { "sandbox." } else { "" };
    Ok(format!(
        "https://{prefix}sellingpartnerapi-{region}.amazon.com"
    ))
}

impl Settings {
    /// From a connection's config and decrypted secrets; `config.sandbox` points both the
    /// SP-API host and LWA at the emulator mounted on this server, with its credentials.
    pub fn from_connection(
        config: &serde_json::Value,
        secrets: &serde_json::Value,
        sandbox_base: &str,
    ) -> AppResult<Settings> {
        let s = |k: &str| {
            secrets
                .get(k)
                .and_then(|v| v.as_str())
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let c = |k: &str| {
            config
                .get(k)
                .and_then(|v| v.as_str())
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let flag = |k: &str| config.get(k).and_then(|v| v.as_bool());
        let num = |k: &str, default: f64| {
            config
                .get(k)
                .and_then(|v| v.as_f64())
                .filter(|n| *n > 0.0 && n.is_finite())
                .unwrap_or(default)
        };
        let int = |k: &str, default: i64, max: i64| {
            config
                .get(k)
                .and_then(|v| v.as_i64())
                .map(|n| n.clamp(0, max))
                .unwrap_or(default)
        };
        let sandbox = flag("sandbox").unwrap_or(false);
        let missing =
            |what: &str| AppError::bad_input(format!("Amazon connection is missing {what}"));
        let base_url = match (c("baseUrl"), sandbox) {
            (Some(url), _) => url,
            (None, true) => format!("{sandbox_base}/sandbox/amazon"),
            (None, false) => region_host(
                &c("region").ok_or_else(|| missing("config.region"))?,
                flag("sandboxHost").unwrap_or(false),
            )?,
        };
        let (client_id, client_secret, refresh_token) = if sandbox {
            (
                s("clientId").unwrap_or_else(|| auth::SANDBOX_CLIENT_ID.into()),
                s("clientSecret").unwrap_or_else(|| auth::SANDBOX_CLIENT_SECRET.into()),
                s("refreshToken").unwrap_or_else(|| auth::SANDBOX_REFRESH_TOKEN.into()),
            )
        } else {
            (
                s("clientId").ok_or_else(|| missing("secrets.clientId"))?,
                s("clientSecret").ok_or_else(|| missing("secrets.clientSecret"))?,
                s("refreshToken").ok_or_else(|| {
                    missing(
                        "secrets.refreshToken (connect the seller through Seller Central first)",
                    )
                })?,
            )
        };
        let marketplace_id = match c("marketplaceId") {
            Some(m) => m,
            None if sandbox => SANDBOX_MARKETPLACE.into(),
            None => return Err(missing("config.marketplaceId")),
        };
        Ok(Settings {
            base_url,
            token_url: auth::token_url(config, sandbox_base),
            marketplace_id,
            client_id,
            client_secret,
            refresh_token,
            inventory_rate: num("inventoryRate", INVENTORY_RATE),
            inventory_burst: int("inventoryBurst", INVENTORY_BURST as i64, 100).max(1) as u32,
            finances_rate: num("financesRate", FINANCES_RATE),
            finances_burst: int("financesBurst", FINANCES_BURST as i64, 100).max(1) as u32,
            finances: flag("finances").unwrap_or(true),
            lookback_days: int("financesLookbackDays", 90, 540),
            overlap_hours: int("financesOverlapHours", 48, 24 * 30),
            max_retries: int("maxRetries", 6, 10) as usize,
            recoveries: flag("recoveries").unwrap_or(true),
            recoveries_lookback_days: int("recoveriesLookbackDays", 180, 540).max(1),
            recoveries_overlap_days: int("recoveriesOverlapDays", 7, 90),
            report_align_minutes: int("reportAlignMinutes", 60, 24 * 60),
            report_wait_seconds: int("reportWaitSeconds", 900, 4 * 3600) as u64,
            report_poll_ms: int("reportPollMs", 500, 60_000).max(10) as u64,
            ledger_date_order: match c("ledgerDateOrder").as_deref() {
                None | Some("monthFirst") => report_rows::DateOrder::MonthFirst,
                Some("dayFirst") => report_rows::DateOrder::DayFirst,
                Some(other) => {
                    return Err(AppError::bad_input(format!(
                        "config.ledgerDateOrder must be monthFirst or dayFirst (got '{other}')"
                    )));
                }
            },
            inbound: flag("inbound").unwrap_or(true),
        })
    }
}

/// A little under the provider's plan: 10 % longer intervals, the same burst.
fn quota(rate: f64, burst: u32) -> Option<Quota> {
    let period = Duration::from_secs_f64(1.1 / rate);
    Some(Quota::with_period(period)?.allow_burst(NonZeroU32::new(burst)?))
}

/// Our inventory listing cursor (see the module docs).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct InventoryCursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    started: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "is_zero")]
    restarts: u32,
    #[serde(default, skip_serializing_if = "is_zero64")]
    seen: u64,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
fn is_zero64(n: &u64) -> bool {
    *n == 0
}

impl InventoryCursor {
    fn parse(text: Option<&str>) -> InventoryCursor {
        // An unreadable cursor (e.g. from an older version) means "list everything".
        text.and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default()
    }

    fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Amazon says an expired or unknown pagination token with a 400 `InvalidInput`.
fn token_expired(e: &UpstreamError) -> bool {
    matches!(e, UpstreamError::Rejected { status: 400, message } if message.to_lowercase().contains("token"))
}

/// One client per Reports API / Inbound operation: each has its own usage plan.
struct ReportClients {
    create: HttpClient,
    get: HttpClient,
    list: HttpClient,
    document: HttpClient,
    /// Pre-signed document URLs: no usage plan, no access token.
    download: HttpClient,
    inbound: HttpClient,
}

pub struct Amazon {
    settings: Settings,
    inventory_http: HttpClient,
    finances_http: HttpClient,
    reports: ReportClients,
    token: LwaToken,
    /// SKUs of the last complete full listing: the progress estimate of the next one.
    last_full_count: AtomicU64,
}

impl Amazon {
    pub fn new(settings: Settings) -> Self {
        let policy = RetryPolicy {
            max_retries: settings.max_retries,
            ..RetryPolicy::default()
        };
        let base = HttpClient::new(None, policy);
        let inventory_http =
            base.with_quota(quota(settings.inventory_rate, settings.inventory_burst));
        let finances_http = base.with_quota(quota(settings.finances_rate, settings.finances_burst));
        let plan = |(rate, burst): (f64, u32)| base.with_quota(quota(rate, burst));
        let reports = ReportClients {
            create: plan(reports::CREATE_REPORT_PLAN),
            get: plan(reports::GET_REPORT_PLAN),
            list: plan(reports::GET_REPORTS_PLAN),
            document: plan(reports::GET_DOCUMENT_PLAN),
            download: base.with_quota(None),
            inbound: plan(reports::SHIPMENT_ITEMS_PLAN),
        };
        let token = LwaToken::new(
            base.inner().clone(),
            settings.token_url.clone(),
            settings.client_id.clone(),
            settings.client_secret.clone(),
            settings.refresh_token.clone(),
        );
        Amazon {
            settings,
            inventory_http,
            finances_http,
            reports,
            token,
            last_full_count: AtomicU64::new(0),
        }
    }

    /// Requests, retries, throttles and refreshes of both operations.
    pub fn http(&self) -> &HttpClient {
        &self.inventory_http
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.base_url.trim_end_matches('/'))
    }

    async fn summaries(
        &self,
        extra: &[(&str, String)],
    ) -> Result<GetInventorySummariesResponse, UpstreamError> {
        let url = self.url("/fba/inventory/v1/summaries");
        let mp = &self.settings.marketplace_id;
        let mut query: Vec<(&str, String)> = vec![
            ("details", "true".into()),
            ("granularityType", "Marketplace".into()),
            ("granularityId", mp.clone()),
            ("marketplaceIds", mp.clone()),
        ];
        query.extend(extra.iter().cloned());
        self.inventory_http
            .json(Some(&self.token), AUTH, |c, token| {
                c.get(&url)
                    .query(&query)
                    .header("x-amz-access-token", token.unwrap_or_default())
                    .header("accept", "application/json")
            })
            .await
    }

    fn summaries_of(resp: GetInventorySummariesResponse) -> Vec<InventorySummary> {
        resp.payload
            .map(|p| p.inventory_summaries)
            .unwrap_or_default()
    }

    async fn by_sku(&self, sku: &str) -> Result<Option<RemoteRecord>, UpstreamError> {
        let resp = self.summaries(&[("sellerSkus", sku.to_owned())]).await?;
        Ok(Self::summaries_of(resp)
            .iter()
            .find(|s| s.seller_sku.as_deref().map(str::trim) == Some(sku.trim()))
            .map(map::to_record))
    }

    fn read_only() -> UpstreamError {
        UpstreamError::Rejected {
            status: 405,
            message: "Amazon inventory is pull-only: items are never written upstream".into(),
        }
    }
}

#[async_trait]
impl Connector for Amazon {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            update: false,
            create: false,
        }
    }

    fn entity_types(&self) -> &'static [EntityType] {
        ENTITIES
    }

    async fn estimate(&self, _entity: &EntityType) -> Result<Option<u64>, UpstreamError> {
        Ok(Some(self.last_full_count.load(Ordering::Relaxed)).filter(|n| *n > 0))
    }

    async fn list_page(
        &self,
        _entity: &EntityType,
        cursor: Option<&str>,
    ) -> Result<RemotePage, UpstreamError> {
        let mut c = InventoryCursor::parse(cursor);
        let started = *c.started.get_or_insert_with(Utc::now);
        // Amazon accepts startDateTime up to 18 months back.
        let since = c
            .since
            .map(|s| s.max(Utc::now() - Span::days(540)))
            .map(|s| s.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let resp = loop {
            let mut q = Vec::new();
            if let Some(s) = &since {
                q.push(("startDateTime", s.clone()));
            }
            if let Some(n) = &c.next {
                q.push(("nextToken", n.clone()));
            }
            match self.summaries(&q).await {
                Ok(r) => break r,
                Err(e) if c.next.is_some() && token_expired(&e) => {
                    c.restarts += 1;
                    if c.restarts > MAX_RESTARTS {
                        return Err(UpstreamError::Rejected {
                            status: 400,
                            message: format!(
                                "inventory nextToken expired {MAX_RESTARTS} times; the listing cannot keep up with Amazon's 30 s token lifetime"
                            ),
                        });
                    }
                    tracing::warn!(
                        restarts = c.restarts,
                        "inventory nextToken expired; restarting the listing"
                    );
                    c.next = None;
                    c.seen = 0;
                }
                Err(e) => return Err(e),
            }
        };
        let next = resp
            .pagination
            .as_ref()
            .and_then(|p| p.next_token.clone())
            .filter(|t| !t.is_empty());
        let records: Vec<RemoteRecord> = Self::summaries_of(resp)
            .iter()
            .map(map::to_record)
            .collect();
        c.seen += records.len() as u64;
        let has_more = next.is_some();
        let cursor = if has_more {
            c.next = next;
            c
        } else {
            if c.since.is_none() {
                self.last_full_count.store(c.seen, Ordering::Relaxed);
            }
            InventoryCursor {
                since: Some(started - SINCE_OVERLAP),
                ..Default::default()
            }
        };
        Ok(RemotePage {
            records,
            categories: Vec::new(),
            cursor: Some(cursor.encode()),
            has_more,
        })
    }

    async fn fetch(
        &self,
        _entity: &EntityType,
        remote_id: &str,
    ) -> Result<Option<RemoteRecord>, UpstreamError> {
        self.by_sku(remote_id).await
    }

    async fn find_by_code(
        &self,
        _entity: &EntityType,
        code: &str,
    ) -> Result<Option<RemoteRecord>, UpstreamError> {
        self.by_sku(code).await
    }

    async fn create(
        &self,
        _entity: &EntityType,
        _fields: &Fields,
    ) -> Result<RemoteRecord, UpstreamError> {
        Err(Self::read_only())
    }

    async fn update(
        &self,
        _entity: &EntityType,
        _remote_id: &str,
        _fields: &Fields,
    ) -> Result<RemoteRecord, UpstreamError> {
        Err(Self::read_only())
    }

    fn finances(&self) -> Option<&dyn FinanceSource> {
        self.settings.finances.then_some(self as &dyn FinanceSource)
    }

    fn recoveries(&self) -> Option<&dyn crate::connectors::recoveries::RecoverySource> {
        self.settings
            .recoveries
            .then_some(self as &dyn crate::connectors::recoveries::RecoverySource)
    }
}

#[async_trait]
impl FinanceSource for Amazon {
    fn windows(&self) -> FinanceWindows {
        FinanceWindows {
            lookback: Span::days(self.settings.lookback_days),
            overlap: Span::hours(self.settings.overlap_hours),
            max_window: Span::days(180),
            settle: Span::minutes(2) + Span::seconds(5),
        }
    }

    async fn list_events(
        &self,
        after: DateTime<Utc>,
        before: DateTime<Utc>,
        token: Option<&str>,
    ) -> Result<FinanceListing, UpstreamError> {
        let url = self.url("/finances/v0/financialEvents");
        let fmt = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut query = vec![
            ("PostedAfter", fmt(after)),
            ("PostedBefore", fmt(before)),
            ("MaxResultsPerPage", "100".to_owned()),
        ];
        if let Some(t) = token {
            query.push(("NextToken", t.to_owned()));
        }
        let answer: Result<ListFinancialEventsResponse, UpstreamError> = self
            .finances_http
            .json(Some(&self.token), AUTH, |c, access| {
                c.get(&url)
                    .query(&query)
                    .header("x-amz-access-token", access.unwrap_or_default())
                    .header("accept", "application/json")
            })
            .await;
        let resp = match answer {
            Ok(r) => r,
            Err(e) if token.is_some() && token_expired(&e) => {
                return Ok(FinanceListing::TokenExpired);
            }
            Err(e) => return Err(e),
        };
        let payload = resp.payload.unwrap_or_default();
        let next = payload.next_token.filter(|t| !t.is_empty());
        let events = payload.financial_events.unwrap_or_default();
        Ok(FinanceListing::Page(map::to_finance_page(
            &events,
            next,
            before - Span::seconds(1),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hosts_by_region_sandbox_and_override() {
        let secrets = json!({ "clientId": "a", "clientSecret": "b", "refreshToken": "c" });
        let eu = Settings::from_connection(
            &json!({ "region": "eu", "marketplaceId": "A1PA6795UKMFR9" }),
            &secrets,
            "http://local",
        )
        .unwrap();
        assert_eq!(eu.base_url, "https://sellingpartnerapi-eu.amazon.com");
        assert_eq!(eu.token_url, auth::PRODUCTION_TOKEN_URL);
        let sb = Settings::from_connection(
            &json!({ "region": "fe", "marketplaceId": "A1VC38T7YXB528", "sandboxHost": true }),
            &secrets,
            "",
        )
        .unwrap();
        assert_eq!(
            sb.base_url,
            "https://sandbox.sellingpartnerapi-fe.amazon.com"
        );
        let emu = Settings::from_connection(&json!({ "sandbox": true }), &json!({}), "http://h:1")
            .unwrap();
        assert_eq!(emu.base_url, "http://h:1/sandbox/amazon");
        assert_eq!(emu.token_url, "http://h:1/sandbox/amazon/auth/o2/token");
        assert_eq!(emu.marketplace_id, SANDBOX_MARKETPLACE);
        let err = Settings::from_connection(
            &json!({ "region": "na", "marketplaceId": "X" }),
            &json!({ "clientId": "a", "clientSecret": "b" }),
            "",
        )
        .unwrap_err();
        assert!(err.public_message().contains("refreshToken"));
        assert!(
            Settings::from_connection(
                &json!({ "region": "us", "marketplaceId": "X" }),
                &secrets,
                ""
            )
            .is_err()
        );
    }

    #[test]
    fn cursor_round_trip_and_garbage() {
        let c = InventoryCursor {
            since: Some(Utc::now()),
            next: Some("t".into()),
            ..Default::default()
        };
        let back = InventoryCursor::parse(Some(&c.encode()));
        assert_eq!(back.next.as_deref(), Some("t"));
        assert!(InventoryCursor::parse(Some("not json")).since.is_none());
    }
}
