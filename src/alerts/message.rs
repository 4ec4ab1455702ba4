//! Pure parts of an alert: its JSON body (with a Slack-compatible `text`), its signature,
//! and when a failed delivery is tried again.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;

/// Event names, as targets subscribe to them and bodies carry them.
pub const HEALTH: &str = "connection.health";
pub const CONFLICTS: &str = "conflicts.waiting";
pub const TEST: &str = "test";

/// Attempts before a delivery is given up as failed.
pub const MAX_ATTEMPTS: i32 = 10;
/// First retry after this; each next one waits twice as long, at most [`MAX_DELAY`].
const FIRST_DELAY: Duration = Duration::from_secs(5);
const MAX_DELAY: Duration = Duration::from_secs(3600);

/// The signature header: `t=<unix seconds>,id=<delivery id>,sha256=<hex>` where the
/// HMAC-SHA256 (key: the target's signing secret) covers `"<t>.<body>"`.
pub const SIGNATURE_HEADER: &str = "x-pricebook-signature";

/// What a connection looked like when its health changed.
pub struct HealthChange<'a> {
    pub connection_id: i64,
    pub connection_name: &'a str,
    pub provider: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub reason: Option<&'a str>,
}

pub fn health_body(change: &HealthChange<'_>, at: DateTime<Utc>) -> Value {
    let what = match change.to {
        "ACTIVE" => "recovered: it syncs again".to_owned(),
        "FAILING" => "is failing: its last runs failed".to_owned(),
        "NEEDS_REAUTH" => "needs re-authentication: reconnect it".to_owned(),
        "PAUSED" => "paused its schedule after repeated failures".to_owned(),
        "NOT_CONNECTED" => "is not connected".to_owned(),
        other => format!("is now {other}"),
    };
    let reason = change.reason.map(|r| format!(" ({r})")).unwrap_or_default();
    json!({
        "text": format!(
            "pricebook-sync: connection \"{}\" ({}) {what}{reason}. Was {}.",
            change.connection_name, change.provider, change.from
        ),
        "event": HEALTH,
        "occurredAt": at.to_rfc3339(),
        "connection": {
            "id": change.connection_id.to_string(),
            "name": change.connection_name,
            "provider": change.provider,
        },
        "health": { "from": change.from, "to": change.to },
        "reason": change.reason,
    })
}

/// Open conflicts of one connection that crossed the age threshold.
pub struct Waiting {
    pub connection_id: i64,
    pub connection_name: String,
    pub count: i64,
}

pub fn conflicts_body(waiting: &[Waiting], older_than_minutes: i32, at: DateTime<Utc>) -> Value {
    let total: i64 = waiting.iter().map(|w| w.count).sum();
    let per: Vec<String> = waiting
        .iter()
        .map(|w| format!("{}: {}", w.connection_name, w.count))
        .collect();
    json!({
        "text": format!(
            "pricebook-sync: {total} conflict{} waiting longer than {} for review ({}).",
            if total == 1 { "" } else { "s" },
            age(older_than_minutes),
            per.join(", ")
        ),
        "event": CONFLICTS,
        "occurredAt": at.to_rfc3339(),
        "conflicts": {
            "count": total,
            "olderThanMinutes": older_than_minutes,
            "byConnection": waiting.iter().map(|w| json!({
                "id": w.connection_id.to_string(),
                "name": w.connection_name,
                "count": w.count,
            })).collect::<Vec<_>>(),
        },
    })
}

pub fn test_body(target_name: &str, at: DateTime<Utc>) -> Value {
    json!({
        "text": format!("pricebook-sync: test alert to \"{target_name}\". Deliveries work."),
        "event": TEST,
        "occurredAt": at.to_rfc3339(),
    })
}

fn age(minutes: i32) -> String {
    match minutes {
        m if m >= 60 && m % 60 == 0 => format!("{} h", m / 60),
        m => format!("{m} min"),
    }
}

/// The value of [`SIGNATURE_HEADER`].
pub fn signature(secret: &str, delivery_id: i64, unix_seconds: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(format!("{unix_seconds}.{body}").as_bytes());
    let digest = hex::encode(mac.finalize().into_bytes());
    format!("t={unix_seconds},id={delivery_id},sha256={digest}")
}

/// What to do after a failed attempt (`attempts` made so far, this one included):
/// the wait before the next, or `None` to give up.
pub fn retry_after(attempts: i32, asked: Option<Duration>) -> Option<Duration> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let doubled = FIRST_DELAY.saturating_mul(1u32 << (attempts - 1).clamp(0, 20));
    Some(asked.unwrap_or(doubled).min(MAX_DELAY))
}

/// Whether an HTTP status is worth another attempt (the receiver may recover), rather
/// than a refusal that will not change (a deleted Slack webhook answers 404 or 410).
pub fn retryable(status: u16) -> bool {
    status == 408 || status == 429 || status >= 500
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_time_dot_body() {
        // Computed independently: `printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec`.
        let s = signature("whsec", 42, 1_700_000_000, r#"{"a":1}"#);
        let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec").unwrap();
        mac.update(br#"1700000000.{"a":1}"#);
        let expected = hex::encode(mac.finalize().into_bytes());
        assert_eq!(s, format!("t=1700000000,id=42,sha256={expected}"));
    }

    #[test]
    fn retries_back_off_doubling_then_give_up() {
        assert_eq!(retry_after(1, None), Some(Duration::from_secs(5)));
        assert_eq!(retry_after(2, None), Some(Duration::from_secs(10)));
        assert_eq!(retry_after(9, None), Some(Duration::from_secs(1280)));
        assert_eq!(retry_after(MAX_ATTEMPTS, None), None);
        // A receiver's Retry-After is honoured, within the cap.
        assert_eq!(
            retry_after(1, Some(Duration::from_secs(30))),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after(1, Some(Duration::from_secs(86_400))),
            Some(MAX_DELAY)
        );
    }

    #[test]
    fn only_transient_statuses_are_retried() {
        for s in [408, 429, 500, 502, 503] {
            assert!(retryable(s), "{s}");
        }
        for s in [400, 401, 403, 404, 410] {
            assert!(!retryable(s), "{s}");
        }
    }

    #[test]
    fn bodies_carry_a_slack_text_and_the_structured_change() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let body = health_body(
            &HealthChange {
                connection_id: 7,
                connection_name: "ST main",
                provider: "servicetitan",
                from: "ACTIVE",
                to: "NEEDS_REAUTH",
                reason: Some("401 from upstream"),
            },
            at,
        );
        assert_eq!(
            body["text"],
            "pricebook-sync: connection \"ST main\" (servicetitan) needs re-authentication: reconnect it (401 from upstream). Was ACTIVE."
        );
        assert_eq!(body["health"]["to"], "NEEDS_REAUTH");
        assert_eq!(body["connection"]["id"], "7");
        let waiting = conflicts_body(
            &[Waiting {
                connection_id: 7,
                connection_name: "ST main".into(),
                count: 3,
            }],
            1440,
            at,
        );
        assert_eq!(
            waiting["text"],
            "pricebook-sync: 3 conflicts waiting longer than 24 h for review (ST main: 3)."
        );
        assert_eq!(waiting["conflicts"]["count"], 3);
    }
}
