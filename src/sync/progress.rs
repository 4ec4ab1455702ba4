//! How a run tells the outside world where it is: counters, stage, percent.

use serde::{Deserialize, Serialize};
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub fetched: i64,
    pub created: i64,
    pub updated: i64,
    pub deleted: i64,
    pub pushed: i64,
    pub conflicts: i64,
    pub skipped: i64,
    pub errors: i64,
    /// Amazon recoveries: reimbursement report lines read.
    #[serde(default)]
    pub reimbursements: i64,
    /// Amazon recoveries: inventory-ledger rows read.
    #[serde(default)]
    pub ledger_events: i64,
    /// Amazon recoveries: claims detected for the first time.
    #[serde(default)]
    pub claims_detected: i64,
}

impl Counters {
    pub fn add(&mut self, o: &Counters) {
        self.fetched += o.fetched;
        self.created += o.created;
        self.updated += o.updated;
        self.deleted += o.deleted;
        self.pushed += o.pushed;
        self.conflicts += o.conflicts;
        self.skipped += o.skipped;
        self.errors += o.errors;
        self.reimbursements += o.reimbursements;
        self.ledger_events += o.ledger_events;
        self.claims_detected += o.claims_detected;
    }
}

impl From<&entity::sync_run::Model> for Counters {
    /// The counters a run row holds.
    fn from(r: &entity::sync_run::Model) -> Self {
        Counters {
            fetched: r.fetched,
            created: r.created,
            updated: r.updated,
            deleted: r.deleted,
            pushed: r.pushed,
            conflicts: r.conflicts,
            skipped: r.skipped,
            errors: r.errors,
            reimbursements: r.reimbursements,
            ledger_events: r.ledger_events,
            claims_detected: r.claims_detected,
        }
    }
}

/// A per-record problem or notable step, stored as a `sync_events` row.
#[derive(Debug, Clone)]
pub struct RunEvent {
    pub level: entity::enums::EventLevel,
    pub kind: String,
    pub item_id: Option<i64>,
    pub remote_id: Option<String>,
    pub code: Option<String>,
    pub message: String,
    pub details: serde_json::Value,
}

impl RunEvent {
    pub fn error(kind: &str, message: impl Into<String>) -> Self {
        RunEvent {
            level: entity::enums::EventLevel::Error,
            kind: kind.into(),
            item_id: None,
            remote_id: None,
            code: None,
            message: message.into(),
            details: serde_json::Value::Null,
        }
    }

    pub fn info(kind: &str, message: impl Into<String>) -> Self {
        RunEvent {
            level: entity::enums::EventLevel::Info,
            ..Self::error(kind, message)
        }
    }

    pub fn for_record(
        mut self,
        item_id: Option<i64>,
        remote_id: Option<&str>,
        code: Option<&str>,
    ) -> Self {
        self.item_id = item_id;
        self.remote_id = remote_id.map(str::to_owned);
        self.code = code.map(str::to_owned);
        self
    }
}

/// Receives progress; the job system persists and broadcasts it, the CLI draws a bar.
pub trait Reporter: Send + Sync {
    fn progress(&self, stage: &str, percent: i32, counters: &Counters);
}

/// A reporter that only remembers the last state (tests, single-record syncs).
#[derive(Default)]
pub struct LastState(pub Mutex<(String, i32, Counters)>);

impl Reporter for LastState {
    fn progress(&self, stage: &str, percent: i32, counters: &Counters) {
        if let Ok(mut s) = self.0.lock() {
            *s = (stage.to_owned(), percent, *counters);
        }
    }
}

/// Tracks totals across concurrently synced entity types and turns them into a percent
/// that only ever grows.
pub struct Tracker<'a> {
    reporter: &'a dyn Reporter,
    state: Mutex<TrackerState>,
}

struct TrackerState {
    counters: Counters,
    expected: u64,
    percent: i32,
    stage: String,
    /// Percent a complete listing reaches (90 unless a later stage needs room).
    listing_ceiling: i32,
}

impl<'a> Tracker<'a> {
    pub fn new(reporter: &'a dyn Reporter) -> Self {
        Self::resume(reporter, Counters::default())
    }

    /// A tracker continuing from what earlier attempts of the run counted (its checkpoint).
    pub fn resume(reporter: &'a dyn Reporter, counters: Counters) -> Self {
        Tracker {
            reporter,
            state: Mutex::new(TrackerState {
                counters,
                expected: 0,
                percent: 0,
                stage: String::new(),
                listing_ceiling: 90,
            }),
        }
    }

    /// Makes a complete listing reach `percent` instead of 90 (stages that follow it fill
    /// the rest through [`Tracker::stage`]).
    pub fn set_listing_ceiling(&self, percent: i32) {
        if let Ok(mut s) = self.state.lock() {
            s.listing_ceiling = percent.clamp(0, 90);
        }
    }

    pub fn expect(&self, records: u64) {
        if let Ok(mut s) = self.state.lock() {
            s.expected += records;
        }
    }

    /// Adds a page's counters; listing and applying fill 0–90 %.
    pub fn page_done(&self, stage: &str, delta: &Counters) {
        self.update(stage, delta, None);
    }

    /// Sets an explicit floor (e.g. 90 when pushing starts); never reaches 100 here —
    /// 100 is for the job system once the run is recorded as finished.
    pub fn stage(&self, stage: &str, percent: i32) {
        self.update(stage, &Counters::default(), Some(percent));
    }

    pub fn add(&self, delta: &Counters) {
        self.update("", delta, None);
    }

    fn update(&self, stage: &str, delta: &Counters, floor: Option<i32>) {
        let Ok(mut s) = self.state.lock() else { return };
        s.counters.add(delta);
        if !stage.is_empty() {
            s.stage = stage.to_owned();
        }
        let listed = if s.expected > 0 {
            ((s.counters.fetched as f64 / s.expected as f64).min(1.0) * s.listing_ceiling as f64)
                as i32
        } else {
            s.percent
        };
        s.percent = s.percent.max(listed).max(floor.unwrap_or(0)).min(99);
        self.reporter.progress(&s.stage, s.percent, &s.counters);
    }

    pub fn counters(&self) -> Counters {
        self.state.lock().map(|s| s.counters).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_tracker_continues_from_the_checkpoints_counters_and_percent() {
        let last = LastState::default();
        let before = Counters {
            fetched: 810,
            created: 800,
            ..Default::default()
        };
        let t = Tracker::resume(&last, before);
        t.expect(1_000);
        t.page_done(
            "fetching materials page 18",
            &Counters {
                fetched: 50,
                created: 50,
                ..Default::default()
            },
        );
        let (stage, percent, counters) = last.0.lock().unwrap().clone();
        assert_eq!(stage, "fetching materials page 18");
        assert_eq!((counters.fetched, counters.created), (860, 850));
        assert_eq!(
            percent, 77,
            "86 % of the listing's 90, not the 5 % this attempt did"
        );
    }
}
