//! HTTP handlers of the Fulfil emulator.

use super::{Inner, domain};
use crate::connectors::fulfil::wire::{ApiError, PRODUCT_MODEL, Product, SearchRead};
use crate::sandbox::faults::{self, FaultKind, FaultRequest};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

type S = State<Arc<Inner>>;

pub(super) fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route("/api/v2/model/{model}/search_read", put(search_read))
        .route("/api/v2/model/{model}/search_count", put(search_count))
        .route("/_control/faults", post(add_fault).delete(clear_faults))
        .route("/_control/seed", post(reseed))
        .route("/_control/stats", get(stats))
        .route("/_control/stats/reset", post(reset_stats))
        .route(
            "/_control/{entity}/{id}",
            get(ctl_get).patch(ctl_patch).delete(ctl_delete),
        )
        .with_state(inner)
}

fn error(status: StatusCode, message: &str) -> Response {
    let body = ApiError {
        error: Some(status.canonical_reason().unwrap_or("error").to_owned()),
        message: Some(message.to_owned()),
    };
    (status, Json(body)).into_response()
}

/// Faults, the rate limit, the API key and the model, in that order.
async fn guard(inner: &Inner, headers: &HeaderMap, model: &str) -> Result<(), Response> {
    if let Some(fault) = inner.faults.next() {
        inner.stats.faults.fetch_add(1, Ordering::Relaxed);
        match fault {
            FaultKind::Latency(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
            FaultKind::TooManyRequests { retry_after } => {
                let body = r#"{"error":"Too Many Requests","message":"rate limit exceeded"}"#;
                return Err(faults::too_many(retry_after, body.into()));
            }
            FaultKind::ServerError => {
                return Err(error(StatusCode::INTERNAL_SERVER_ERROR, "internal error"));
            }
            FaultKind::Unauthorized => {
                return Err(error(StatusCode::UNAUTHORIZED, "invalid API key"));
            }
            FaultKind::Malformed => return Err(faults::malformed()),
            FaultKind::Drop => return Err(faults::dropped()),
            FaultKind::EchoHeaders => return Err(faults::echo_headers(headers)),
        }
    }
    if let Some(limiter) = &inner.limiter
        && limiter.check().is_err()
    {
        inner.stats.throttled.fetch_add(1, Ordering::Relaxed);
        let body = r#"{"error":"Too Many Requests","message":"rate limit exceeded"}"#;
        return Err(faults::too_many(Some(1), body.into()));
    }
    let key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    if key != Some(inner.config.api_key.as_str()) {
        inner.stats.unauthorized.fetch_add(1, Ordering::Relaxed);
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "missing or invalid x-api-key",
        ));
    }
    if model != PRODUCT_MODEL {
        return Err(error(
            StatusCode::NOT_FOUND,
            &format!("model {model} is not emulated"),
        ));
    }
    Ok(())
}

/// Rows matching the domain, in the requested order (only `write_date, id` ascending or
/// `id` ascending are emulated).
fn select(inner: &Inner, req: &SearchRead) -> Result<Vec<Product>, Box<Response>> {
    let by_id = match req.order.as_slice() {
        [] => true,
        [(f, d)] if f == "id" && d.eq_ignore_ascii_case("asc") => true,
        [(f1, d1), (f2, d2)]
            if f1 == "write_date"
                && f2 == "id"
                && d1.eq_ignore_ascii_case("asc")
                && d2.eq_ignore_ascii_case("asc") =>
        {
            false
        }
        other => {
            return Err(Box::new(error(
                StatusCode::BAD_REQUEST,
                &format!("order {other:?} is not emulated"),
            )));
        }
    };
    let data = inner
        .data
        .read()
        .map_err(|_| Box::new(error(StatusCode::INTERNAL_SERVER_ERROR, "lock")))?;
    let rows: Box<dyn Iterator<Item = &Product>> = if by_id {
        Box::new(data.rows.values())
    } else {
        Box::new(data.ordered())
    };
    let mut out = Vec::new();
    for p in rows {
        match domain::matches(p, &req.filters) {
            Ok(true) => out.push(p.clone()),
            Ok(false) => {}
            Err(e) => return Err(Box::new(error(StatusCode::BAD_REQUEST, &e))),
        }
    }
    Ok(out)
}

async fn search_read(
    State(inner): S,
    Path(model): Path<String>,
    headers: HeaderMap,
    Json(req): Json<SearchRead>,
) -> Response {
    if let Err(r) = guard(&inner, &headers, &model).await {
        return r;
    }
    inner.stats.search_read.fetch_add(1, Ordering::Relaxed);
    let limit = req.limit.unwrap_or(inner.config.max_page_size);
    if limit > inner.config.max_page_size {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("limit must be at most {}", inner.config.max_page_size),
        );
    }
    let rows = match select(&inner, &req) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let page: Vec<Value> = rows
        .iter()
        .skip(req.offset.unwrap_or(0) as usize)
        .take(limit as usize)
        .map(|p| only_fields(p.encode(), &req.fields))
        .collect();
    Json(page).into_response()
}

/// Keeps `id` and the requested fields (all when none were named), as Fulfil does.
fn only_fields(row: Value, fields: &[String]) -> Value {
    let Value::Object(map) = row else { return row };
    Value::Object(
        map.into_iter()
            .filter(|(k, _)| k == "id" || fields.is_empty() || fields.contains(k))
            .collect(),
    )
}

async fn search_count(
    State(inner): S,
    Path(model): Path<String>,
    headers: HeaderMap,
    Json(req): Json<SearchRead>,
) -> Response {
    if let Err(r) = guard(&inner, &headers, &model).await {
        return r;
    }
    inner.stats.search_count.fetch_add(1, Ordering::Relaxed);
    match select(&inner, &req) {
        Ok(rows) => Json(rows.len()).into_response(),
        Err(r) => *r,
    }
}

// --- control API (no auth, no faults) -------------------------------------------

pub(super) fn control_patch(inner: &Inner, id: i64, patch: &Value) -> Result<Value, String> {
    let Some(changes) = patch.as_object() else {
        return Err("body must be a JSON object".into());
    };
    let mut data = inner.data.write().map_err(|_| "lock poisoned".to_owned())?;
    let mut current = match data.rows.get(&id) {
        Some(p) => p.encode(),
        None => serde_json::json!({ "id": id, "active": true }),
    };
    if let Some(obj) = current.as_object_mut() {
        for (k, v) in changes {
            obj.insert(k.clone(), v.clone());
        }
        obj.insert("id".into(), Value::from(id));
    }
    let mut next = Product::decode(&current)?;
    next.write_date = Some(data.tick());
    data.put(next.clone());
    Ok(next.encode())
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({ "error": "not found" })),
    )
        .into_response()
}

fn only_products(entity: &str) -> Result<(), Box<Response>> {
    if entity == "products" || entity == PRODUCT_MODEL {
        Ok(())
    } else {
        Err(Box::new(not_found()))
    }
}

async fn ctl_get(State(inner): S, Path((entity, id)): Path<(String, i64)>) -> Response {
    if let Err(r) = only_products(&entity) {
        return *r;
    }
    match inner
        .data
        .read()
        .ok()
        .and_then(|d| d.rows.get(&id).map(Product::encode))
    {
        Some(v) => Json(v).into_response(),
        None => not_found(),
    }
}

async fn ctl_patch(
    State(inner): S,
    Path((entity, id)): Path<(String, i64)>,
    Json(patch): Json<Value>,
) -> Response {
    if let Err(r) = only_products(&entity) {
        return *r;
    }
    match control_patch(&inner, id, &patch) {
        Ok(v) => Json(v).into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": e })),
        )
            .into_response(),
    }
}

async fn ctl_delete(State(inner): S, Path((entity, id)): Path<(String, i64)>) -> Response {
    if let Err(r) = only_products(&entity) {
        return *r;
    }
    let removed = inner.data.write().ok().and_then(|mut d| d.remove(id));
    if removed.is_some() {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found()
    }
}

async fn add_fault(State(inner): S, Json(req): Json<FaultRequest>) -> Response {
    match req.parse() {
        Ok(kind) => Json(serde_json::json!({ "queued": inner.faults.push(kind, req.count) }))
            .into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": e })),
        )
            .into_response(),
    }
}

async fn clear_faults(State(inner): S) -> Response {
    inner.faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn reseed(State(inner): S, Json(spec): Json<super::SeedSpec>) -> Response {
    if spec.products > 1_000_000 {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": "at most 1,000,000 products" })),
        )
            .into_response();
    }
    super::Emulator { inner }.seed(&spec);
    Json(serde_json::json!({ "seeded": spec.products })).into_response()
}

async fn stats(State(inner): S) -> Response {
    Json(inner.stats.to_json()).into_response()
}

async fn reset_stats(State(inner): S) -> Response {
    inner.stats.reset();
    StatusCode::NO_CONTENT.into_response()
}
