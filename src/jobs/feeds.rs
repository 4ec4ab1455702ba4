//! Vendor feeds on the scheduler's tick: a due feed's run is queued once across instances
//! (its last tick moves first, compare-and-set); when its connection is busy the tick is
//! given back, so the next pass tries again instead of skipping the day.

use super::Jobs;
use super::schedule::next_tick;
use crate::error::AppResult;
use crate::store;
use crate::sync::feeds;
use chrono::{DateTime, Utc};
use entity::enums::RunTrigger;
use entity::{sync_run, vendor_feed};

impl Jobs {
    /// Queues the feed runs due at `now` (public so tests can drive the clock).
    pub async fn feed_tick(&self, now: DateTime<Utc>) -> AppResult<Vec<i64>> {
        let mut started = Vec::new();
        for feed in store::vendor_feeds::enabled(&self.inner.db).await? {
            // One feed's trouble must not hold up the others.
            match self.feed_due(&feed, now).await {
                Ok(Some(run)) => started.push(run),
                Ok(None) => {}
                Err(e) => tracing::warn!(
                    feed_id = feed.id,
                    "scheduling the vendor feed failed: {}",
                    e.public_message()
                ),
            }
        }
        Ok(started)
    }

    /// Queues `feed` if a tick of its schedule is due and unclaimed; the run's id.
    async fn feed_due(
        &self,
        feed: &vendor_feed::Model,
        now: DateTime<Utc>,
    ) -> AppResult<Option<i64>> {
        let db = &self.inner.db;
        let connection = store::connections::get_unscoped(db, feed.connection_id).await?;
        let since = feed.last_tick_at.unwrap_or(feed.created_at);
        let Some(tick) = next_tick(&feed.schedule, &connection.time_zone, since) else {
            return Ok(None);
        };
        if tick > now
            || !store::vendor_feeds::move_tick(db, feed.id, feed.last_tick_at, Some(now)).await?
        {
            return Ok(None);
        }
        let (run, already) = self.start_feed(feed, RunTrigger::Schedule, None).await?;
        if already {
            // Busy with another run: due again at the next pass.
            store::vendor_feeds::move_tick(db, feed.id, Some(now), feed.last_tick_at).await?;
            return Ok(None);
        }
        Ok(Some(run.id))
    }

    /// Queues a run of `feed`; `(run, true)` when its connection already has an active run.
    pub async fn start_feed(
        &self,
        feed: &vendor_feed::Model,
        trigger: RunTrigger,
        requested_by: Option<i64>,
    ) -> AppResult<(sync_run::Model, bool)> {
        self.enqueue(feeds::new_run(feed, trigger, requested_by))
            .await
    }
}
