//! The emulator's OAuth endpoints: authorize (approves at once: redirects back with a
//! one-time code and the state) and token (authorization_code and refresh_token grants;
//! each refresh retires the refresh token it used).

use super::Inner;
use super::routes::{S, json_error};
use axum::Json;
use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const CODE_TTL: Duration = Duration::from_secs(300);

#[derive(Deserialize)]
pub struct AuthorizeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
}

pub async fn authorize(State(inner): S, Query(q): Query<AuthorizeQuery>) -> Response {
    inner.stats.authorize.fetch_add(1, Ordering::Relaxed);
    let Ok(mut s) = inner.state.lock() else {
        return json_error(StatusCode::INTERNAL_SERVER_ERROR, "poisoned");
    };
    if q.client_id.as_deref() != Some(s.config.client_id.as_str()) {
        return json_error(StatusCode::BAD_REQUEST, "unknown client_id");
    }
    let Some(redirect) = q.redirect_uri.and_then(|r| reqwest::Url::parse(&r).ok()) else {
        return json_error(StatusCode::BAD_REQUEST, "redirect_uri is required");
    };
    let code = format!("jbc_{}", uuid::Uuid::new_v4().simple());
    let now = Instant::now();
    s.codes.retain(|_, (_, exp)| *exp > now);
    s.codes
        .insert(code.clone(), (redirect.to_string(), now + CODE_TTL));
    let mut back = redirect;
    back.query_pairs_mut().append_pair("code", &code);
    if let Some(state) = q.state {
        back.query_pairs_mut().append_pair("state", &state);
    }
    (StatusCode::FOUND, [(header::LOCATION, back.to_string())]).into_response()
}

#[derive(Deserialize)]
pub struct TokenForm {
    grant_type: String,
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    refresh_token: Option<String>,
}

fn refused(inner: &Inner, status: StatusCode, error: &str) -> Response {
    inner.stats.refused_grants.fetch_add(1, Ordering::Relaxed);
    (status, Json(serde_json::json!({ "error": error }))).into_response()
}

pub async fn token(State(inner): S, Form(form): Form<TokenForm>) -> Response {
    let Ok(mut s) = inner.state.lock() else {
        return json_error(StatusCode::INTERNAL_SERVER_ERROR, "poisoned");
    };
    if form.client_id.as_deref() != Some(s.config.client_id.as_str())
        || form.client_secret.as_deref() != Some(s.config.client_secret.as_str())
    {
        return refused(&inner, StatusCode::UNAUTHORIZED, "invalid_client");
    }
    match form.grant_type.as_str() {
        "authorization_code" => {
            let issued = form.code.as_deref().and_then(|c| s.codes.remove(c));
            let valid = issued.is_some_and(|(redirect, exp)| {
                exp > Instant::now() && form.redirect_uri.as_deref() == Some(redirect.as_str())
            });
            if !valid {
                return refused(&inner, StatusCode::BAD_REQUEST, "invalid_grant");
            }
            inner.stats.code_grants.fetch_add(1, Ordering::Relaxed);
        }
        "refresh_token" => {
            // Rotation: the refresh token works once.
            let known = form
                .refresh_token
                .as_deref()
                .is_some_and(|t| s.refresh.remove(t));
            if !known {
                return refused(&inner, StatusCode::BAD_REQUEST, "invalid_grant");
            }
            inner.stats.refresh_grants.fetch_add(1, Ordering::Relaxed);
        }
        _ => return refused(&inner, StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    }
    Json(s.issue_tokens()).into_response()
}
