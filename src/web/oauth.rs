//! `GET /oauth/{provider}/callback?code=&state=`: the end of an OAuth consent. Checks the
//! signed state (signature, expiry, provider, and the connection's one-time nonce), trades
//! the code for tokens, stores them encrypted, marks the connection active, enqueues its
//! first full sync (not waited for), and sends the browser to the connection in the UI.
//! A bad state stores nothing. Codes and tokens are never logged or shown.

use crate::auth::jwt::OAuthState;
use crate::connectors::oauth;
use crate::error::{AppError, AppResult};
use crate::graphql::mutation::oauth::{NONCE_KEY, redirect_uri};
use crate::jobs::StartRequest;
use crate::state::AppState;
use crate::store::{self, connections::ConnectionPatch};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use entity::enums::{ConnectionHealth, ConnectionStatus, Provider, RunMode, RunTrigger};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct CallbackQuery {
    /// Amazon names it `spapi_oauth_code`.
    #[serde(alias = "spapi_oauth_code")]
    code: Option<String>,
    state: Option<String>,
    /// Set by the provider when the user declined.
    error: Option<String>,
}

pub async fn callback(
    State(st): State<AppState>,
    Path(provider): Path<String>,
    Query(q): Query<CallbackQuery>,
) -> Response {
    match connect(&st, &provider, q).await {
        // `connected=1` lets the connection page confirm the consent.
        Ok(connection_id) => (
            StatusCode::SEE_OTHER,
            [(
                header::LOCATION,
                format!("/#/connections/{connection_id}?connected=1"),
            )],
        )
            .into_response(),
        Err(e) => {
            let status = match &e {
                AppError::Upstream(_) => StatusCode::BAD_GATEWAY,
                AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::BAD_REQUEST,
            };
            let message = match &e {
                AppError::Internal(_) => "something went wrong; try again".to_owned(),
                other => other.public_message(),
            };
            (status, Html(page(&message))).into_response()
        }
    }
}

fn page(message: &str) -> String {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<!doctype html><meta charset=utf-8><title>Connection not made</title>\
         <h1>Connection not made</h1><p>{escaped}</p><p><a href=\"/\">Back to pricebook-sync</a></p>"
    )
}

fn nonce_of(secrets: &serde_json::Value) -> Option<&str> {
    secrets.get(NONCE_KEY).and_then(|v| v.as_str())
}

async fn connect(st: &AppState, provider: &str, q: CallbackQuery) -> AppResult<i64> {
    let provider: Provider = provider
        .parse()
        .map_err(|_| AppError::bad_input("unknown provider"))?;
    if q.error.is_some() {
        return Err(AppError::bad_input(
            "access was not granted at the provider; start again from the connection",
        ));
    }
    let (Some(code), Some(state)) = (q.code.filter(|c| !c.is_empty()), q.state) else {
        return Err(AppError::bad_input("the callback needs code and state"));
    };
    let claims: OAuthState = st.jwt.verify_oauth_state(&state)?;
    if claims.provider != provider.as_str() {
        return Err(AppError::bad_input(
            "the OAuth state is for another provider",
        ));
    }
    let invalid = || AppError::bad_input("the OAuth state is invalid or was already used");
    let conn = store::connections::get(&st.db, claims.acct, claims.conn)
        .await
        .map_err(|_| invalid())?;
    if conn.provider != provider {
        return Err(invalid());
    }
    let secrets = store::connections::read_secrets(&st.db, &st.secrets, conn.id)
        .await?
        .unwrap_or_else(|| serde_json::json!({}));
    if nonce_of(&secrets) != Some(claims.nonce.as_str()) {
        return Err(invalid());
    }
    let public_url = st.registry.sandbox_base();
    let mut patch = oauth::exchange_code(
        provider,
        &conn.config,
        &secrets,
        &public_url,
        &code,
        &redirect_uri(&public_url, provider.as_str()),
    )
    .await?;
    if let Some(p) = patch.as_object_mut() {
        p.insert(NONCE_KEY.into(), serde_json::Value::Null);
    }
    // Consume the nonce in the same write as the tokens: of two racing callbacks, one wins.
    let txn = store::db::begin_write(&st.db).await?;
    let current = store::connections::read_secrets(&txn, &st.secrets, conn.id)
        .await?
        .unwrap_or_default();
    if nonce_of(&current) != Some(claims.nonce.as_str()) {
        return Err(invalid());
    }
    store::connections::merge_secrets(&txn, &st.secrets, conn.id, &patch).await?;
    store::connections::update(
        &txn,
        &st.secrets,
        claims.acct,
        conn.id,
        ConnectionPatch {
            status: Some(ConnectionStatus::Active),
            ..Default::default()
        },
    )
    .await?;
    let cause = crate::sync::health::Cause::OAuth {
        user_id: claims.user,
    };
    crate::sync::health::set(&txn, &conn, ConnectionHealth::Active, None, cause).await?;
    store::audit::record_raw(
        &txn,
        claims.acct,
        Some(claims.user),
        "oauth",
        "connection.oauth_connected",
        Some(("connection", conn.id.to_string())),
        serde_json::json!({ "provider": provider.as_str() }),
    )
    .await?;
    txn.commit().await?;
    st.registry.forget(conn.id);
    // Enqueued, not run: the redirect does not wait for the sync.
    let first_sync = StartRequest {
        mode: RunMode::Full,
        params: Default::default(),
        dry_run: false,
        trigger: RunTrigger::Connect,
        requested_by: Some(claims.user),
        force: false,
    };
    if let Err(e) = st.jobs.start_sync(claims.acct, conn.id, first_sync).await {
        tracing::warn!(connection_id = conn.id, error = %e.public_message(), "first sync after OAuth not enqueued");
    }
    Ok(conn.id)
}
