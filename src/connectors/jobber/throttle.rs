//! Jobber's query-cost leaky bucket as we last saw it. Every answer reports what is left
//! and how fast it refills; before a query that would not fit we wait exactly until it
//! does (`(needed - available) / restoreRate`), instead of sending it to be refused.

use super::wire::ThrottleStatus;
use std::time::{Duration, Instant};

/// The last reported bucket state and when it was reported.
#[derive(Debug, Clone, Copy, Default)]
pub struct CostBucket {
    last: Option<(ThrottleStatus, Instant)>,
}

impl CostBucket {
    pub fn observe(&mut self, status: ThrottleStatus, at: Instant) {
        self.last = Some((status, at));
    }

    /// Points available at `now`: the reported amount plus what refilled since, capped.
    pub fn available_at(&self, now: Instant) -> Option<f64> {
        let (s, at) = self.last?;
        let refilled = now.saturating_duration_since(at).as_secs_f64() * s.restore_rate;
        Some((s.currently_available + refilled).min(s.maximum_available))
    }

    /// How long to wait before a query costing `needed` fits (zero when it already does or
    /// when nothing is known yet). A query larger than the whole bucket waits for a full one.
    pub fn wait_for(&self, needed: f64, now: Instant) -> Duration {
        let (Some((s, _)), Some(available)) = (self.last, self.available_at(now)) else {
            return Duration::ZERO;
        };
        wait_seconds(needed.min(s.maximum_available), available, s.restore_rate)
    }
}

/// `(needed - available) / restore_rate` seconds, never negative; no refill means no wait
/// we could compute (the caller's retry budget takes over).
pub fn wait_seconds(needed: f64, available: f64, restore_rate: f64) -> Duration {
    if needed <= available || restore_rate <= 0.0 || !restore_rate.is_finite() {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(((needed - available) / restore_rate).min(3600.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(available: f64) -> ThrottleStatus {
        ThrottleStatus {
            maximum_available: 10_000.0,
            currently_available: available,
            restore_rate: 500.0,
        }
    }

    #[test]
    fn waits_exactly_for_the_missing_points() {
        assert_eq!(wait_seconds(1_000.0, 0.0, 500.0), Duration::from_secs(2));
        assert_eq!(
            wait_seconds(600.0, 350.0, 500.0),
            Duration::from_millis(500)
        );
        assert_eq!(wait_seconds(100.0, 350.0, 500.0), Duration::ZERO);
        assert_eq!(wait_seconds(100.0, 0.0, 0.0), Duration::ZERO);
    }

    #[test]
    fn refill_since_the_report_counts() {
        let t0 = Instant::now();
        let mut b = CostBucket::default();
        assert_eq!(b.wait_for(5_000.0, t0), Duration::ZERO, "unknown: no wait");
        b.observe(status(0.0), t0);
        assert_eq!(b.wait_for(1_000.0, t0), Duration::from_secs(2));
        let later = t0 + Duration::from_secs(1);
        assert_eq!(b.available_at(later), Some(500.0));
        assert_eq!(b.wait_for(1_000.0, later), Duration::from_secs(1));
        let much_later = t0 + Duration::from_secs(100);
        assert_eq!(b.available_at(much_later), Some(10_000.0), "capped");
        assert_eq!(b.wait_for(1_000.0, much_later), Duration::ZERO);
    }

    #[test]
    fn a_query_bigger_than_the_bucket_waits_for_a_full_one() {
        let t0 = Instant::now();
        let mut b = CostBucket::default();
        b.observe(status(9_000.0), t0);
        assert_eq!(b.wait_for(50_000.0, t0), Duration::from_secs(2));
    }
}
