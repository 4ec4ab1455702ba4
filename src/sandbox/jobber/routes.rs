//! Routes of the Jobber emulator, the guard every API call passes (faults, request
//! budget, token, version header), and the control API.

use super::{Inner, decode_id};
use crate::connectors::jobber::wire::{ProductCategory, UNSUPPORTED_VERSION, VERSION_HEADER};
use crate::sandbox::faults::{self, FaultKind, FaultRequest};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

pub(super) type S = State<Arc<Inner>>;

pub(super) fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route("/api/graphql", post(super::graphql::handle))
        .route("/api/oauth/authorize", get(super::oauth::authorize))
        .route("/api/oauth/token", post(super::oauth::token))
        .route("/_control/faults", post(add_fault).delete(clear_faults))
        .route("/_control/seed", post(reseed))
        .route("/_control/stats", get(stats))
        .route("/_control/stats/reset", post(reset_stats))
        .route("/_control/config", get(get_config).patch(patch_config))
        .route("/_control/tokens", post(issue_tokens))
        .route("/_control/tokens/expire", post(expire_tokens))
        .route(
            "/_control/products/{id}",
            get(ctl_get).patch(ctl_patch).delete(ctl_delete),
        )
        .with_state(inner)
}

pub(super) fn json_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "message": message }))).into_response()
}

/// Faults, the request budget, the bearer token and the version header, in that order.
pub(super) async fn guard(inner: &Inner, headers: &HeaderMap) -> Result<(), Response> {
    if let Some(fault) = inner.faults.next() {
        inner.stats.faults.fetch_add(1, Ordering::Relaxed);
        match fault {
            FaultKind::Latency(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
            FaultKind::TooManyRequests { retry_after } => {
                return Err(faults::too_many(
                    retry_after,
                    json!({ "message": "Too many requests" }).to_string(),
                ));
            }
            FaultKind::ServerError => {
                return Err(json_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal server error",
                ));
            }
            FaultKind::Unauthorized => {
                // As if every access token expired at once.
                if let Ok(mut s) = inner.state.lock() {
                    s.access.clear();
                }
                inner.stats.unauthorized.fetch_add(1, Ordering::Relaxed);
                return Err(json_error(StatusCode::UNAUTHORIZED, "Unauthorized"));
            }
            FaultKind::Malformed => return Err(faults::malformed()),
            FaultKind::Drop => return Err(faults::dropped()),
            FaultKind::EchoHeaders => return Err(faults::echo_headers(headers)),
        }
    }
    let Ok(mut s) = inner.state.lock() else {
        return Err(json_error(StatusCode::INTERNAL_SERVER_ERROR, "poisoned"));
    };
    let now = Instant::now();
    let window = Duration::from_secs(s.config.request_window_seconds);
    while s
        .requests
        .front()
        .is_some_and(|t| now.duration_since(*t) > window)
    {
        s.requests.pop_front();
    }
    if s.requests.len() >= s.config.request_budget {
        inner.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
        let retry = s
            .requests
            .front()
            .map(|t| {
                window
                    .saturating_sub(now.duration_since(*t))
                    .as_secs()
                    .max(1)
            })
            .unwrap_or(1);
        return Err(faults::too_many(
            Some(retry),
            json!({ "message": "Too many requests" }).to_string(),
        ));
    }
    s.requests.push_back(now);
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let valid = bearer
        .and_then(|t| s.access.get(t))
        .is_some_and(|exp| *exp > now);
    if !valid {
        inner.stats.unauthorized.fetch_add(1, Ordering::Relaxed);
        return Err(json_error(StatusCode::UNAUTHORIZED, "Unauthorized"));
    }
    let version = headers
        .get(VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let Some(version) = version else {
        return Err((
            StatusCode::BAD_REQUEST,
            Json(
                json!({ "errors": [{ "message": "X-JOBBER-GRAPHQL-VERSION header is required" }] }),
            ),
        )
            .into_response());
    };
    s.versions_seen.insert(version.to_owned());
    if !s.config.supported_versions.iter().any(|v| v == version) {
        let latest = s.config.supported_versions.iter().max().cloned();
        return Err((
            StatusCode::BAD_REQUEST,
            Json(json!({ "errors": [{
                "message": format!(
                    "API version {version} is not supported. Upgrade to the latest API version {}.",
                    latest.unwrap_or_default()
                ),
                "extensions": { "code": UNSUPPORTED_VERSION },
            }] })),
        )
            .into_response());
    }
    Ok(())
}

async fn add_fault(State(inner): S, Json(req): Json<FaultRequest>) -> Response {
    match req.parse() {
        Ok(kind) => {
            // `after`: let that many requests through first (to fail mid-listing).
            inner.faults.push(FaultKind::Latency(0), req.after);
            Json(json!({ "queued": inner.faults.push(kind, req.count) })).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({ "error": e }))).into_response(),
    }
}

async fn clear_faults(State(inner): S) -> Response {
    inner.faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn reseed(State(inner): S, Json(spec): Json<super::SeedSpec>) -> Response {
    if spec.products + spec.services > 200_000 {
        return json_error(StatusCode::BAD_REQUEST, "at most 200,000 records");
    }
    if let Ok(mut s) = inner.state.lock() {
        super::seed::seed(&mut s.products, &spec);
    }
    Json(json!({ "seeded": spec.products + spec.services })).into_response()
}

async fn stats(State(inner): S) -> Response {
    Json(inner.stats.to_json()).into_response()
}

async fn reset_stats(State(inner): S) -> Response {
    inner.stats.reset();
    StatusCode::NO_CONTENT.into_response()
}

async fn get_config(State(inner): S) -> Response {
    match inner.state.lock() {
        Ok(mut s) => {
            let status = s.throttle_status();
            let mut v = serde_json::to_value(&s.config).unwrap_or_default();
            if let Some(m) = v.as_object_mut() {
                m.remove("clientSecret");
                m.insert(
                    "currentlyAvailable".into(),
                    status.currently_available.into(),
                );
            }
            Json(v).into_response()
        }
        Err(_) => json_error(StatusCode::INTERNAL_SERVER_ERROR, "poisoned"),
    }
}

async fn patch_config(State(inner): S, Json(patch): Json<Value>) -> Response {
    match configure(&inner, &patch) {
        Ok(v) => Json(v).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({ "error": e }))).into_response(),
    }
}

/// `{accessTokenTtlSeconds, maximumAvailable, restoreRate, currentlyAvailable,
/// requestBudget, requestWindowSeconds, maxPageSize}`, any subset.
pub(super) fn configure(inner: &Inner, patch: &Value) -> Result<Value, String> {
    let obj = patch.as_object().ok_or("expected a JSON object")?;
    let mut s = inner.state.lock().map_err(|_| "poisoned")?;
    s.throttle_status();
    for (k, v) in obj {
        let num = || {
            v.as_f64()
                .filter(|n| *n >= 0.0)
                .ok_or(format!("{k} must be a non-negative number"))
        };
        match k.as_str() {
            "accessTokenTtlSeconds" => s.config.access_token_ttl_seconds = num()? as u64,
            "maximumAvailable" => {
                s.config.maximum_available = num()?;
                s.bucket.available = s.bucket.available.min(s.config.maximum_available);
            }
            "restoreRate" => s.config.restore_rate = num()?,
            "currentlyAvailable" => {
                s.bucket.available = num()?.min(s.config.maximum_available);
                s.bucket.at = Instant::now();
            }
            "requestBudget" => s.config.request_budget = num()? as usize,
            "requestWindowSeconds" => s.config.request_window_seconds = num()?.max(1.0) as u64,
            "maxPageSize" => s.config.max_page_size = (num()? as u32).max(1),
            other => return Err(format!("unknown setting '{other}'")),
        }
    }
    let status = s.throttle_status();
    Ok(json!({
        "accessTokenTtlSeconds": s.config.access_token_ttl_seconds,
        "maximumAvailable": status.maximum_available,
        "currentlyAvailable": status.currently_available,
        "restoreRate": status.restore_rate,
        "requestBudget": s.config.request_budget,
        "requestWindowSeconds": s.config.request_window_seconds,
        "maxPageSize": s.config.max_page_size,
    }))
}

async fn issue_tokens(State(inner): S) -> Response {
    match inner.state.lock() {
        Ok(mut s) => Json(s.issue_tokens()).into_response(),
        Err(_) => json_error(StatusCode::INTERNAL_SERVER_ERROR, "poisoned"),
    }
}

async fn expire_tokens(State(inner): S) -> Response {
    if let Ok(mut s) = inner.state.lock() {
        s.access.clear();
    }
    StatusCode::NO_CONTENT.into_response()
}

/// Control paths take the numeric id or the encoded Jobber id.
fn parse_id(text: &str) -> Option<i64> {
    text.parse().ok().or_else(|| decode_id(text))
}

async fn ctl_get(State(inner): S, Path(id): Path<String>) -> Response {
    let found = parse_id(&id).and_then(|id| {
        let s = inner.state.lock().ok()?;
        serde_json::to_value(s.products.get(&id)?).ok()
    });
    match found {
        Some(v) => Json(v).into_response(),
        None => json_error(StatusCode::NOT_FOUND, "not found"),
    }
}

async fn ctl_patch(State(inner): S, Path(id): Path<String>, Json(patch): Json<Value>) -> Response {
    let Some(id) = parse_id(&id) else {
        return json_error(StatusCode::NOT_FOUND, "not found");
    };
    match control_patch(&inner, id, &patch) {
        Ok(v) => Json(v).into_response(),
        Err(e) if e == "not found" => json_error(StatusCode::NOT_FOUND, &e),
        Err(e) => json_error(StatusCode::BAD_REQUEST, &e),
    }
}

async fn ctl_delete(State(inner): S, Path(id): Path<String>) -> Response {
    let removed = parse_id(&id).is_some_and(|id| {
        inner
            .state
            .lock()
            .map(|mut s| s.products.remove(&id).is_some())
            .unwrap_or(false)
    });
    if removed {
        StatusCode::NO_CONTENT.into_response()
    } else {
        json_error(StatusCode::NOT_FOUND, "not found")
    }
}

/// A remote edit with Jobber's field names (`name`, `description`, `defaultUnitCost`,
/// `internalUnitCost`, `category`, `taxable`, `visible`).
pub(super) fn control_patch(inner: &Inner, id: i64, patch: &Value) -> Result<Value, String> {
    let obj = patch.as_object().ok_or("expected a JSON object")?;
    let mut s = inner.state.lock().map_err(|_| "poisoned")?;
    let p = s.products.get_mut(&id).ok_or("not found")?;
    for (k, v) in obj {
        let bad = || format!("invalid value for {k}");
        match k.as_str() {
            "name" => p.name = v.as_str().ok_or_else(bad)?.to_owned(),
            "description" => p.description = v.as_str().map(str::to_owned),
            "defaultUnitCost" => p.default_unit_cost = v.as_f64(),
            "internalUnitCost" => p.internal_unit_cost = v.as_f64(),
            "taxable" => p.taxable = v.as_bool(),
            "visible" => p.visible = v.as_bool(),
            "category" => {
                p.category =
                    serde_json::from_value::<ProductCategory>(v.clone()).map_err(|_| bad())?
            }
            other => return Err(format!("unknown field '{other}'")),
        }
    }
    serde_json::to_value(&*p).map_err(|e| e.to_string())
}
