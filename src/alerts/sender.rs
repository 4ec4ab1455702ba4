//! The background sender: every second, due outbox rows are claimed (one instance each),
//! signed and POSTed; the outcome is written back as delivered, a retry with backoff, or
//! failed. Every few seconds the conflict-age check runs too.

use super::message::{self, SIGNATURE_HEADER};
use crate::auth::secrets::SecretBox;
use crate::error::AppResult;
use crate::store::{self, Db, alerts::Attempt};
use chrono::Utc;
use entity::alert_delivery;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often due deliveries are looked for.
const POLL: Duration = Duration::from_secs(1);
/// How often the conflict-age check runs.
const CONFLICT_CHECK_EVERY: u32 = 5;
/// Deliveries sent per pass.
const BATCH: u64 = 50;
/// A receiver gets this long to answer; a claim outlives it.
const TIMEOUT: Duration = Duration::from_secs(10);
const CLAIM_FOR: chrono::Duration = chrono::Duration::seconds(60);

pub struct Sender {
    db: Db,
    secrets: SecretBox,
    client: reqwest::Client,
}

impl Sender {
    pub fn new(db: Db, secrets: SecretBox) -> Sender {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            // A redirect could send the signed body somewhere the admin did not choose.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("pricebook-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("static HTTP client settings");
        Sender {
            db,
            secrets,
            client,
        }
    }

    /// Runs until `stop`.
    pub fn start(self, stop: CancellationToken) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(POLL);
            let mut passes: u32 = 0;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.cancelled() => return,
                }
                if passes.is_multiple_of(CONFLICT_CHECK_EVERY)
                    && let Err(e) = super::check_waiting_conflicts(&self.db, Utc::now()).await
                {
                    tracing::warn!("conflict-age alert check failed: {}", e.public_message());
                }
                passes = passes.wrapping_add(1);
                if let Err(e) = self.send_due().await {
                    tracing::warn!("sending alerts failed: {}", e.public_message());
                }
            }
        });
    }

    /// One pass: sends what is due now; the number of deliveries attempted.
    pub async fn send_due(&self) -> AppResult<usize> {
        let now = Utc::now();
        let mut sent = 0;
        for delivery in store::alerts::due(&self.db, now, BATCH).await? {
            if !store::alerts::claim(&self.db, &delivery, now + CLAIM_FOR).await? {
                continue;
            }
            let attempt = self.attempt(&delivery).await;
            store::alerts::finish(&self.db, &delivery, attempt).await?;
            sent += 1;
        }
        Ok(sent)
    }

    async fn attempt(&self, delivery: &alert_delivery::Model) -> Attempt {
        let attempts = delivery.attempts + 1;
        let target = match store::alerts::get_target(
            &self.db,
            delivery.account_id,
            delivery.target_id,
        )
        .await
        {
            Ok(t) => t,
            Err(e) => return give_up_or_retry(attempts, None, e.public_message(), None),
        };
        let secret = match store::alerts::open_secret(&self.secrets, &target) {
            Ok(s) => s,
            Err(e) => {
                return Attempt::Failed {
                    status: None,
                    error: e.public_message(),
                };
            }
        };
        let now = Utc::now().timestamp();
        let signature =
            message::signature(&secret.signing_secret, delivery.id, now, &delivery.body);
        let sent = self
            .client
            .post(&secret.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header("x-pricebook-event", &delivery.event)
            .header("x-pricebook-delivery", delivery.id.to_string())
            .body(delivery.body.clone())
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            // Without the URL: a webhook URL's path is its secret.
            Err(e) => return give_up_or_retry(attempts, None, e.without_url().to_string(), None),
        };
        let status = response.status().as_u16();
        if response.status().is_success() {
            metrics::counter!("alert_deliveries_total", "outcome" => "delivered").increment(1);
            return Attempt::Delivered { status };
        }
        // The receiver's body is never kept: it may echo what it was sent.
        let error = format!("the receiver answered HTTP {status}");
        if !message::retryable(status) {
            metrics::counter!("alert_deliveries_total", "outcome" => "failed").increment(1);
            return Attempt::Failed {
                status: Some(status),
                error,
            };
        }
        let asked = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        give_up_or_retry(attempts, Some(status), error, asked)
    }
}

fn give_up_or_retry(
    attempts: i32,
    status: Option<u16>,
    error: String,
    asked: Option<Duration>,
) -> Attempt {
    match message::retry_after(attempts, asked) {
        Some(wait) => {
            metrics::counter!("alert_deliveries_total", "outcome" => "retried").increment(1);
            Attempt::Retry {
                status,
                error,
                at: Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default(),
            }
        }
        None => {
            metrics::counter!("alert_deliveries_total", "outcome" => "failed").increment(1);
            Attempt::Failed { status, error }
        }
    }
}
