//! Executes one `sync_runs` row end to end: connector, engine, outcome recorded.
//! Shared by the foreground CLI and the background workers.

use super::engine::{self, Checkpoint, RunSpec};
use super::progress::Reporter;
use crate::connectors::registry::Registry;
use crate::error::{AppError, AppResult};
use crate::store::{self, Db, runs::Finish};
use entity::enums::RunStatus;
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
}

pub async fn execute(
    db: &Db,
    registry: &Registry,
    run: &sync_run::Model,
    reporter: &dyn Reporter,
    cancel: &CancellationToken,
) -> AppResult<sync_run::Model> {
    let result = execute_inner(db, registry, run, reporter, cancel).await;
    let finish = match result {
        Ok(outcome) => Finish {
            status: RunStatus::Succeeded,
            stage: if run.dry_run {
                "dry run finished"
            } else {
                "finished"
            },
            counters: outcome.counters,
            summary: outcome.summary,
            error: None,
        },
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
                summary: serde_json::json!({}),
                error: Some((err.code().to_owned(), err.public_message())),
            }
        }
    };
    store::runs::finish(db, run.id, finish).await
}

type Failure = (AppError, super::progress::Counters);

async fn execute_inner(
    db: &Db,
    registry: &Registry,
    run: &sync_run::Model,
    reporter: &dyn Reporter,
    cancel: &CancellationToken,
) -> Result<engine::Outcome, Failure> {
    let fail = |e: AppError| (e, Default::default());
    let connection = store::connections::get_unscoped(db, run.connection_id)
        .await
        .map_err(fail)?;
    let connector = registry
        .connector_for(db, &connection)
        .await
        .map_err(fail)?;
    let params: RunParams = serde_json::from_value(run.params.clone()).unwrap_or_default();
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
        checkpoint,
    };
    let counters = std::sync::Arc::new(std::sync::Mutex::new(super::progress::Counters::default()));
    let recorder = Recording {
        inner: reporter,
        last: counters.clone(),
    };
    let failed = |e| (e, counters.lock().map(|c| *c).unwrap_or_default());
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

/// Remembers the last counters so a failed run still records what it did.
struct Recording<'a> {
    inner: &'a dyn Reporter,
    last: std::sync::Arc<std::sync::Mutex<super::progress::Counters>>,
}

impl Reporter for Recording<'_> {
    fn progress(&self, stage: &str, percent: i32, counters: &super::progress::Counters) {
        if let Ok(mut c) = self.last.lock() {
            *c = *counters;
        }
        self.inner.progress(stage, percent, counters);
    }
}
