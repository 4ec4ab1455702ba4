//! Pruning old run history in the background: hourly, runs (and their events) that ended
//! longer ago than the retention age go, except what `store::retention` keeps. Several
//! instances pruning at once delete the same rows at most once.

use super::Jobs;
use crate::error::AppResult;
use crate::store::{self, Db, retention::Pruned};
use std::time::Duration;

/// How often the history is pruned.
const EVERY: Duration = Duration::from_secs(3600);
/// First pass after start, out of the way of start-up work.
const FIRST_AFTER: Duration = Duration::from_secs(60);

/// One pass: prunes what ended before `now - age`.
pub async fn prune_once(
    db: &Db,
    now: chrono::DateTime<chrono::Utc>,
    age: chrono::Duration,
) -> AppResult<Pruned> {
    let pruned = store::retention::prune(db, now - age).await?;
    // The alert delivery log ages out with the run history (pending deliveries stay).
    store::alerts::prune_deliveries(db, now - age).await?;
    if pruned.runs > 0 {
        tracing::info!(
            runs = pruned.runs,
            events = pruned.events,
            "pruned run history older than {} days",
            age.num_days()
        );
    }
    Ok(pruned)
}

impl Jobs {
    /// Starts the pruning loop; `None` keeps history forever.
    pub fn start_retention(&self, age: Option<chrono::Duration>) {
        let Some(age) = age else { return };
        let jobs = self.clone();
        tokio::spawn(async move {
            let mut next = tokio::time::Instant::now() + FIRST_AFTER;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(next) => {}
                    _ = jobs.inner.shutdown.cancelled() => return,
                }
                if let Err(e) = prune_once(&jobs.inner.db, chrono::Utc::now(), age).await {
                    tracing::warn!("pruning run history failed: {}", e.public_message());
                }
                next += EVERY;
            }
        });
    }
}
