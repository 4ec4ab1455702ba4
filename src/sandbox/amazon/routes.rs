//! HTTP handlers of the Amazon emulator.

use super::store::StoredEvent;
use super::{Inner, Limiters, recoveries, reports};
use crate::connectors::amazon::wire::{
    ErrorList, FinancialEvents, GetInventorySummariesResponse, GetInventorySummariesResult,
    Granularity, InventorySummary, ListFinancialEventsPayload, ListFinancialEventsResponse,
    Pagination, TokenError, TokenResponse,
};
use crate::sandbox::faults::{self, FaultKind, FaultRequest};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration as Span, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

type S = State<Arc<Inner>>;

pub(super) fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route("/auth/o2/token", post(token))
        .route("/apps/authorize/consent", get(consent))
        .route("/fba/inventory/v1/summaries", get(summaries))
        .route("/finances/v0/financialEvents", get(financial_events))
        .route("/_control/faults", post(add_fault).delete(clear_faults))
        .route("/_control/seed", post(reseed))
        .route("/_control/config", get(get_config).post(set_config))
        .route("/_control/stats", get(stats))
        .route("/_control/stats/reset", post(reset_stats))
        .route("/_control/inventory", post(ctl_put))
        .route(
            "/_control/inventory/{sku}",
            get(ctl_get).patch(ctl_patch).delete(ctl_delete),
        )
        .route("/_control/financialEvents", post(ctl_add_events))
        .route(
            "/reports/2021-06-30/reports",
            post(reports::create_report).get(reports::get_reports),
        )
        .route(
            "/reports/2021-06-30/reports/{report_id}",
            get(reports::get_report),
        )
        .route(
            "/reports/2021-06-30/documents/{document_id}",
            get(reports::get_document),
        )
        .route("/_documents/{document_id}", get(reports::download))
        .route(
            "/fba/inbound/v0/shipmentItems",
            get(reports::shipment_items),
        )
        .route("/_control/reimbursements", post(ctl_add_reimbursements))
        .route("/_control/ledger", post(ctl_add_ledger))
        .route("/_control/inbound", post(ctl_put_inbound))
        .route("/_control/reports", get(ctl_reports))
        .with_state(inner)
}

pub(super) fn amazon_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(ErrorList::one(code, message))).into_response()
}

pub(super) fn invalid(message: &str) -> Response {
    amazon_error(StatusCode::BAD_REQUEST, "InvalidInput", message)
}

pub(super) fn with_rate(mut r: Response, rate: f64) -> Response {
    // Amazon prints rates like `0.0167`: keep the figures that matter.
    if let Ok(v) = HeaderValue::from_str(&format!("{rate}")) {
        r.headers_mut().insert("x-amzn-ratelimit-limit", v);
    }
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        r.headers_mut().insert("x-amzn-requestid", v);
    }
    r
}

#[derive(Clone, Copy)]
pub(super) enum Operation {
    Inventory,
    Finances,
    CreateReport,
    GetReport,
    GetReports,
    GetDocument,
    ShipmentItems,
}

/// Faults, the operation's usage plan and the access token, in that order. Returns the
/// plan's rate for the `x-amzn-RateLimit-Limit` header of the answer.
pub(super) async fn guard(
    inner: &Inner,
    headers: &HeaderMap,
    op: Operation,
) -> Result<f64, Response> {
    let config = inner.config();
    let rate = match op {
        Operation::Inventory => config.inventory_rate,
        Operation::Finances => config.finances_rate,
        Operation::CreateReport => config.create_report_rate,
        Operation::GetReport => config.get_report_rate,
        Operation::GetReports => config.get_reports_rate,
        Operation::GetDocument => config.get_document_rate,
        Operation::ShipmentItems => config.shipment_items_rate,
    };
    if let Some(fault) = inner.faults.next() {
        inner.stats.faults.fetch_add(1, Ordering::Relaxed);
        match fault {
            FaultKind::Latency(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
            FaultKind::TooManyRequests { retry_after } => {
                let body = serde_json::to_string(&quota_exceeded()).unwrap_or_default();
                return Err(with_rate(faults::too_many(retry_after, body), rate));
            }
            FaultKind::ServerError => {
                return Err(amazon_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalFailure",
                    "We encountered an internal error. Please try again.",
                ));
            }
            FaultKind::Unauthorized => {
                if let Ok(mut t) = inner.access_tokens.lock() {
                    t.clear();
                }
                return Err(unauthorized("The access token you provided has expired."));
            }
            FaultKind::Malformed => return Err(faults::malformed()),
            FaultKind::Drop => return Err(faults::dropped()),
            FaultKind::EchoHeaders => return Err(faults::echo_headers(headers)),
        }
    }
    let limiters: Arc<Limiters> = inner.limiters();
    let limiter = match op {
        Operation::Inventory => &limiters.inventory,
        Operation::Finances => &limiters.finances,
        Operation::CreateReport => &limiters.create_report,
        Operation::GetReport => &limiters.get_report,
        Operation::GetReports => &limiters.get_reports,
        Operation::GetDocument => &limiters.get_document,
        Operation::ShipmentItems => &limiters.shipment_items,
    };
    if let Some(l) = limiter
        && l.check().is_err()
    {
        inner.stats.throttled.fetch_add(1, Ordering::Relaxed);
        let body = serde_json::to_string(&quota_exceeded()).unwrap_or_default();
        return Err(with_rate(faults::too_many(None, body), rate));
    }
    let token = headers
        .get("x-amz-access-token")
        .and_then(|v| v.to_str().ok());
    let valid = token.is_some_and(|t| {
        inner
            .access_tokens
            .lock()
            .ok()
            .and_then(|m| m.get(t).copied())
            .is_some_and(|exp| exp > Instant::now())
    });
    if !valid {
        inner.stats.unauthorized.fetch_add(1, Ordering::Relaxed);
        return Err(unauthorized(
            "The access token you provided is revoked, malformed or invalid.",
        ));
    }
    Ok(rate)
}

fn quota_exceeded() -> ErrorList {
    ErrorList::one(
        "QuotaExceeded",
        "You exceeded your quota for the requested resource.",
    )
}

fn unauthorized(details: &str) -> Response {
    let mut body = ErrorList::one("Unauthorized", "Access to requested resource is denied.");
    body.errors[0].details = Some(details.into());
    (StatusCode::FORBIDDEN, Json(body)).into_response()
}

// --- Login with Amazon --------------------------------------------------------------

fn lwa_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(TokenError {
            error: error.into(),
            error_description: Some(description.into()),
        }),
    )
        .into_response()
}

fn issue_access_token(inner: &Inner, ttl: u64) -> String {
    let token = format!("Atza|{}", uuid::Uuid::new_v4().simple());
    if let Ok(mut t) = inner.access_tokens.lock() {
        t.retain(|_, exp| *exp > Instant::now());
        t.insert(token.clone(), Instant::now() + Duration::from_secs(ttl));
    }
    token
}

async fn token(State(inner): S, Form(form): Form<HashMap<String, String>>) -> Response {
    inner.stats.token.fetch_add(1, Ordering::Relaxed);
    let config = inner.config();
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if field("client_id") != config.client_id || field("client_secret") != config.client_secret {
        return lwa_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    let ttl = config.token_ttl_seconds;
    match field("grant_type") {
        "refresh_token" => {
            let known = inner
                .refresh_tokens
                .lock()
                .map(|r| r.contains(field("refresh_token")))
                .unwrap_or(false);
            if !known {
                return lwa_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "The request has an invalid grant parameter : refresh_token",
                );
            }
            Json(TokenResponse {
                access_token: issue_access_token(&inner, ttl),
                refresh_token: None,
                token_type: "bearer".into(),
                expires_in: ttl,
            })
            .into_response()
        }
        "authorization_code" => {
            let code = inner
                .codes
                .lock()
                .ok()
                .and_then(|mut c| c.remove(field("code")));
            let Some(code) = code.filter(|c| c.expires > Instant::now()) else {
                return lwa_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "The authorization code is invalid, expired or already used",
                );
            };
            if code.redirect_uri != field("redirect_uri") {
                return lwa_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "redirect_uri does not match the authorization request",
                );
            }
            let refresh = format!("Atzr|{}", uuid::Uuid::new_v4().simple());
            if let Ok(mut r) = inner.refresh_tokens.lock() {
                r.insert(refresh.clone());
            }
            Json(TokenResponse {
                access_token: issue_access_token(&inner, ttl),
                refresh_token: Some(refresh),
                token_type: "bearer".into(),
                expires_in: ttl,
            })
            .into_response()
        }
        _ => lwa_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be refresh_token or authorization_code",
        ),
    }
}

/// The seller's consent page, already "approved": redirects back with
/// `spapi_oauth_code`, `state` and `selling_partner_id`.
async fn consent(State(inner): S, Query(q): Query<HashMap<String, String>>) -> Response {
    inner.stats.consent.fetch_add(1, Ordering::Relaxed);
    let config = inner.config();
    let bad = |m: &str| (StatusCode::BAD_REQUEST, m.to_owned()).into_response();
    if q.get("application_id") != Some(&config.application_id) {
        return bad("Unknown application_id");
    }
    let Some(redirect) = q.get("redirect_uri").filter(|r| !r.is_empty()) else {
        return bad("redirect_uri is required");
    };
    let Ok(mut url) = reqwest::Url::parse(redirect) else {
        return bad("redirect_uri must be an absolute URL");
    };
    let code = format!("ANsandbox{}", uuid::Uuid::new_v4().simple());
    if let Ok(mut c) = inner.codes.lock() {
        c.retain(|_, v| v.expires > Instant::now());
        c.insert(
            code.clone(),
            super::AuthCode {
                redirect_uri: redirect.clone(),
                expires: Instant::now() + Duration::from_secs(300),
            },
        );
    }
    url.query_pairs_mut()
        .append_pair("spapi_oauth_code", &code)
        .append_pair("state", q.get("state").map(String::as_str).unwrap_or(""))
        .append_pair("selling_partner_id", &config.selling_partner_id);
    Redirect::to(url.as_str()).into_response()
}

// --- pagination tokens ------------------------------------------------------------

/// Opaque on the wire; inside: where the next page starts, when it was issued, and the
/// request it belongs to.
#[derive(Serialize, Deserialize)]
struct PageToken {
    o: usize,
    t: i64,
    q: String,
}

pub(super) fn issue_page_token(offset: usize, query: &str) -> String {
    let t = PageToken {
        o: offset,
        t: Utc::now().timestamp_millis(),
        q: query.to_owned(),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&t).unwrap_or_default())
}

/// The offset a token continues from, or the 400 Amazon gives for a bad or old one.
fn redeem_page_token(inner: &Inner, text: &str, query: &str) -> Result<usize, Box<Response>> {
    let (offset, q) = redeem_any_token(inner, text, query)?;
    if q != query {
        inner.stats.expired_tokens.fetch_add(1, Ordering::Relaxed);
        return Err(Box::new(invalid("Invalid or expired nextToken.")));
    }
    Ok(offset)
}

/// A token's offset and the query it belongs to, when it is one of ours, was issued for a
/// query starting with `prefix` and has not expired.
pub(super) fn redeem_any_token(
    inner: &Inner,
    text: &str,
    prefix: &str,
) -> Result<(usize, String), Box<Response>> {
    let expired = || {
        inner.stats.expired_tokens.fetch_add(1, Ordering::Relaxed);
        Box::new(invalid("Invalid or expired nextToken."))
    };
    if inner
        .expire_next
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
    {
        return Err(expired());
    }
    let token: PageToken = URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|raw| serde_json::from_slice(&raw).ok())
        .ok_or_else(expired)?;
    let ttl = inner.config().next_token_ttl_ms as i64;
    if !token.q.starts_with(prefix) || Utc::now().timestamp_millis() - token.t >= ttl.max(1) {
        return Err(expired());
    }
    Ok((token.o, token.q))
}

fn parse_time(
    q: &HashMap<String, String>,
    key: &str,
) -> Result<Option<DateTime<Utc>>, Box<Response>> {
    match q.get(key).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|t| Some(t.to_utc()))
            .map_err(|_| Box::new(invalid(&format!("{key} must be an ISO 8601 date-time")))),
    }
}

// --- FBA inventory ----------------------------------------------------------------

async fn summaries(
    State(inner): S,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let rate = match guard(&inner, &headers, Operation::Inventory).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    inner.stats.inventory.fetch_add(1, Ordering::Relaxed);
    with_rate(list_summaries(&inner, &q), rate)
}

fn list_summaries(inner: &Inner, q: &HashMap<String, String>) -> Response {
    let config = inner.config();
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    if get("granularityType") != "Marketplace" {
        return invalid("granularityType must be Marketplace");
    }
    if get("granularityId") != config.marketplace_id
        || !get("marketplaceIds")
            .split(',')
            .any(|m| m == config.marketplace_id)
    {
        return invalid("granularityId and marketplaceIds must name the seller's marketplace");
    }
    let since = match parse_time(q, "startDateTime") {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let skus: Option<Vec<&str>> = if since.is_some() {
        None
    } else if let Some(list) = q.get("sellerSkus").filter(|s| !s.is_empty()) {
        let v: Vec<&str> = list.split(',').collect();
        if v.len() > 50 {
            return invalid("sellerSkus accepts at most 50 SKUs");
        }
        Some(v)
    } else {
        q.get("sellerSku")
            .filter(|s| !s.is_empty())
            .map(|s| vec![s.as_str()])
    };
    let fingerprint = format!("inv|{}", get("startDateTime"));
    let offset = match q.get("nextToken").filter(|s| !s.is_empty()) {
        None => 0,
        Some(t) => match redeem_page_token(inner, t, &fingerprint) {
            Ok(o) => o,
            Err(r) => return *r,
        },
    };
    let details = get("details") == "true";
    let Ok(data) = inner.data.read() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let matching: Vec<&InventorySummary> = data
        .inventory
        .iter()
        .filter(|(key, s)| {
            skus.as_ref().is_none_or(|l| l.contains(&key.as_str()))
                && since.is_none_or(|t| s.last_updated_time.is_some_and(|u| u >= t))
        })
        .map(|(_, s)| s)
        .collect();
    let size = config.inventory_page_size.max(1);
    let page: Vec<InventorySummary> = matching
        .iter()
        .skip(offset)
        .take(size)
        .map(|s| {
            let mut s = (*s).clone();
            if !details {
                s.inventory_details = None;
            }
            s
        })
        .collect();
    let next =
        (offset + size < matching.len()).then(|| issue_page_token(offset + size, &fingerprint));
    Json(GetInventorySummariesResponse {
        payload: Some(GetInventorySummariesResult {
            granularity: Granularity {
                granularity_type: Some("Marketplace".into()),
                granularity_id: Some(config.marketplace_id.clone()),
            },
            inventory_summaries: page,
        }),
        pagination: next.map(|t| Pagination {
            next_token: Some(t),
        }),
        errors: None,
    })
    .into_response()
}

// --- Finances -----------------------------------------------------------------------

async fn financial_events(
    State(inner): S,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let rate = match guard(&inner, &headers, Operation::Finances).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    inner.stats.finances.fetch_add(1, Ordering::Relaxed);
    with_rate(list_events(&inner, &q), rate)
}

fn list_events(inner: &Inner, q: &HashMap<String, String>) -> Response {
    let size = match q.get("MaxResultsPerPage").map(|s| s.parse::<usize>()) {
        None => 100,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return invalid("MaxResultsPerPage must be between 1 and 100"),
    };
    let (after, before) = match (parse_time(q, "PostedAfter"), parse_time(q, "PostedBefore")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(r), _) | (_, Err(r)) => return *r,
    };
    let now = Utc::now();
    let latest = now - Span::minutes(2);
    let Some(after) = after else {
        return invalid("PostedAfter is required");
    };
    let before = before.unwrap_or(latest);
    if before > latest || after > latest {
        return invalid(
            "Date range is invalid: dates must be more than 2 minutes before the request",
        );
    }
    if after >= before {
        return invalid("PostedBefore must be later than PostedAfter");
    }
    let fingerprint = format!("fin|{}|{}|{size}", after.timestamp(), before.timestamp());
    let offset = match q.get("NextToken").filter(|s| !s.is_empty()) {
        None => 0,
        Some(t) => match redeem_page_token(inner, t, &fingerprint) {
            Ok(o) => o,
            Err(r) => return *r,
        },
    };
    // Documented: a range over 180 days answers an empty page.
    let too_wide = before - after > Span::days(180);
    let Ok(data) = inner.data.read() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let matching: Vec<&StoredEvent> = if too_wide {
        Vec::new()
    } else {
        data.events
            .iter()
            .filter(|e| e.posted() >= after && e.posted() < before)
            .collect()
    };
    let mut lists = FinancialEvents {
        shipment_event_list: Some(Vec::new()),
        refund_event_list: Some(Vec::new()),
        service_fee_event_list: Some(Vec::new()),
        adjustment_event_list: Some(Vec::new()),
    };
    for e in matching.iter().skip(offset).take(size) {
        match e {
            StoredEvent::Shipment(s) => lists
                .shipment_event_list
                .get_or_insert_default()
                .push(s.clone()),
            StoredEvent::Refund(s) => lists
                .refund_event_list
                .get_or_insert_default()
                .push(s.clone()),
            StoredEvent::ServiceFee { event, .. } => lists
                .service_fee_event_list
                .get_or_insert_default()
                .push(event.clone()),
            StoredEvent::Adjustment(event) => lists
                .adjustment_event_list
                .get_or_insert_default()
                .push(event.clone()),
        }
    }
    let next =
        (offset + size < matching.len()).then(|| issue_page_token(offset + size, &fingerprint));
    Json(ListFinancialEventsResponse {
        payload: Some(ListFinancialEventsPayload {
            next_token: next,
            financial_events: Some(lists),
        }),
        errors: None,
    })
    .into_response()
}

// --- control API (no auth, no faults) ---------------------------------------------

pub(super) fn configure(
    inner: &Inner,
    patch: &serde_json::Value,
) -> Result<super::EmulatorConfig, String> {
    let Some(changes) = patch.as_object() else {
        return Err("body must be a JSON object".into());
    };
    let mut current =
        serde_json::to_value(ConfigView::from(&inner.config())).map_err(|e| e.to_string())?;
    if let Some(obj) = current.as_object_mut() {
        for (k, v) in changes {
            obj.insert(k.clone(), v.clone());
        }
    }
    let view: ConfigView = serde_json::from_value(current).map_err(|e| e.to_string())?;
    let mut next = inner.config();
    view.apply(&mut next);
    if let Ok(mut l) = inner.limiters.write() {
        *l = Arc::new(Limiters::of(&next));
    }
    if let Ok(mut c) = inner.config.write() {
        *c = next.clone();
    }
    Ok(next)
}

/// The run-time adjustable part of the configuration (credentials stay fixed).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigView {
    inventory_rate: f64,
    inventory_burst: u32,
    finances_rate: f64,
    finances_burst: u32,
    token_ttl_seconds: u64,
    next_token_ttl_ms: u64,
    inventory_page_size: usize,
    create_report_rate: f64,
    create_report_burst: u32,
    get_report_rate: f64,
    get_report_burst: u32,
    get_reports_rate: f64,
    get_reports_burst: u32,
    get_document_rate: f64,
    get_document_burst: u32,
    shipment_items_rate: f64,
    shipment_items_burst: u32,
    report_queue_ms: u64,
    report_processing_ms: u64,
    report_gzip: bool,
    document_url_ttl_ms: u64,
}

impl From<&super::EmulatorConfig> for ConfigView {
    fn from(c: &super::EmulatorConfig) -> Self {
        ConfigView {
            inventory_rate: c.inventory_rate,
            inventory_burst: c.inventory_burst,
            finances_rate: c.finances_rate,
            finances_burst: c.finances_burst,
            token_ttl_seconds: c.token_ttl_seconds,
            next_token_ttl_ms: c.next_token_ttl_ms,
            inventory_page_size: c.inventory_page_size,
            create_report_rate: c.create_report_rate,
            create_report_burst: c.create_report_burst,
            get_report_rate: c.get_report_rate,
            get_report_burst: c.get_report_burst,
            get_reports_rate: c.get_reports_rate,
            get_reports_burst: c.get_reports_burst,
            get_document_rate: c.get_document_rate,
            get_document_burst: c.get_document_burst,
            shipment_items_rate: c.shipment_items_rate,
            shipment_items_burst: c.shipment_items_burst,
            report_queue_ms: c.report_queue_ms,
            report_processing_ms: c.report_processing_ms,
            report_gzip: c.report_gzip,
            document_url_ttl_ms: c.document_url_ttl_ms,
        }
    }
}

impl ConfigView {
    fn apply(self, c: &mut super::EmulatorConfig) {
        c.inventory_rate = self.inventory_rate;
        c.inventory_burst = self.inventory_burst;
        c.finances_rate = self.finances_rate;
        c.finances_burst = self.finances_burst;
        c.token_ttl_seconds = self.token_ttl_seconds;
        c.next_token_ttl_ms = self.next_token_ttl_ms;
        c.inventory_page_size = self.inventory_page_size.clamp(1, 1000);
        c.create_report_rate = self.create_report_rate;
        c.create_report_burst = self.create_report_burst;
        c.get_report_rate = self.get_report_rate;
        c.get_report_burst = self.get_report_burst;
        c.get_reports_rate = self.get_reports_rate;
        c.get_reports_burst = self.get_reports_burst;
        c.get_document_rate = self.get_document_rate;
        c.get_document_burst = self.get_document_burst;
        c.shipment_items_rate = self.shipment_items_rate;
        c.shipment_items_burst = self.shipment_items_burst;
        // Bounded: a control call cannot make reports wait longer than an hour.
        c.report_queue_ms = self.report_queue_ms.min(3_600_000);
        c.report_processing_ms = self.report_processing_ms.min(3_600_000);
        c.report_gzip = self.report_gzip;
        c.document_url_ttl_ms = self.document_url_ttl_ms;
    }
}

pub(super) fn control_patch(
    inner: &Inner,
    sku: &str,
    patch: &serde_json::Value,
) -> Result<serde_json::Value, String> {
    let Some(changes) = patch.as_object() else {
        return Err("body must be a JSON object".into());
    };
    let mut data = inner.data.write().map_err(|_| "lock poisoned".to_owned())?;
    let current = data.inventory.get(sku).cloned().ok_or("not found")?;
    let mut obj = serde_json::to_value(current)
        .map_err(|e| e.to_string())?
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (k, v) in changes {
        obj.insert(k.clone(), v.clone());
    }
    let mut next: InventorySummary =
        serde_json::from_value(serde_json::Value::Object(obj)).map_err(|e| e.to_string())?;
    next.seller_sku = Some(sku.to_owned());
    next.last_updated_time = Some(Utc::now());
    data.inventory.insert(sku.to_owned(), next.clone());
    serde_json::to_value(next).map_err(|e| e.to_string())
}

pub(super) fn control_put(inner: &Inner, summary: InventorySummary) {
    if let Ok(mut data) = inner.data.write() {
        let key = summary
            .seller_sku
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("~{}", data.inventory.len()));
        data.inventory.insert(key, summary);
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({ "error": "not found" })),
    )
        .into_response()
}

fn bad_request(e: impl std::fmt::Display) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({ "error": e.to_string() })),
    )
        .into_response()
}

async fn ctl_get(State(inner): S, Path(sku): Path<String>) -> Response {
    match inner
        .data
        .read()
        .ok()
        .and_then(|d| d.inventory.get(&sku).cloned())
    {
        Some(s) => Json(s).into_response(),
        None => not_found(),
    }
}

async fn ctl_patch(
    State(inner): S,
    Path(sku): Path<String>,
    Json(patch): Json<serde_json::Value>,
) -> Response {
    match control_patch(&inner, &sku, &patch) {
        Ok(v) => Json(v).into_response(),
        Err(e) if e == "not found" => not_found(),
        Err(e) => bad_request(e),
    }
}

async fn ctl_delete(State(inner): S, Path(sku): Path<String>) -> Response {
    let removed = inner
        .data
        .write()
        .map(|mut d| d.inventory.remove(&sku).is_some())
        .unwrap_or(false);
    if removed {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found()
    }
}

async fn ctl_put(State(inner): S, Json(summary): Json<InventorySummary>) -> Response {
    control_put(&inner, summary);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddEventsQuery {
    service_fees_at: Option<DateTime<Utc>>,
}

async fn ctl_add_events(
    State(inner): S,
    Query(q): Query<AddEventsQuery>,
    Json(events): Json<FinancialEvents>,
) -> Response {
    let at = q
        .service_fees_at
        .unwrap_or_else(|| Utc::now() - Span::days(1));
    super::Emulator { inner }.add_events(events, at);
    StatusCode::NO_CONTENT.into_response()
}

/// `{"kind": "expired-token", "count": N}` expires the next N pagination tokens;
/// `report-fatal` / `report-stuck` make the next N reports end FATAL / stay IN_QUEUE;
/// `expired-url` issues the next N document URLs already expired; other kinds are the
/// shared faults (429, 500, 401/403, malformed, drop, latency).
async fn add_fault(State(inner): S, Json(req): Json<FaultRequest>) -> Response {
    let counter = match req.kind.as_str() {
        "expired-token" => Some(&inner.expire_next),
        "report-fatal" => Some(&inner.fatal_next),
        "report-stuck" => Some(&inner.stuck_next),
        "expired-url" => Some(&inner.expired_urls_next),
        _ => None,
    };
    if let Some(counter) = counter {
        counter.fetch_add(req.count, Ordering::Relaxed);
        return Json(serde_json::json!({ "queued": req.count })).into_response();
    }
    match req.parse() {
        Ok(kind) => Json(serde_json::json!({ "queued": inner.faults.push(kind, req.count) }))
            .into_response(),
        Err(e) => bad_request(e),
    }
}

async fn clear_faults(State(inner): S) -> Response {
    inner.faults.clear();
    for counter in [
        &inner.expire_next,
        &inner.fatal_next,
        &inner.stuck_next,
        &inner.expired_urls_next,
    ] {
        counter.store(0, Ordering::Relaxed);
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn reseed(State(inner): S, Json(spec): Json<super::SeedSpec>) -> Response {
    if spec.skus > 200_000 || spec.months > 24 || spec.orders_per_sku_per_month > 100 {
        return bad_request("at most 200,000 SKUs, 24 months and 100 orders per SKU per month");
    }
    if let Ok(mut d) = inner.data.write() {
        super::seed::seed(&mut d, &spec);
    }
    let events = inner.data.read().map(|d| d.events.len()).unwrap_or(0);
    Json(serde_json::json!({ "skus": spec.skus, "events": events })).into_response()
}

async fn get_config(State(inner): S) -> Response {
    Json(ConfigView::from(&inner.config())).into_response()
}

async fn set_config(State(inner): S, Json(patch): Json<serde_json::Value>) -> Response {
    match configure(&inner, &patch) {
        Ok(c) => Json(ConfigView::from(&c)).into_response(),
        Err(e) => bad_request(e),
    }
}

async fn stats(State(inner): S) -> Response {
    Json(inner.stats.to_json()).into_response()
}

async fn reset_stats(State(inner): S) -> Response {
    inner.stats.reset();
    StatusCode::NO_CONTENT.into_response()
}

// --- recoveries control API ------------------------------------------------------------

/// At most this many rows per control call.
const MAX_CONTROL_ROWS: usize = 100_000;

/// Applies a bounded batch of rows.
fn bounded<T>(rows: Vec<T>, apply: impl FnOnce(Vec<T>)) -> Response {
    if rows.len() > MAX_CONTROL_ROWS {
        return bad_request(format!("at most {MAX_CONTROL_ROWS} rows per call"));
    }
    let n = rows.len();
    apply(rows);
    Json(serde_json::json!({ "added": n })).into_response()
}

async fn ctl_add_reimbursements(
    State(inner): S,
    Json(rows): Json<Vec<recoveries::StoredReimbursement>>,
) -> Response {
    bounded(rows, |rows| {
        super::Emulator { inner }.add_reimbursements(rows)
    })
}

async fn ctl_add_ledger(
    State(inner): S,
    Json(rows): Json<Vec<recoveries::StoredLedgerEvent>>,
) -> Response {
    bounded(rows, |rows| {
        super::Emulator { inner }.add_ledger_events(rows)
    })
}

async fn ctl_put_inbound(
    State(inner): S,
    Json(rows): Json<Vec<recoveries::StoredInbound>>,
) -> Response {
    bounded(rows, |rows| super::Emulator { inner }.put_inbound(rows))
}

async fn ctl_reports(State(inner): S) -> Response {
    Json(reports::list_all(&inner)).into_response()
}
