//! HTTP handlers of the ServiceTitan emulator.

use super::Inner;
use super::store::{Data, Stamped};
use crate::connectors::servicetitan::wire::{
    ApiErrorResponse, BulkUpdate, CategoryRef, Export, Paged, Sku, SkuWrite, TokenResponse,
};
use crate::sandbox::faults::{self, FaultKind, FaultRequest};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

type S = State<Arc<Inner>>;

pub(super) fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route("/connect/token", post(token))
        .route("/tenant/{tenant}/export/{entity}", get(export))
        .route(
            "/tenant/{tenant}/pricebook",
            post(bulk_create).patch(bulk_update),
        )
        .route("/tenant/{tenant}/{entity}", get(list).post(create))
        .route(
            "/tenant/{tenant}/{entity}/{id}",
            get(get_one).patch(update).delete(delete),
        )
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

fn api_error(status: StatusCode, title: &str, errors: BTreeMap<String, Vec<String>>) -> Response {
    let body = ApiErrorResponse {
        kind: format!(
            "https://tools.ietf.org/html/rfc7231#section-6.5.{}",
            status.as_u16() % 100
        ),
        title: title.to_owned(),
        status: status.as_u16(),
        trace_id: Some(uuid::Uuid::new_v4().simple().to_string()),
        errors,
    };
    (status, Json(body)).into_response()
}

fn field_error(field: &str, message: &str) -> Response {
    api_error(
        StatusCode::BAD_REQUEST,
        "One or more validation errors occurred.",
        BTreeMap::from([(field.to_owned(), vec![message.to_owned()])]),
    )
}

/// Faults, the provider's rate limit and authentication, in that order, for API calls.
async fn guard(inner: &Inner, headers: &HeaderMap, tenant: i64) -> Result<(), Response> {
    if let Some(fault) = inner.faults.next() {
        inner.stats.faults.fetch_add(1, Ordering::Relaxed);
        match fault {
            FaultKind::Latency(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
            FaultKind::TooManyRequests { retry_after } => {
                let body = serde_json::to_string(&too_many_body()).unwrap_or_default();
                return Err(faults::too_many(retry_after, body));
            }
            FaultKind::ServerError => {
                return Err(api_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal server error",
                    BTreeMap::new(),
                ));
            }
            FaultKind::Unauthorized => {
                if let Ok(mut t) = inner.tokens.lock() {
                    t.clear();
                }
                return Err(api_error(
                    StatusCode::UNAUTHORIZED,
                    "Token expired",
                    BTreeMap::new(),
                ));
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
        return Err(faults::too_many(
            Some(1),
            serde_json::to_string(&too_many_body()).unwrap_or_default(),
        ));
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
            .and_then(|m| m.get(t).copied())
            .is_some_and(|exp| exp > Instant::now())
    });
    if !valid {
        return Err(api_error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            BTreeMap::new(),
        ));
    }
    if headers.get("st-app-key").and_then(|v| v.to_str().ok())
        != Some(inner.config.app_key.as_str())
    {
        return Err(api_error(
            StatusCode::UNAUTHORIZED,
            "Missing or invalid ST-App-Key",
            BTreeMap::new(),
        ));
    }
    if tenant != inner.config.tenant {
        return Err(api_error(
            StatusCode::NOT_FOUND,
            "Tenant not found",
            BTreeMap::new(),
        ));
    }
    Ok(())
}

fn too_many_body() -> ApiErrorResponse {
    ApiErrorResponse {
        kind: "TooManyRequests".into(),
        title: "Too many requests".into(),
        status: 429,
        trace_id: None,
        errors: BTreeMap::new(),
    }
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    client_id: String,
    client_secret: String,
}

async fn token(State(inner): S, Form(form): Form<TokenForm>) -> Response {
    inner.stats.token.fetch_add(1, Ordering::Relaxed);
    if form.grant_type != "client_credentials"
        || form.client_id != inner.config.client_id
        || form.client_secret != inner.config.client_secret
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": "invalid_client" })),
        )
            .into_response();
    }
    let token = uuid::Uuid::new_v4().simple().to_string();
    let ttl = inner.config.token_ttl_seconds;
    if let Ok(mut t) = inner.tokens.lock() {
        t.retain(|_, exp| *exp > Instant::now());
        t.insert(token.clone(), Instant::now() + Duration::from_secs(ttl));
    }
    Json(TokenResponse {
        access_token: token,
        token_type: "Bearer".into(),
        expires_in: ttl,
    })
    .into_response()
}

fn encode_cursor(at: (i64, i64)) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", at.0, at.1))
}

fn decode_cursor(text: &str) -> Option<(i64, i64)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(text).ok()?).ok()?;
    let (ms, id) = raw.split_once(':')?;
    Some((ms.parse().ok()?, id.parse().ok()?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExportQuery {
    from: Option<String>,
}

async fn export(
    State(inner): S,
    Path((tenant, entity)): Path<(i64, String)>,
    Query(q): Query<ExportQuery>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = guard(&inner, &headers, tenant).await {
        return r;
    }
    inner.stats.export.fetch_add(1, Ordering::Relaxed);
    // `from` is a continuation token or a date: records modified on or after it.
    let after = match q.from.as_deref().filter(|s| !s.is_empty()) {
        None => (i64::MIN, i64::MIN),
        Some(token) => match decode_cursor(token).or_else(|| {
            DateTime::parse_from_rfc3339(token)
                .ok()
                .map(|d| (d.timestamp_millis() - 1, i64::MAX))
        }) {
            Some(c) => c,
            None => return field_error("from", "The continuation token is not valid."),
        },
    };
    let size = inner.config.export_page_size;
    let Ok(data) = inner.data.read() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if entity == "categories" {
        let (rows, has_more) = data.categories.changed_after(after, size);
        drop(data);
        let next = rows
            .last()
            .map(|r| (r.modified().timestamp_millis(), r.id()))
            .unwrap_or(after);
        return Json(Export {
            has_more,
            continue_from: Some(encode_cursor(next)),
            data: rows,
        })
        .into_response();
    }
    let Some(table) = data.skus(&entity) else {
        return api_error(StatusCode::NOT_FOUND, "Unknown entity", BTreeMap::new());
    };
    let (rows, has_more) = table.changed_after(after, size);
    drop(data);
    let next = rows
        .last()
        .map(|r| (r.modified().timestamp_millis(), r.id()))
        .unwrap_or(after);
    Json(Export {
        has_more,
        continue_from: Some(encode_cursor(next)),
        data: rows,
    })
    .into_response()
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    page: Option<usize>,
    page_size: Option<usize>,
    include_total: Option<bool>,
    active: Option<String>,
    ids: Option<String>,
    modified_on_or_after: Option<DateTime<Utc>>,
    modified_before: Option<DateTime<Utc>>,
    created_on_or_after: Option<DateTime<Utc>>,
    sort: Option<String>,
    search_text: Option<String>,
}

async fn list(
    State(inner): S,
    Path((tenant, entity)): Path<(i64, String)>,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = guard(&inner, &headers, tenant).await {
        return r;
    }
    inner.stats.list.fetch_add(1, Ordering::Relaxed);
    let ids: Option<Vec<i64>> = match q.ids.as_deref().filter(|s| !s.is_empty()) {
        Some(text) => match text
            .split(',')
            .map(|s| s.trim().parse::<i64>())
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(v) if v.len() <= 50 => Some(v),
            Ok(_) => return field_error("ids", "At most 50 ids are allowed."),
            Err(_) => return field_error("ids", "ids must be a comma-separated list of integers."),
        },
        None => None,
    };
    let active = match q.active.as_deref().unwrap_or("True") {
        "True" | "true" => Some(true),
        "False" | "false" => Some(false),
        "Any" | "any" => None,
        _ => return field_error("active", "active must be True, False or Any."),
    };
    let page = q.page.unwrap_or(1).max(1);
    let size = q
        .page_size
        .unwrap_or(50)
        .clamp(1, inner.config.max_page_size);
    let search = q.search_text.as_deref().map(str::to_lowercase);
    let Ok(data) = inner.data.read() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    // The search text is built only when there is a search.
    let keep = |active_flag: bool,
                modified: Option<DateTime<Utc>>,
                created: Option<DateTime<Utc>>,
                id: i64,
                text: &dyn Fn() -> String| {
        active.is_none_or(|a| a == active_flag)
            && ids.as_ref().is_none_or(|v| v.contains(&id))
            && q.modified_on_or_after
                .is_none_or(|t| modified.is_some_and(|m| m >= t))
            && q.modified_before
                .is_none_or(|t| modified.is_some_and(|m| m < t))
            && q.created_on_or_after
                .is_none_or(|t| created.is_some_and(|c| c >= t))
            && search
                .as_ref()
                .is_none_or(|s| text().to_lowercase().contains(s.as_str()))
    };
    if entity == "categories" {
        let rows = data
            .categories
            .rows
            .values()
            .filter(|c| {
                keep(c.active, c.modified_on, c.created_on, c.id, &|| {
                    c.name.clone()
                })
            })
            .collect();
        return page_of(rows, &q, page, size);
    }
    let Some(table) = data.skus(&entity) else {
        return api_error(StatusCode::NOT_FOUND, "Unknown entity", BTreeMap::new());
    };
    let rows = table
        .rows
        .values()
        .filter(|s| {
            keep(s.active, s.modified_on, s.created_on, s.id, &|| {
                format!(
                    "{} {}",
                    s.code.as_deref().unwrap_or_default(),
                    s.display_name.as_deref().unwrap_or_default()
                )
            })
        })
        .collect();
    page_of(rows, &q, page, size)
}

/// The requested page of matching rows, in the requested order. Only the page is
/// serialised: a `pageSize=1&includeTotal=true` count of 50,000 rows builds one document.
fn page_of<T: Stamped + serde::Serialize>(
    mut rows: Vec<&T>,
    q: &ListQuery,
    page: usize,
    size: usize,
) -> Response {
    let sort = q.sort.as_deref().unwrap_or_default();
    if sort.to_lowercase().contains("modifiedon") {
        rows.sort_by_key(|r| r.modified().timestamp_millis());
    }
    if sort.starts_with('-') {
        rows.reverse();
    }
    let total = rows.len();
    let data: Vec<serde_json::Value> = rows
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .filter_map(|r| serde_json::to_value(r).ok())
        .collect();
    Json(Paged {
        page: page as i64,
        page_size: size as i64,
        has_more: page * size < total,
        total_count: q.include_total.unwrap_or(false).then_some(total as i64),
        data,
    })
    .into_response()
}

async fn get_one(
    State(inner): S,
    Path((tenant, entity, id)): Path<(i64, String, i64)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = guard(&inner, &headers, tenant).await {
        return r;
    }
    inner.stats.get.fetch_add(1, Ordering::Relaxed);
    match control_get(&inner, &entity, id) {
        Some(v) => Json(v).into_response(),
        None => api_error(
            StatusCode::NOT_FOUND,
            &format!("{entity} {id} not found"),
            BTreeMap::new(),
        ),
    }
}

/// Validates a write and applies it to `sku` (PATCH semantics).
fn apply_write(
    inner: &Inner,
    data: &Data,
    entity: &str,
    sku: &mut Sku,
    w: SkuWrite,
) -> Result<(), Box<Response>> {
    if inner.faults.refuse_write(sku.id) {
        return Err(Box::new(field_error(
            "Price",
            "The value was refused (fault injection).",
        )));
    }
    for (name, v) in [
        ("Price", w.price),
        ("Cost", w.cost),
        ("MemberPrice", w.member_price),
        ("AddOnPrice", w.add_on_price),
    ] {
        if v.is_some_and(|v| v < 0.0 || !v.is_finite()) {
            return Err(Box::new(field_error(
                name,
                &format!("{name} must be a non-negative number."),
            )));
        }
    }
    if let Some(code) = &w.code {
        if code.trim().is_empty() {
            return Err(Box::new(field_error("Code", "Code is required.")));
        }
        let taken = data.skus(entity).is_some_and(|t| {
            t.rows
                .values()
                .any(|o| o.id != sku.id && o.code.as_deref() == Some(code.as_str()))
        });
        if taken {
            return Err(Box::new(field_error(
                "Code",
                &format!("Code '{code}' is already used."),
            )));
        }
        sku.code = Some(code.clone());
    }
    if let Some(v) = w.display_name {
        sku.display_name = Some(v);
    }
    if let Some(v) = w.description {
        sku.description = Some(v);
    }
    macro_rules! set {
        ($($f:ident),*) => { $(if w.$f.is_some() { sku.$f = w.$f; })* };
    }
    set!(
        cost,
        price,
        member_price,
        add_on_price,
        add_on_member_price,
        unit_of_measure,
        service_materials,
        service_equipment
    );
    if let Some(a) = w.active {
        sku.active = a;
    }
    if let Some(cats) = w.categories {
        sku.categories = cats
            .into_iter()
            .map(|id| {
                if entity == "services" {
                    CategoryRef::Object {
                        id,
                        name: None,
                        active: Some(true),
                    }
                } else {
                    CategoryRef::Id(id)
                }
            })
            .collect();
    }
    Ok(())
}

async fn create(
    State(inner): S,
    Path((tenant, entity)): Path<(i64, String)>,
    headers: HeaderMap,
    Json(w): Json<SkuWrite>,
) -> Response {
    if let Err(r) = guard(&inner, &headers, tenant).await {
        return r;
    }
    inner.stats.create.fetch_add(1, Ordering::Relaxed);
    if w.code.as_deref().is_none_or(|c| c.trim().is_empty()) {
        return field_error("Code", "Code is required.");
    }
    let Ok(mut data) = inner.data.write() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if data.skus(&entity).is_none() {
        return api_error(StatusCode::NOT_FOUND, "Unknown entity", BTreeMap::new());
    }
    let at = data.clock.tick();
    let mut sku = Sku {
        id: data.next_sku_id(),
        active: true,
        created_on: Some(at),
        modified_on: Some(at),
        ..Default::default()
    };
    if let Err(r) = apply_write(&inner, &data, &entity, &mut sku, w) {
        return *r;
    }
    if let Some(t) = data.skus_mut(&entity) {
        t.put(sku.clone());
    }
    Json(sku).into_response()
}

async fn update(
    State(inner): S,
    Path((tenant, entity, id)): Path<(i64, String, i64)>,
    headers: HeaderMap,
    Json(w): Json<SkuWrite>,
) -> Response {
    if let Err(r) = guard(&inner, &headers, tenant).await {
        return r;
    }
    inner.stats.update.fetch_add(1, Ordering::Relaxed);
    let Ok(mut data) = inner.data.write() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Some(mut sku) = data.skus(&entity).and_then(|t| t.rows.get(&id).cloned()) else {
        return api_error(
            StatusCode::NOT_FOUND,
            &format!("{entity} {id} not found"),
            BTreeMap::new(),
        );
    };
    if let Err(r) = apply_write(&inner, &data, &entity, &mut sku, w) {
        return *r;
    }
    let at = data.clock.tick();
    sku.set_modified(at);
    if let Some(t) = data.skus_mut(&entity) {
        t.put(sku.clone());
    }
    Json(sku).into_response()
}

async fn delete(
    State(inner): S,
    Path((tenant, entity, id)): Path<(i64, String, i64)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = guard(&inner, &headers, tenant).await {
        return r;
    }
    inner.stats.delete.fetch_add(1, Ordering::Relaxed);
    if control_delete(&inner, &entity, id) {
        StatusCode::OK.into_response()
    } else {
        api_error(StatusCode::NOT_FOUND, "Not found", BTreeMap::new())
    }
}

async fn bulk_update(
    State(inner): S,
    Path(tenant): Path<i64>,
    headers: HeaderMap,
    Json(body): Json<BulkUpdate>,
) -> Response {
    if let Err(r) = guard(&inner, &headers, tenant).await {
        return r;
    }
    inner.stats.bulk.fetch_add(1, Ordering::Relaxed);
    let Ok(mut data) = inner.data.write() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut updated = serde_json::Map::new();
    for (entity, items) in [
        ("services", body.services),
        ("equipment", body.equipment),
        ("materials", body.materials),
    ] {
        let mut out = Vec::new();
        for item in items {
            let Some(mut sku) = data
                .skus(entity)
                .and_then(|t| t.rows.get(&item.id).cloned())
            else {
                return api_error(
                    StatusCode::NOT_FOUND,
                    &format!("{entity} {} not found", item.id),
                    BTreeMap::new(),
                );
            };
            if let Err(r) = apply_write(&inner, &data, entity, &mut sku, item.fields) {
                return *r;
            }
            let at = data.clock.tick();
            sku.set_modified(at);
            out.push(serde_json::to_value(&sku).unwrap_or_default());
            if let Some(t) = data.skus_mut(entity) {
                t.put(sku);
            }
        }
        updated.insert(entity.to_owned(), serde_json::Value::Array(out));
    }
    Json(serde_json::Value::Object(updated)).into_response()
}

async fn bulk_create(State(inner): S, Path(tenant): Path<i64>, headers: HeaderMap) -> Response {
    if let Err(r) = guard(&inner, &headers, tenant).await {
        return r;
    }
    inner.stats.bulk.fetch_add(1, Ordering::Relaxed);
    api_error(
        StatusCode::NOT_IMPLEMENTED,
        "Bulk create is not emulated; use POST /{entity}",
        BTreeMap::new(),
    )
}

// --- control API (no auth, no faults) -------------------------------------------

pub(super) fn control_get(inner: &Inner, entity: &str, id: i64) -> Option<serde_json::Value> {
    let data = inner.data.read().ok()?;
    if entity == "categories" {
        return data
            .categories
            .rows
            .get(&id)
            .and_then(|c| serde_json::to_value(c).ok());
    }
    data.skus(entity)?
        .rows
        .get(&id)
        .and_then(|s| serde_json::to_value(s).ok())
}

pub(super) fn control_patch(
    inner: &Inner,
    entity: &str,
    id: i64,
    patch: &serde_json::Value,
) -> Result<serde_json::Value, String> {
    let Some(changes) = patch.as_object() else {
        return Err("body must be a JSON object".into());
    };
    let mut data = inner.data.write().map_err(|_| "lock poisoned".to_owned())?;
    let at = data.clock.tick();
    let merge = |current: serde_json::Value| -> serde_json::Value {
        let mut obj = current.as_object().cloned().unwrap_or_default();
        for (k, v) in changes {
            obj.insert(k.clone(), v.clone());
        }
        serde_json::Value::Object(obj)
    };
    if entity == "categories" {
        let current = data.categories.rows.get(&id).cloned().ok_or("not found")?;
        let mut next: crate::connectors::servicetitan::wire::Category =
            serde_json::from_value(merge(serde_json::to_value(current).unwrap_or_default()))
                .map_err(|e| e.to_string())?;
        next.id = id;
        next.set_modified(at);
        data.categories.put(next.clone());
        return serde_json::to_value(next).map_err(|e| e.to_string());
    }
    let table = data.skus(entity).ok_or("unknown entity")?;
    let current = table.rows.get(&id).cloned().ok_or("not found")?;
    let mut next: Sku =
        serde_json::from_value(merge(serde_json::to_value(current).unwrap_or_default()))
            .map_err(|e| e.to_string())?;
    next.id = id;
    next.set_modified(at);
    if let Some(t) = data.skus_mut(entity) {
        t.put(next.clone());
    }
    serde_json::to_value(next).map_err(|e| e.to_string())
}

pub(super) fn control_delete(inner: &Inner, entity: &str, id: i64) -> bool {
    let Ok(mut data) = inner.data.write() else {
        return false;
    };
    if entity == "categories" {
        return data.categories.remove(id).is_some();
    }
    data.skus_mut(entity).and_then(|t| t.remove(id)).is_some()
}

async fn ctl_get(State(inner): S, Path((entity, id)): Path<(String, i64)>) -> Response {
    match control_get(&inner, &entity, id) {
        Some(v) => Json(v).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "error": "not found" })),
        )
            .into_response(),
    }
}

async fn ctl_patch(
    State(inner): S,
    Path((entity, id)): Path<(String, i64)>,
    Json(patch): Json<serde_json::Value>,
) -> Response {
    match control_patch(&inner, &entity, id, &patch) {
        Ok(v) => Json(v).into_response(),
        Err(e) if e == "not found" => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "error": e })),
        )
            .into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": e })),
        )
            .into_response(),
    }
}

async fn ctl_delete(State(inner): S, Path((entity, id)): Path<(String, i64)>) -> Response {
    if control_delete(&inner, &entity, id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "error": "not found" })),
        )
            .into_response()
    }
}

async fn add_fault(State(inner): S, Json(req): Json<FaultRequest>) -> Response {
    match inner.faults.add_with_invalid_writes(&req) {
        Ok(queued) => Json(serde_json::json!({ "queued": queued })).into_response(),
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
    if spec.services + spec.materials + spec.equipment > 1_000_000 {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": "at most 1,000,000 records" })),
        )
            .into_response();
    }
    if let Ok(mut d) = inner.data.write() {
        super::seed::seed(&mut d, &spec);
    }
    Json(serde_json::json!({ "seeded": spec.services + spec.materials + spec.equipment }))
        .into_response()
}

async fn stats(State(inner): S) -> Response {
    Json(inner.stats.to_json()).into_response()
}

async fn reset_stats(State(inner): S) -> Response {
    inner.stats.reset();
    StatusCode::NO_CONTENT.into_response()
}
