//! Executes one `sync_runs` row end to end: connector, engine, outcome recorded.
//! Shared by the foreground CLI and the background workers.

use super::engine::{self, Checkpoint, RunSpec};
use super::progress::Reporter;
use crate::connectors::registry::Registry;
use crate::error::{AppError, AppResult};
use crate::store::{self, Db, runs::Finish};
use entity::enums::{RunMode, RunStatus};
use entity::sync_run;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

/// What a run is limited to, stored in `sync_runs.params`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunParams {
    #[serde(default)]
    pub entity_types: Vec<String>,
    #[serde(default)]
    pub remote_ids: Vec<String>,
    #[serde(default)]
    pub codes: Vec<String>,
    /// A `resolve` run: the conflicts and how to resolve them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflict_ids: Vec<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<entity::enums::Resolution>,
    /// A policy preview (dry runs only): the proposed `sync_policy` to run under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<serde_json::Value>,
    /// An incremental run that re-reads everything modified at or after this instant
    /// instead of continuing from the stored cursor (which it leaves where it was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
}

pub async fn execute(
    db: &Db,
    registry: &Registry,
    run: &sync_run::Model,
    reporter: &dyn Reporter,
    cancel: &CancellationToken,
) -> AppResult<sync_run::Model> {
    let result = execute_inner(db, registry, run, reporter, cancel).await;
    let result = keep_import_figures(run, result);
    let finished_stage;
    let finish = match result {
        Ok(outcome) => {
            finished_stage = finished_stage_of(run.dry_run, outcome.counters.errors);
            Finish {
                status: RunStatus::Succeeded,
                stage: &finished_stage,
                counters: outcome.counters,
                summary: outcome.summary,
                error: None,
            }
        }
        Err((err, counters)) => {
            let status = if matches!(err, AppError::Cancelled(_)) {
                RunStatus::Cancelled
            } else {
                RunStatus::Failed
            };
            let stage = match &err {
                AppError::Cancelled(_) => "cancelled",
                AppError::RateLimited(_) => "stopped early: rate limited, continues next run",
                _ => "failed",
            };
            tracing::warn!(
                run_id = run.id,
                code = err.code(),
                "run ended: {}",
                err.public_message()
            );
            Finish {
                status,
                stage,
                counters,
                summary: if run.mode == RunMode::CsvImport {
                    run.summary.clone()
                } else {
                    serde_json::json!({})
                },
                error: Some((err.code().to_owned(), err.public_message())),
            }
        }
    };
    super::health::finish_run(db, run.id, finish).await
}

/// The final stage text: a run that skipped records it could not handle says so.
fn finished_stage_of(dry_run: bool, errors: i64) -> String {
    let done = if dry_run {
        "dry run finished"
    } else {
        "finished"
    };
    match errors {
        0 => done.to_owned(),
        1 => format!("{done} with 1 record error"),
        n => format!("{done} with {n} record errors"),
    }
}

/// A run that succeeded as a whole but skipped records it could not handle (each is a
/// run event). Told apart from a clean run without a new `SyncStatus` value, which
/// existing clients switch on.
pub fn finished_with_record_errors(run: &sync_run::Model) -> bool {
    run.status == RunStatus::Succeeded && run.errors > 0
}

type Failure = (AppError, super::progress::Counters);

/// A CSV import's run keeps what the import recorded (its summary and counters) and
/// adds what the push did.
fn keep_import_figures(
    run: &sync_run::Model,
    result: Result<engine::Outcome, Failure>,
) -> Result<engine::Outcome, Failure> {
    if run.mode != RunMode::CsvImport {
        return result;
    }
    let base = super::csv::import::import_counters(&run.summary);
    let with_base = |mut c: super::progress::Counters| {
        c.add(&base);
        c
    };
    match result {
        Ok(outcome) => {
            let mut summary = run.summary.clone();
            summary["push"] = outcome.summary;
            Ok(engine::Outcome {
                counters: with_base(outcome.counters),
                summary,
            })
        }
        Err((e, counters)) => Err((e, with_base(counters))),
    }
}

async fn execute_inner(
    db: &Db,
    registry: &Registry,
    run: &sync_run::Model,
    reporter: &dyn Reporter,
    cancel: &CancellationToken,
) -> Result<engine::Outcome, Failure> {
    let fail = |e: AppError| (e, Default::default());
    // A vendor feed downloads a file; it needs no connector.
    if run.mode == RunMode::VendorFeed {
        return super::feeds::run(db, registry.secrets(), run, reporter, cancel).await;
    }
    let mut connection = store::connections::get_unscoped(db, run.connection_id)
        .await
        .map_err(fail)?;
    let connector = registry
        .connector_for(db, &connection)
        .await
        .map_err(fail)?;
    let params: RunParams = serde_json::from_value(run.params.clone()).unwrap_or_default();
    if run.mode == entity::enums::RunMode::Resolve {
        return bulk_resolve(db, registry, run, &params, reporter, cancel).await;
    }
    if run.dry_run
        && let Some(proposed) = &params.policy
    {
        connection.sync_policy = proposed.clone();
    }
    let checkpoint: Checkpoint = serde_json::from_value(run.checkpoint.clone()).unwrap_or_default();
    let spec = RunSpec {
        run_id: run.id,
        account_id: run.account_id,
        connection,
        mode: run.mode,
        dry_run: run.dry_run,
        entity_types: params.entity_types,
        remote_ids: params.remote_ids,
        codes: params.codes,
        since: params.since,
        checkpoint,
    };
    let base = if run.mode == RunMode::CsvImport {
        super::csv::import::import_counters(&run.summary)
    } else {
        Default::default()
    };
    let recorder = Recording::new(reporter, base);
    let failed = |e| (e, recorder.counters());
    // A ShipHero connection with `config.source` is a route (Fulfil → ShipHero).
    if let Some(source) = super::route::source_of(&spec.connection) {
        let source = source.map_err(fail)?;
        return super::route::run(db, registry, &spec, source, &recorder, cancel)
            .await
            .map_err(failed);
    }
    engine::run(db, connector.as_ref(), &spec, &recorder, cancel)
        .await
        .map_err(failed)
}

async fn bulk_resolve(
    db: &Db,
    registry: &Registry,
    run: &sync_run::Model,
    params: &RunParams,
    reporter: &dyn Reporter,
    cancel: &CancellationToken,
) -> Result<engine::Outcome, Failure> {
    let resolution = params.resolution.ok_or_else(|| {
        (
            AppError::bad_input("resolve run without a resolution"),
            Default::default(),
        )
    })?;
    let recorder = Recording::new(reporter, Default::default());
    let done = super::conflicts::run_bulk(
        db,
        registry,
        run,
        &params.conflict_ids,
        resolution,
        &recorder,
        cancel,
    )
    .await
    .map_err(|e| (e, recorder.counters()))?;
    Ok(engine::Outcome {
        counters: done,
        summary: serde_json::json!({
            "resolution": resolution.as_str(),
            "conflicts": params.conflict_ids.len(),
            "resolved": done.updated,
            "stale": done.conflicts,
            "failed": done.errors,
        }),
    })
}

/// Remembers the last counters so a failed run still records what it did.
struct Recording<'a> {
    inner: &'a dyn Reporter,
    last: std::sync::Arc<std::sync::Mutex<super::progress::Counters>>,
    /// Shown under the run's own counters (a CSV import's figures while it pushes).
    base: super::progress::Counters,
}

impl<'a> Recording<'a> {
    fn new(inner: &'a dyn Reporter, base: super::progress::Counters) -> Self {
        Recording {
            inner,
            last: Default::default(),
            base,
        }
    }

    /// What the run had done when it stopped.
    fn counters(&self) -> super::progress::Counters {
        self.last.lock().map(|c| *c).unwrap_or_default()
    }
}

impl Reporter for Recording<'_> {
    fn progress(&self, stage: &str, percent: i32, counters: &super::progress::Counters) {
        if let Ok(mut c) = self.last.lock() {
            *c = *counters;
        }
        let mut shown = *counters;
        shown.add(&self.base);
        self.inner.progress(stage, percent, &shown);
    }
}
