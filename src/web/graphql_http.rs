//! GraphQL over HTTP: JSON POST, GET for queries, multipart uploads, GraphiQL.
//!
//! Follows the GraphQL-over-HTTP spec so stock clients work with a URL and a bearer token:
//! `application/graphql-response+json` when asked for (with 4xx on request errors),
//! plain `application/json` with 200 otherwise; mutations are refused over GET.

use crate::auth::Authentication;
use crate::graphql::ClientIp;
use crate::graphql::loaders::LoaderSet;
use crate::state::AppState;
use async_graphql::http::MultipartOptions;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use std::net::SocketAddr;
use tokio_util::compat::TokioAsyncReadCompatExt;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

pub async fn handle(State(state): State<AppState>, req: Request) -> Response {
    let client_ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let wants_graphql_response = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains(GRAPHQL_RESPONSE));
    if req.method() == Method::GET && req.uri().query().is_none_or(|q| !q.contains("query=")) {
        // GraphiQL, from the embedded files (no CDN: it works offline).
        return crate::web::ui::page("graphiql/index.html", req.headers());
    }
    let is_get = req.method() == Method::GET;
    let headers = req.headers().clone();
    // A multipart POST is a "simple" request another origin can send without a CORS
    // preflight, so it must carry the preflight header. (Other simple media types are not
    // GraphQL requests at all: `parse` answers them 415 and nothing runs.)
    if !is_get && is_multipart(&headers) && !crate::web::csrf::is_preflighted(&headers) {
        return request_error(
            StatusCode::BAD_REQUEST,
            "CSRF_PREVENTED",
            crate::web::csrf::REFUSAL,
            wants_graphql_response,
        );
    }
    // Admitted before the body is read: a refusal costs next to nothing.
    let _slot = match state.admission.enter().await {
        Ok(slot) => slot,
        Err(refusal) => return overloaded(refusal, wants_graphql_response),
    };
    let mut gql_request = match parse(req, state.settings.max_body_bytes).await {
        Ok(r) => r,
        Err((status, message)) => {
            let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
                "PAYLOAD_TOO_LARGE"
            } else {
                "BAD_REQUEST"
            };
            return request_error(status, code, &message, wants_graphql_response);
        }
    };
    if is_get && is_mutation(&mut gql_request) {
        let mut resp = request_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "BAD_REQUEST",
            "mutations must be sent with POST",
            wants_graphql_response,
        );
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return resp;
    }
    let auth = authenticate(&state, &headers).await;
    let mut gql_request = gql_request.data(auth.clone());
    if let Authentication::Caller(c) = &auth {
        gql_request = gql_request.data(LoaderSet::new(state.db.clone(), c.account_id));
    }
    if let Some(ip) = client_ip {
        gql_request = gql_request.data(ClientIp(ip));
    }
    let response = state
        .query_guard
        .execute(&state.schema, gql_request, &auth)
        .await;
    respond(response, wants_graphql_response)
}

/// The caller of an HTTP request, from its `Authorization` header (session token or API
/// key), checked against the database.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Authentication {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    state
        .principals
        .authenticate(&state.db, &state.jwt, authorization)
        .await
}

async fn parse(
    req: Request,
    max_bytes: usize,
) -> Result<async_graphql::Request, (StatusCode, String)> {
    if req.method() == Method::GET {
        return async_graphql::http::parse_query_string(req.uri().query().unwrap_or_default())
            .map_err(|e| {
                (
                    StatusCode::BAD_REQUEST,
                    format!("invalid GraphQL GET request: {e}"),
                )
            });
    }
    if req.method() != Method::POST {
        return Err((StatusCode::METHOD_NOT_ALLOWED, "use GET or POST".into()));
    }
    // Only the two request types a GraphQL client sends; a POST without one (or with
    // `text/plain`, which a browser's fetch adds to a bare string body) is refused.
    let Some(content_type) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            let media = v.split(';').next().unwrap_or_default().trim();
            media.eq_ignore_ascii_case("application/json")
                || media.eq_ignore_ascii_case("multipart/form-data")
        })
        .map(str::to_owned)
    else {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "a POST needs a Content-Type: application/json (multipart/form-data for uploads)"
                .into(),
        ));
    };
    let content_type = Some(content_type);
    let body = req
        .into_body()
        .into_data_stream()
        .map_err(|e| std::io::Error::other(e.to_string()));
    let reader = tokio_util::io::StreamReader::new(body).compat();
    let options = MultipartOptions::default()
        .max_file_size(max_bytes)
        .max_num_files(4);
    let batch = async_graphql::http::receive_batch_body(content_type, reader, options)
        .await
        .map_err(|e| match e {
            async_graphql::ParseRequestError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large".to_owned(),
            ),
            other => (
                StatusCode::BAD_REQUEST,
                format!("invalid GraphQL request: {}", describe(&other)),
            ),
        })?;
    let request = batch.into_single().map_err(|_| {
        (
            StatusCode::BAD_REQUEST,
            "batched requests are not supported".to_owned(),
        )
    })?;
    // No document at all (a missing or misspelt `query` parameter) is a malformed
    // request, not a GraphQL syntax error.
    if request.query.trim().is_empty() {
        return Err((
            StatusCode::BAD_REQUEST,
            "the request has no `query` parameter".to_owned(),
        ));
    }
    Ok(request)
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("multipart/form-data"))
}

fn describe(e: &async_graphql::ParseRequestError) -> String {
    use async_graphql::ParseRequestError as P;
    match e {
        P::Io(io) if io.to_string().contains("length limit") => "request body too large".into(),
        P::Io(io) => io.to_string(),
        P::InvalidRequest(inner) => format!("body is not a valid GraphQL JSON request ({inner})"),
        other => other.to_string(),
    }
}

fn is_mutation(req: &mut async_graphql::Request) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let operation_name = req.operation_name.clone();
    let Ok(doc) = req.parsed_query() else {
        return false;
    };
    match &doc.operations {
        DocumentOperations::Single(op) => op.node.ty != OperationType::Query,
        DocumentOperations::Multiple(ops) => match &operation_name {
            Some(name) => ops
                .get(name.as_str())
                .is_some_and(|op| op.node.ty != OperationType::Query),
            None => ops.values().any(|op| op.node.ty != OperationType::Query),
        },
    }
}

fn request_error(
    status: StatusCode,
    code: &str,
    message: &str,
    graphql_response: bool,
) -> Response {
    let body =
        serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    json_error(status, body, graphql_response)
}

/// `503`, `RATE_LIMITED`, `Retry-After`: the admission limit, answered without executing.
fn overloaded(refusal: crate::web::admission::Refusal, graphql_response: bool) -> Response {
    let error = crate::error::AppError::from(refusal);
    let mut resp = request_error(
        error.status(),
        error.code(),
        &error.public_message(),
        graphql_response,
    );
    resp.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(crate::web::admission::RETRY_AFTER_SECONDS),
    );
    resp
}

fn json_error(status: StatusCode, body: serde_json::Value, graphql_response: bool) -> Response {
    let content_type = if graphql_response {
        GRAPHQL_RESPONSE
    } else {
        "application/json"
    };
    (
        status,
        [(header::CONTENT_TYPE, content_type)],
        body.to_string(),
    )
        .into_response()
}

fn respond(mut response: async_graphql::Response, graphql_response: bool) -> Response {
    // A request error (validation, limits) executes nothing: its errors have no path, and
    // the answer has no `data`. An execution error has a path, and `data` (maybe null).
    let request_failed = response.is_err()
        && matches!(response.data, async_graphql::Value::Null)
        && response.errors.iter().all(|e| e.path.is_empty());
    let data_nulled = !request_failed && null_failed_non_null_roots(&mut response);
    // A database outage is the service's, not the request's: 503 whatever the media type,
    // so a dashboard or load balancer retries instead of showing an empty result.
    let unavailable = response.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|c| *c == async_graphql::Value::from("UNAVAILABLE"))
    });
    let status = if unavailable {
        StatusCode::SERVICE_UNAVAILABLE
    } else if graphql_response && request_failed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    // Executed responses are written straight to bytes: a page of items is thousands of
    // fields, and an intermediate `serde_json::Value` copy of them cost a fifth of a request.
    let body = if request_failed {
        request_failure_body(&response)
    } else if data_nulled {
        // The serialiser leaves out a null `data`; the spec wants it present here.
        let mut body = serde_json::to_value(&response).unwrap_or_default();
        body["data"] = serde_json::Value::Null;
        body.to_string().into_bytes()
    } else {
        serde_json::to_vec(&response).unwrap_or_else(|_| {
            br#"{"errors":[{"message":"serialisation failed","extensions":{"code":"INTERNAL"}}]}"#
                .to_vec()
        })
    };
    let content_type = if graphql_response {
        GRAPHQL_RESPONSE
    } else {
        "application/json"
    };
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if unavailable {
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECONDS),
        );
    }
    resp
}

/// What a 503 asks clients to wait before retrying.
pub const RETRY_AFTER_SECONDS: &str = "5";

/// The errors of a request that never executed, each with a stable code and no `data`.
fn request_failure_body(response: &async_graphql::Response) -> Vec<u8> {
    serde_json::json!({ "errors": request_errors(response) })
        .to_string()
        .into_bytes()
}

/// The errors of a request that never executed (validation, limits), each with a code:
/// `GRAPHQL_VALIDATION_FAILED` unless it has one.
pub fn request_errors(response: &async_graphql::Response) -> serde_json::Value {
    let mut errors = serde_json::to_value(&response.errors)
        .unwrap_or_else(|_| serde_json::json!([{ "message": "serialisation failed" }]));
    if let Some(list) = errors.as_array_mut() {
        for e in list.iter_mut() {
            if e.get("extensions").and_then(|x| x.get("code")).is_none() {
                e["extensions"] = serde_json::json!({ "code": "GRAPHQL_VALIDATION_FAILED" });
            }
        }
    }
    errors
}

/// Spec null propagation at the root: when a non-null root field fails, `data` is `null`.
/// The executor leaves such a field out of `data` (a nullable one is present as `null`),
/// so an error at a root path whose key is absent marks exactly that case.
/// Answers whether `data` is (now) null because of that.
fn null_failed_non_null_roots(response: &mut async_graphql::Response) -> bool {
    let dropped = match &response.data {
        async_graphql::Value::Object(data) => {
            response.errors.iter().any(|e| match e.path.as_slice() {
                [async_graphql::PathSegment::Field(key)] => !data.contains_key(key.as_str()),
                _ => false,
            })
        }
        async_graphql::Value::Null => response.is_err(),
        _ => false,
    };
    if dropped {
        response.data = async_graphql::Value::Null;
    }
    dropped
}
