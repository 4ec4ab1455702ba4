//! A worker: claim a run, execute it with a heartbeat that renews the lease, persists
//! progress (throttled) and notices cancellation requested from any instance.

use super::{Inner, Jobs, MAX_ATTEMPTS};
use crate::store::{self, runs::Finish};
use crate::sync::progress::{Counters, Reporter};
use entity::enums::RunStatus;
use entity::sync_run;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const IDLE_POLL: Duration = Duration::from_millis(500);
const HEARTBEAT: Duration = Duration::from_millis(500);

pub(super) async fn run_loop(jobs: Jobs) {
    let inner = &jobs.inner;
    loop {
        if inner.shutdown.is_cancelled() {
            return;
        }
        let now = chrono::Utc::now();
        let lease_until = now + chrono::Duration::from_std(inner.lease).unwrap_or_default();
        match store::runs::claim(&inner.db, &inner.owner, now, lease_until).await {
            Ok(Some(run)) => process(inner, run).await,
            Ok(None) => {
                if let Ok(depth) = store::runs::queue_depth(&inner.db).await {
                    metrics::gauge!("sync_queue_depth").set(depth as f64);
                }
                tokio::select! {
                    _ = inner.wake.notified() => {}
                    _ = tokio::time::sleep(IDLE_POLL) => {}
                    _ = inner.shutdown.cancelled() => return,
                }
            }
            Err(e) => {
                tracing::warn!("claiming a run failed: {}", e.public_message());
                tokio::time::sleep(IDLE_POLL).await;
            }
        }
    }
}

async fn process(inner: &Inner, run: sync_run::Model) {
    if run.attempts > MAX_ATTEMPTS {
        let finish = Finish {
            status: RunStatus::Interrupted,
            stage: "interrupted: gave up after repeated crashes",
            counters: Counters::from(&run),
            summary: run.summary.clone(),
            error: Some((
                "INTERRUPTED".into(),
                format!(
                    "the run was taken over {} times without finishing",
                    run.attempts - 1
                ),
            )),
        };
        if let Ok(done) = crate::sync::health::finish_run(&inner.db, run.id, finish).await {
            inner.bus.publish(done, true);
        }
        return;
    }
    if run.attempts > 1 {
        tracing::info!(
            run_id = run.id,
            attempt = run.attempts,
            "resuming a run from its checkpoint"
        );
    }
    let cancel = CancellationToken::new();
    if run.cancel_requested {
        cancel.cancel();
    }
    inner.running.insert(run.id, cancel.clone());
    inner.bus.publish(run.clone(), true);
    let reporter = Arc::new(JobReporter {
        snapshot: Mutex::new((run.clone(), false)),
        bus: inner.bus.clone(),
    });
    let heartbeat = tokio::spawn(heartbeat_loop(
        inner.db.clone(),
        inner.owner.clone(),
        inner.lease,
        run.id,
        reporter.clone(),
        cancel.clone(),
    ));
    let started = std::time::Instant::now();
    let result =
        crate::sync::runner::execute(&inner.db, &inner.registry, &run, reporter.as_ref(), &cancel)
            .await;
    heartbeat.abort();
    inner.running.remove(&run.id);
    match result {
        Ok(done) => {
            metrics::counter!("sync_runs_finished_total", "status" => done.status.as_str())
                .increment(1);
            metrics::histogram!("sync_run_duration_seconds", "mode" => done.mode.as_str())
                .record(started.elapsed().as_secs_f64());
            if crate::sync::runner::finished_with_record_errors(&done) {
                metrics::counter!("sync_runs_with_record_errors_total", "mode" => done.mode.as_str())
                    .increment(1);
            }
            inner.bus.publish(done, true);
        }
        Err(e) => tracing::error!(
            run_id = run.id,
            "run could not be finished: {}",
            e.public_message()
        ),
    }
}

/// Publishes every change at once; the heartbeat persists the latest one.
struct JobReporter {
    /// The run as subscribers see it, and whether it changed since last persisted.
    snapshot: Mutex<(sync_run::Model, bool)>,
    bus: super::bus::Bus,
}

impl Reporter for JobReporter {
    fn progress(&self, stage: &str, percent: i32, c: &Counters) {
        let Ok(mut s) = self.snapshot.lock() else {
            return;
        };
        let run = &mut s.0;
        // Monotonic even when a resumed run's tracker starts again from zero.
        run.progress = run.progress.max(percent).min(99);
        run.stage = stage.to_owned();
        run.fetched = c.fetched;
        run.created = c.created;
        run.updated = c.updated;
        run.deleted = c.deleted;
        run.pushed = c.pushed;
        run.conflicts = c.conflicts;
        run.skipped = c.skipped;
        run.errors = c.errors;
        run.reimbursements = c.reimbursements;
        run.ledger_events = c.ledger_events;
        run.claims_detected = c.claims_detected;
        run.updated_at = chrono::Utc::now();
        s.1 = true;
        self.bus.publish(s.0.clone(), false);
    }
}

async fn heartbeat_loop(
    db: crate::store::Db,
    owner: String,
    lease: Duration,
    run_id: i64,
    reporter: Arc<JobReporter>,
    cancel: CancellationToken,
) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    loop {
        tick.tick().await;
        let pending = reporter.snapshot.lock().ok().and_then(|mut s| {
            if s.1 {
                s.1 = false;
                Some(s.0.clone())
            } else {
                None
            }
        });
        if let Some(run) = pending {
            let c = Counters::from(&run);
            if let Err(e) =
                store::runs::save_progress(&db, run_id, Some(&owner), &run.stage, run.progress, &c)
                    .await
            {
                tracing::warn!(run_id, "saving progress failed: {}", e.public_message());
            }
        }
        let lease_until =
            chrono::Utc::now() + chrono::Duration::from_std(lease).unwrap_or_default();
        match store::runs::heartbeat(&db, run_id, &owner, lease_until).await {
            Ok(Some(true)) | Ok(None) => cancel.cancel(),
            Ok(Some(false)) => {}
            Err(e) => tracing::warn!(run_id, "heartbeat failed: {}", e.public_message()),
        }
    }
}
