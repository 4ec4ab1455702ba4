use async_graphql::{Enum, ID, Json, SimpleObject};
use entity::{alert_delivery, alert_target};

/// What an alert target is told about.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum AlertEvent {
    /// A connection's health changed: failing, needs re-authentication, schedule paused,
    /// recovered.
    ConnectionHealth,
    /// Open conflicts waited longer than the target's `conflictAgeMinutes`.
    ConflictsWaiting,
}

impl AlertEvent {
    pub fn name(self) -> &'static str {
        match self {
            AlertEvent::ConnectionHealth => crate::alerts::message::HEALTH,
            AlertEvent::ConflictsWaiting => crate::alerts::message::CONFLICTS,
        }
    }

    fn from_name(name: &str) -> Option<AlertEvent> {
        [AlertEvent::ConnectionHealth, AlertEvent::ConflictsWaiting]
            .into_iter()
            .find(|e| e.name() == name)
    }
}

/// A webhook that receives the account's alerts as signed JSON (Slack-compatible `text`).
/// The URL and the signing secret are stored encrypted and never returned.
#[derive(SimpleObject, Clone)]
pub struct AlertTarget {
    /// The target's id.
    pub id: ID,
    /// A name for people (e.g. `#ops Slack`).
    pub name: String,
    /// Scheme and host of the URL only (the rest of a webhook URL is often its secret).
    pub url: String,
    /// What it receives.
    pub events: Vec<AlertEvent>,
    /// Open conflicts older than this many minutes are alerted (once each).
    pub conflict_age_minutes: i32,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<alert_target::Model> for AlertTarget {
    fn from(m: alert_target::Model) -> Self {
        AlertTarget {
            id: m.id.into(),
            name: m.name,
            url: m.url_display,
            events: m
                .events
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e.as_str().and_then(AlertEvent::from_name))
                .collect(),
            conflict_age_minutes: m.conflict_age_minutes,
            created_at: m.created_at,
        }
    }
}

/// A created target with its signing secret, shown this once.
#[derive(SimpleObject)]
pub struct CreatedAlertTarget {
    /// The target.
    pub target: AlertTarget,
    /// The HMAC-SHA256 key of the `X-Pricebook-Signature` header; store it with the
    /// receiver. It cannot be read again.
    pub signing_secret: String,
}

/// Where a delivery stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum AlertDeliveryStatus {
    /// Not sent yet, or waiting for its next attempt (`nextAttemptAt`).
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up: a refusal that will not change (4xx) or every attempt failed.
    Failed,
}

/// One alert to one target: the delivery log.
#[derive(SimpleObject, Clone)]
pub struct AlertDelivery {
    /// The delivery's id (also the `id=` of its signature header).
    pub id: ID,
    /// The target it goes to.
    pub target_id: ID,
    /// The event name (`connection.health`, `conflicts.waiting`, `test`).
    pub event: String,
    /// Where it stands.
    pub status: AlertDeliveryStatus,
    /// Attempts made.
    pub attempts: i32,
    /// The receiver's HTTP status at the last attempt.
    pub last_status_code: Option<i32>,
    /// Why the last attempt failed (the receiver's body is never kept).
    pub last_error: Option<String>,
    /// The JSON body as sent.
    pub body: Json<serde_json::Value>,
    /// When the alert was raised.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When the receiver accepted it.
    pub delivered_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<alert_delivery::Model> for AlertDelivery {
    fn from(m: alert_delivery::Model) -> Self {
        use crate::store::alerts::{DELIVERED, PENDING};
        let status = match m.status.as_str() {
            PENDING => AlertDeliveryStatus::Pending,
            DELIVERED => AlertDeliveryStatus::Delivered,
            _ => AlertDeliveryStatus::Failed,
        };
        AlertDelivery {
            id: m.id.into(),
            target_id: m.target_id.into(),
            event: m.event,
            status,
            attempts: m.attempts,
            last_status_code: m.last_status_code,
            last_error: m.last_error,
            body: Json(serde_json::from_str(&m.body).unwrap_or_default()),
            created_at: m.created_at,
            next_attempt_at: (status == AlertDeliveryStatus::Pending).then_some(m.next_attempt_at),
            delivered_at: m.delivered_at,
        }
    }
}
