//! `POST /webhooks/{connection_id}`: an upstream (or any automation) asks for an
//! incremental sync. The body is authenticated with HMAC-SHA256 of the raw bytes, keyed
//! by the connection's webhook secret, in `X-Pricebook-Signature: sha256=<hex>`.

use crate::error::AppError;
use crate::jobs::StartRequest;
use crate::state::AppState;
use crate::store;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use entity::enums::{RunMode, RunTrigger};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "x-pricebook-signature";

pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn verify(secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(given) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(body);
    // Constant-time comparison.
    mac.verify_slice(&given).is_ok()
}

pub async fn trigger(
    State(state): State<AppState>,
    Path(connection_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let unauthorized =
        || AppError::Unauthenticated("missing or invalid webhook signature".into()).into_response();
    let Ok(id) = connection_id.parse::<i64>() else {
        return unauthorized();
    };
    let Ok(conn) = store::connections::get_unscoped(&state.db, id).await else {
        return unauthorized();
    };
    let secret = match store::connections::read_secrets(&state.db, &state.secrets, id).await {
        Ok(Some(s)) => s
            .get("webhookSecret")
            .and_then(|v| v.as_str())
            .map(str::to_owned),
        _ => None,
    };
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    match secret {
        Some(secret) if verify(&secret, &body, signature) => {}
        _ => return unauthorized(),
    }
    let req = StartRequest {
        mode: RunMode::Incremental,
        params: Default::default(),
        dry_run: false,
        trigger: RunTrigger::Webhook,
        requested_by: None,
        force: false,
    };
    match state.jobs.start_sync(conn.account_id, conn.id, req).await {
        Ok((run, already)) => (
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "runId": run.id.to_string(), "alreadyRunning": already })),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_with_the_right_key_and_body() {
        let sig = sign("s3cret", b"{}");
        assert!(verify("s3cret", b"{}", Some(&sig)));
        assert!(!verify("other", b"{}", Some(&sig)));
        assert!(!verify("s3cret", b"{ }", Some(&sig)));
        assert!(!verify("s3cret", b"{}", None));
        assert!(!verify("s3cret", b"{}", Some("sha256=zz")));
    }
}
