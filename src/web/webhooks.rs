//! `POST /webhooks/{connection_id}`: an upstream (or any automation) asks for an
//! incremental sync. The request carries
//! `X-Pricebook-Signature: t=<unix seconds>,id=<delivery id>,sha256=<hex>`, where the hex is
//! the HMAC-SHA256 of `"<t>.<id>.<raw body>"` keyed by the connection's webhook secret.
//! A signature is accepted within [`WINDOW_SECONDS`] of its timestamp (either way), and
//! each delivery id once per connection: a replay is refused, not a new run.

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
/// How far a signature's timestamp may be from the server's clock.
pub const WINDOW_SECONDS: i64 = 300;
/// Longest delivery id.
pub const MAX_ID_CHARS: usize = 100;

fn mac(secret: &str, timestamp: i64, id: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(format!("{timestamp}.{id}.").as_bytes());
    mac.update(body);
    mac
}

/// The header value for a delivery (for senders, tests and the docs' example).
pub fn sign(secret: &str, timestamp: i64, id: &str, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, id, body).finalize().into_bytes();
    format!("t={timestamp},id={id},sha256={}", hex::encode(digest))
}

/// A parsed signature header.
#[derive(Debug, PartialEq, Eq)]
struct Signature {
    timestamp: i64,
    id: String,
    digest: Vec<u8>,
}

fn parse(header: &str) -> Option<Signature> {
    let (mut t, mut id, mut digest) = (None, None, None);
    for part in header.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "t" => t = Some(v.parse::<i64>().ok()?),
            "id" => id = Some(v.to_owned()),
            "sha256" => digest = Some(hex::decode(v).ok()?),
            _ => return None,
        }
    }
    let id = id.filter(|i| {
        (1..=MAX_ID_CHARS).contains(&i.chars().count())
            && i.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
    })?;
    Some(Signature {
        timestamp: t?,
        id,
        digest: digest?,
    })
}

/// Why a delivery was refused.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    Invalid,
    OutsideWindow,
}

/// Checks the signature (constant time) and then its timestamp against `now`.
fn verify(secret: &str, body: &[u8], header: Option<&str>, now: i64) -> Result<Signature, Refusal> {
    let sig = header.and_then(parse).ok_or(Refusal::Invalid)?;
    mac(secret, sig.timestamp, &sig.id, body)
        .verify_slice(&sig.digest)
        .map_err(|_| Refusal::Invalid)?;
    if (now - sig.timestamp).abs() > WINDOW_SECONDS {
        return Err(Refusal::OutsideWindow);
    }
    Ok(sig)
}

pub async fn trigger(
    State(state): State<AppState>,
    Path(connection_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let refuse = |why: &str| AppError::Unauthenticated(why.to_owned()).into_response();
    let unauthorized = || refuse("missing or invalid webhook signature");
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
    let Some(secret) = secret else {
        return unauthorized();
    };
    let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now();
    let delivery = match verify(&secret, &body, header, now.timestamp()) {
        Ok(sig) => sig.id,
        Err(Refusal::Invalid) => return unauthorized(),
        Err(Refusal::OutsideWindow) => {
            return refuse(&format!(
                "webhook timestamp is outside the {}-minute window",
                WINDOW_SECONDS / 60
            ));
        }
    };
    let forget_before = now - chrono::Duration::seconds(2 * WINDOW_SECONDS);
    match store::webhook_deliveries::record(&state.db, conn.id, &delivery, now, forget_before).await
    {
        Ok(true) => {}
        Ok(false) => {
            return refuse(&format!("webhook delivery {delivery} was already received"));
        }
        Err(e) => return e.into_response(),
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

    const NOW: i64 = 1_764_806_400;

    #[test]
    fn signatures_verify_only_with_the_right_key_body_time_and_id() {
        let sig = sign("s3cret", NOW, "d-1", b"{}");
        assert!(sig.starts_with(&format!("t={NOW},id=d-1,sha256=")));
        let ok = verify("s3cret", b"{}", Some(&sig), NOW).unwrap();
        assert_eq!((ok.timestamp, ok.id.as_str()), (NOW, "d-1"));
        assert_eq!(
            verify("other", b"{}", Some(&sig), NOW).unwrap_err(),
            Refusal::Invalid
        );
        assert_eq!(
            verify("s3cret", b"{ }", Some(&sig), NOW).unwrap_err(),
            Refusal::Invalid
        );
        assert_eq!(
            verify("s3cret", b"{}", None, NOW).unwrap_err(),
            Refusal::Invalid
        );
        let other_id = sig.replace("id=d-1", "id=d-2");
        assert_eq!(
            verify("s3cret", b"{}", Some(&other_id), NOW).unwrap_err(),
            Refusal::Invalid
        );
        let other_time = sig.replace(&format!("t={NOW}"), &format!("t={}", NOW + 1));
        assert_eq!(
            verify("s3cret", b"{}", Some(&other_time), NOW).unwrap_err(),
            Refusal::Invalid
        );
    }

    #[test]
    fn the_timestamp_must_be_within_five_minutes_either_way() {
        for (t, ok) in [
            (NOW - 300, true),
            (NOW + 300, true),
            (NOW - 301, false),
            (NOW + 301, false),
        ] {
            let sig = sign("k", t, "d", b"x");
            assert_eq!(
                verify("k", b"x", Some(&sig), NOW).is_ok(),
                ok,
                "t = now {:+}",
                t - NOW
            );
        }
    }

    #[test]
    fn malformed_headers_are_invalid() {
        for h in [
            "sha256=00",
            "t=1,sha256=00",
            "t=x,id=a,sha256=00",
            "t=1,id=a,sha256=zz",
            "t=1,id=,sha256=00",
            "t=1,id=a b,sha256=00",
            "t=1,id=a,sha256=00,v=2",
            "",
        ] {
            assert_eq!(parse(h), None, "{h}");
        }
        let long = format!("t=1,id={},sha256=00", "a".repeat(MAX_ID_CHARS + 1));
        assert_eq!(parse(&long), None);
    }
}
