//! HTTP handlers of the ShipHero emulator.

use super::credits::CreditConfig;
use super::{Data, Inner};
use crate::connectors::shiphero::wire::{
    CreateProductInput, Edge, GraphQlError, GraphQlRequest, MutationEnvelope, PageInfo, Product,
    ProductConnection, ProductInput, QueryEnvelope, RefreshRequest, THROTTLED, TokenRequest,
    TokenResponse,
};
use crate::connectors::units;
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

type S = State<Arc<Inner>>;

/// ShipHero's SKU length limit as the emulator enforces it.
const MAX_SKU_LEN: usize = 64;

pub(super) fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route("/auth/token", post(token))
        .route("/auth/refresh", post(refresh))
        .route("/graphql", post(graphql))
        .route("/_control/faults", post(add_fault).delete(clear_faults))
        .route("/_control/credits", post(set_credits))
        .route("/_control/stats", get(stats))
        .route("/_control/stats/reset", post(reset_stats))
        .route(
            "/_control/{entity}/{sku}",
            get(ctl_get).patch(ctl_patch).delete(ctl_delete),
        )
        .with_state(inner)
}

fn issue(inner: &Inner, with_refresh: bool) -> TokenResponse {
    let access = uuid::Uuid::new_v4().simple().to_string();
    let ttl = inner.config.token_ttl_seconds;
    let refresh = with_refresh.then(|| uuid::Uuid::new_v4().simple().to_string());
    if let Ok(mut t) = inner.tokens.lock() {
        t.access
            .insert(access.clone(), Instant::now() + Duration::from_secs(ttl));
        if let Some(r) = &refresh {
            t.refresh.insert(r.clone(), ());
        }
    }
    TokenResponse {
        access_token: access,
        expires_in: ttl,
        refresh_token: refresh,
        token_type: "Bearer".into(),
    }
}

fn auth_error(message: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "error": "invalid_grant", "error_description": message })),
    )
        .into_response()
}

async fn token(State(inner): S, Json(req): Json<TokenRequest>) -> Response {
    inner.stats.token.fetch_add(1, Ordering::Relaxed);
    if req.username != inner.config.username || req.password != inner.config.password {
        return auth_error("wrong username or password");
    }
    Json(issue(&inner, true)).into_response()
}

async fn refresh(State(inner): S, Json(req): Json<RefreshRequest>) -> Response {
    inner.stats.refresh.fetch_add(1, Ordering::Relaxed);
    let known = inner
        .tokens
        .lock()
        .map(|t| t.refresh.contains_key(&req.refresh_token))
        .unwrap_or(false);
    if !known {
        return auth_error("unknown refresh token");
    }
    Json(issue(&inner, false)).into_response()
}

fn gql_errors(errors: Vec<GraphQlError>, data: Value) -> Response {
    Json(json!({ "data": data, "errors": errors })).into_response()
}

fn gql_error(message: String, path: &str) -> Response {
    gql_errors(
        vec![GraphQlError {
            message,
            path: vec![path.to_owned()],
            ..Default::default()
        }],
        json!({ path: null }),
    )
}

/// Faults, then the bearer token.
async fn guard(inner: &Inner, headers: &HeaderMap) -> Result<(), Response> {
    if let Some(fault) = inner.faults.next() {
        inner.stats.faults.fetch_add(1, Ordering::Relaxed);
        match fault {
            FaultKind::Latency(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
            FaultKind::TooManyRequests { retry_after } => {
                return Err(faults::too_many(
                    retry_after,
                    r#"{"errors":[{"message":"Too Many Requests"}]}"#.into(),
                ));
            }
            FaultKind::ServerError => {
                return Err((
                    StatusCode::BAD_GATEWAY,
                    Json(json!({ "errors": [{ "message": "Bad gateway" }] })),
                )
                    .into_response());
            }
            FaultKind::Unauthorized => {
                // An expired token: every access token dies, the refresh token lives on.
                if let Ok(mut t) = inner.tokens.lock() {
                    t.access.clear();
                }
            }
            FaultKind::Malformed => return Err(faults::malformed()),
            FaultKind::Drop => return Err(faults::dropped()),
            FaultKind::EchoHeaders => return Err(faults::echo_headers(headers)),
        }
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let valid = bearer.is_some_and(|t| {
        inner
            .tokens
            .lock()
            .ok()
            .and_then(|m| m.access.get(t).copied())
            .is_some_and(|exp| exp > Instant::now())
    });
    if !valid {
        inner.stats.unauthorized.fetch_add(1, Ordering::Relaxed);
        return Err((
            StatusCode::UNAUTHORIZED,
            Json(json!({ "errors": [{ "message": "Token expired or invalid", "code": 401 }] })),
        )
            .into_response());
    }
    Ok(())
}

/// The first field of the operation's selection set: `product_create`, `products`, …
fn root_field(query: &str) -> Option<&str> {
    let body = &query[query.find('{')? + 1..];
    let body = body.trim_start();
    let end = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    (end > 0).then(|| &body[..end])
}

fn throttled(inner: &Inner, operation: &str, cost: f64, remaining: f64, wait: u64) -> Response {
    inner.stats.throttled.fetch_add(1, Ordering::Relaxed);
    gql_errors(
        vec![GraphQlError {
            message: format!(
                "There are not enough credits to perform the requested operation, which requires {cost} credits. Try again in {wait} seconds, or reduce the complexity of your operation."
            ),
            code: Some(THROTTLED),
            time_remaining: Some(format!("{wait} seconds")),
            required_credits: Some(cost as i64),
            remaining_credits: Some(remaining as i64),
            path: vec![operation.to_owned()],
        }],
        json!({ operation: null }),
    )
}

async fn graphql(State(inner): S, headers: HeaderMap, Json(req): Json<GraphQlRequest>) -> Response {
    if let Err(r) = guard(&inner, &headers).await {
        return r;
    }
    let Some(operation) = root_field(&req.query).map(str::to_owned) else {
        return gql_error("could not parse the operation".into(), "query");
    };
    let (query_cost, mutation_cost) = inner.credits.costs();
    let cost = if operation.starts_with("product_") {
        mutation_cost
    } else {
        query_cost
    };
    let forced = inner
        .forced_throttles
        .lock()
        .map(|mut n| {
            let hit = *n > 0;
            *n = n.saturating_sub(1);
            hit
        })
        .unwrap_or(false);
    if forced {
        return throttled(&inner, &operation, cost, 0.0, 1);
    }
    if let Err(short) = inner.credits.take(cost) {
        return throttled(
            &inner,
            &operation,
            cost,
            short.remaining,
            short.wait_seconds,
        );
    }
    let vars = &req.variables;
    match operation.as_str() {
        "product" => product(&inner, vars, cost),
        "products" => products(&inner, vars, cost),
        "product_create" => create(&inner, vars, cost),
        "product_update" => update(&inner, vars, cost),
        other => gql_error(
            format!("Cannot query field \"{other}\" on type \"Query\"."),
            other,
        ),
    }
}

fn request_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn product(inner: &Inner, vars: &Value, cost: f64) -> Response {
    inner.stats.query.fetch_add(1, Ordering::Relaxed);
    let sku = vars.get("sku").and_then(Value::as_str).unwrap_or_default();
    let found = inner
        .data
        .read()
        .ok()
        .and_then(|d| d.by_sku.get(sku).cloned());
    match found {
        Some(p) => Json(json!({ "data": { "product": QueryEnvelope {
            request_id: Some(request_id()), complexity: Some(cost as i64), data: Some(p) } } }))
        .into_response(),
        None => gql_error(format!("Product with sku {sku} not found"), "product"),
    }
}

fn products(inner: &Inner, vars: &Value, cost: f64) -> Response {
    inner.stats.query.fetch_add(1, Ordering::Relaxed);
    let first = vars
        .get("first")
        .and_then(Value::as_u64)
        .unwrap_or(100)
        .min(100) as usize;
    let after = vars.get("after").and_then(Value::as_str).map(str::to_owned);
    let Ok(data) = inner.data.read() else {
        return gql_error("internal error".into(), "products");
    };
    let start = match &after {
        Some(sku) => std::ops::Bound::Excluded(sku.clone()),
        None => std::ops::Bound::Unbounded,
    };
    let mut rows: Vec<Product> = data
        .by_sku
        .range((start, std::ops::Bound::Unbounded))
        .take(first + 1)
        .map(|(_, p)| p.clone())
        .collect();
    let has_next_page = rows.len() > first;
    rows.truncate(first);
    let page = ProductConnection {
        page_info: PageInfo {
            has_next_page,
            end_cursor: rows.last().map(|p| p.sku.clone()),
        },
        edges: rows.into_iter().map(|node| Edge { node }).collect(),
    };
    Json(json!({ "data": { "products": QueryEnvelope {
        request_id: Some(request_id()), complexity: Some(cost as i64), data: Some(page) } } }))
    .into_response()
}

/// The emulator's validation of a write: SKU length and decimal dimensions.
fn validate(input: &ProductInput) -> Result<(), String> {
    if input.sku.trim().is_empty() || input.sku.len() > MAX_SKU_LEN {
        return Err(format!(
            "sku: must be 1 to {MAX_SKU_LEN} characters, got {}",
            input.sku.len()
        ));
    }
    if let Some(d) = &input.dimensions {
        for (name, v) in [
            ("weight", &d.weight),
            ("height", &d.height),
            ("width", &d.width),
            ("length", &d.length),
        ] {
            if let Some(v) = v
                && units::parse(v).is_none()
            {
                return Err(format!("dimensions.{name}: '{v}' is not a number"));
            }
        }
    }
    Ok(())
}

fn merge(p: &mut Product, input: &ProductInput) {
    if let Some(n) = &input.name {
        p.name = Some(n.clone());
    }
    if let Some(b) = &input.barcode {
        p.barcode = Some(b.clone());
    }
    if let Some(d) = &input.dimensions {
        let dims = &mut p.dimensions;
        for (slot, v) in [
            (&mut dims.weight, &d.weight),
            (&mut dims.height, &d.height),
            (&mut dims.width, &d.width),
            (&mut dims.length, &d.length),
        ] {
            if v.is_some() {
                *slot = v.clone();
            }
        }
    }
}

fn mutation_answer(op: &str, p: Product, cost: f64) -> Response {
    let envelope = MutationEnvelope {
        request_id: Some(request_id()),
        complexity: Some(cost as i64),
        product: Some(p),
    };
    Json(json!({ "data": { op: envelope } })).into_response()
}

fn create(inner: &Inner, vars: &Value, cost: f64) -> Response {
    inner.stats.create.fetch_add(1, Ordering::Relaxed);
    let input: CreateProductInput = match serde_json::from_value(vars["data"].clone()) {
        Ok(i) => i,
        Err(e) => {
            return gql_error(
                format!("Variable \"$data\" got invalid value: {e}"),
                "product_create",
            );
        }
    };
    if input.product.name.is_none() {
        return gql_error("name: field required".into(), "product_create");
    }
    if input.warehouse_products.is_empty() {
        return gql_error(
            "warehouse_products: at least one warehouse is required".into(),
            "product_create",
        );
    }
    if let Err(e) = validate(&input.product) {
        return gql_error(e, "product_create");
    }
    let Ok(mut data) = inner.data.write() else {
        return gql_error("internal error".into(), "product_create");
    };
    if data.by_sku.contains_key(&input.product.sku) {
        inner.stats.create_conflicts.fetch_add(1, Ordering::Relaxed);
        return gql_error(
            format!("The SKU {} already exists", input.product.sku),
            "product_create",
        );
    }
    let mut p = Product {
        sku: input.product.sku.clone(),
        active: Some(true),
        ..Default::default()
    };
    merge(&mut p, &input.product);
    let p = Data::insert_new(&mut data, p);
    mutation_answer("product_create", p, cost)
}

fn update(inner: &Inner, vars: &Value, cost: f64) -> Response {
    inner.stats.update.fetch_add(1, Ordering::Relaxed);
    let input: ProductInput = match serde_json::from_value(vars["data"].clone()) {
        Ok(i) => i,
        Err(e) => {
            return gql_error(
                format!("Variable \"$data\" got invalid value: {e}"),
                "product_update",
            );
        }
    };
    if let Err(e) = validate(&input) {
        return gql_error(e, "product_update");
    }
    let Ok(mut data) = inner.data.write() else {
        return gql_error("internal error".into(), "product_update");
    };
    let Some(p) = data.by_sku.get_mut(&input.sku) else {
        return gql_error(
            format!("Product with sku {} not found", input.sku),
            "product_update",
        );
    };
    merge(p, &input);
    let p = p.clone();
    mutation_answer("product_update", p, cost)
}

// --- control API (no auth, no faults, no credits) ---------------------------------

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": "not found" }))).into_response()
}

async fn ctl_get(State(inner): S, Path((entity, sku)): Path<(String, String)>) -> Response {
    if entity != "products" {
        return not_found();
    }
    match inner
        .data
        .read()
        .ok()
        .and_then(|d| d.by_sku.get(&sku).cloned())
    {
        Some(p) => Json(p).into_response(),
        None => not_found(),
    }
}

async fn ctl_patch(
    State(inner): S,
    Path((entity, sku)): Path<(String, String)>,
    Json(patch): Json<Value>,
) -> Response {
    if entity != "products" {
        return not_found();
    }
    let mut body = patch;
    if let Some(o) = body.as_object_mut() {
        o.insert("sku".into(), Value::String(sku.clone()));
    }
    let input: ProductInput = match serde_json::from_value(body) {
        Ok(i) => i,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": e.to_string() })),
            )
                .into_response();
        }
    };
    let Ok(mut data) = inner.data.write() else {
        return not_found();
    };
    let p = match data.by_sku.get_mut(&sku) {
        Some(p) => {
            merge(p, &input);
            p.clone()
        }
        None => {
            let mut p = Product {
                sku: sku.clone(),
                active: Some(true),
                ..Default::default()
            };
            merge(&mut p, &input);
            Data::insert_new(&mut data, p)
        }
    };
    Json(p).into_response()
}

async fn ctl_delete(State(inner): S, Path((entity, sku)): Path<(String, String)>) -> Response {
    if entity != "products" {
        return not_found();
    }
    let removed = inner
        .data
        .write()
        .ok()
        .and_then(|mut d| d.by_sku.remove(&sku));
    if removed.is_some() {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found()
    }
}

/// Shared fault kinds, plus `"30"`: answer `count` operations with `code: 30`.
async fn add_fault(State(inner): S, Json(req): Json<FaultRequest>) -> Response {
    if req.kind == "30" {
        let queued = inner
            .forced_throttles
            .lock()
            .map(|mut n| {
                *n += req.count;
                *n
            })
            .unwrap_or(0);
        return Json(json!({ "queued": queued })).into_response();
    }
    match req.parse() {
        Ok(kind) => Json(json!({ "queued": inner.faults.push(kind, req.count) })).into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": format!("{e}; or 30 (not enough credits)") })),
        )
            .into_response(),
    }
}

async fn clear_faults(State(inner): S) -> Response {
    inner.faults.clear();
    if let Ok(mut n) = inner.forced_throttles.lock() {
        *n = 0;
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn set_credits(State(inner): S, Json(config): Json<CreditConfig>) -> Response {
    if config.max <= 0.0 || config.refill_per_second < 0.0 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "max must be > 0 and refillPerSecond ≥ 0" })),
        )
            .into_response();
    }
    inner.credits.reconfigure(config);
    StatusCode::NO_CONTENT.into_response()
}

async fn stats(State(inner): S) -> Response {
    Json(inner.stats.to_json()).into_response()
}

async fn reset_stats(State(inner): S) -> Response {
    inner.stats.reset();
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_fields_are_found() {
        use crate::connectors::shiphero::wire;
        assert_eq!(root_field(&wire::product_query()), Some("product"));
        assert_eq!(root_field(&wire::products_query()), Some("products"));
        assert_eq!(root_field(&wire::create_mutation()), Some("product_create"));
        assert_eq!(root_field(&wire::update_mutation()), Some("product_update"));
        assert_eq!(
            root_field("{ product(sku: \"A\") { data { id } } }"),
            Some("product")
        );
        assert_eq!(root_field("nothing"), None);
    }
}
