//! Outgoing alerts: when a connection's health changes and when conflicts wait too long,
//! a signed JSON body goes to each of the account's webhook targets that asked for it.
//!
//! Raising an alert only writes an outbox row (`store::alerts`), in the transaction that
//! caused it: a run or a request never waits on a receiver, and an alert is sent iff its
//! cause committed. [`sender`] drains the outbox in the background, once across instances,
//! with retries and backoff; the rows are the delivery log.

pub mod message;
pub mod sender;

use crate::error::{AppError, AppResult};
use crate::store;
use chrono::{DateTime, Utc};
use entity::connection;
use message::{HealthChange, Waiting};
use reqwest::Url;
use sea_orm::ConnectionTrait;

/// Queues a health-change alert for every target of the account that wants one.
pub async fn health_changed(
    db: &impl ConnectionTrait,
    conn: &connection::Model,
    from: &str,
    to: &str,
    reason: Option<&str>,
) -> AppResult<()> {
    let targets = store::alerts::targets(db, conn.account_id).await?;
    let wanted: Vec<_> = targets
        .iter()
        .filter(|t| store::alerts::wants(t, message::HEALTH))
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let body = message::health_body(
        &HealthChange {
            connection_id: conn.id,
            connection_name: &conn.name,
            provider: conn.provider.as_str(),
            from,
            to,
            reason,
        },
        Utc::now(),
    );
    for target in wanted {
        store::alerts::enqueue(db, target, message::HEALTH, &body).await?;
    }
    Ok(())
}

/// One pass of the conflict-age check at `now`: for each target, open conflicts that
/// crossed its threshold since its last pass make one alert. The target's mark moves by
/// compare-and-set, so with several instances each conflict is alerted once.
pub async fn check_waiting_conflicts(db: &store::Db, now: DateTime<Utc>) -> AppResult<usize> {
    let mut queued = 0;
    for target in store::alerts::all_targets_for(db, message::CONFLICTS).await? {
        let upto = now - chrono::Duration::minutes(target.conflict_age_minutes.into());
        let after = target.conflicts_alerted_until;
        if after.is_some_and(|a| a >= upto) {
            continue;
        }
        let txn = store::db::begin_write(db).await?;
        let counts =
            store::alerts::open_conflicts_between(&txn, target.account_id, after, upto).await?;
        if !store::alerts::move_conflict_mark(&txn, target.id, after, upto).await? {
            continue;
        }
        if !counts.is_empty() {
            let ids: Vec<i64> = counts.iter().map(|(id, _)| *id).collect();
            let names = store::alerts::connection_names(&txn, target.account_id, &ids).await?;
            let waiting: Vec<Waiting> = counts
                .into_iter()
                .map(|(connection_id, count)| Waiting {
                    connection_id,
                    connection_name: names
                        .get(&connection_id)
                        .cloned()
                        .unwrap_or_else(|| format!("connection {connection_id}")),
                    count,
                })
                .collect();
            let body = message::conflicts_body(&waiting, target.conflict_age_minutes, now);
            store::alerts::enqueue(&txn, &target, message::CONFLICTS, &body).await?;
            queued += 1;
        }
        txn.commit().await?;
    }
    Ok(queued)
}

/// A webhook URL as admins may give it: HTTPS, or http:// when the server allows it.
pub fn check_url(text: &str, allow_http: bool) -> AppResult<Url> {
    let url = Url::parse(text.trim())
        .map_err(|_| AppError::bad_input("url: not a valid absolute URL"))?;
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if allow_http && url.host().is_some() => Ok(url),
        "http" => Err(AppError::bad_input(
            "url: http:// alert URLs are off on this server (HTTPS only; see PRICEBOOK_INSECURE_ALERT_URLS)",
        )),
        other => Err(AppError::bad_input(format!(
            "url: unsupported scheme '{other}' (use https://)"
        ))),
    }
}

/// What users see of a webhook URL: scheme, host and port (a Slack URL's path is its key).
pub fn display_url(url: &Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str("/…");
    shown
}
