//! Background sync jobs: a queue of `sync_runs` rows claimed by workers with a lease,
//! progress on a bus (and on the row, throttled), cancellation, crash resume, schedules
//! (connections' and vendor feeds'), and pruning of old run history.

pub mod bus;
mod feeds;
pub mod retention;
pub mod schedule;
mod worker;

use crate::connectors::registry::Registry;
use crate::error::{AppError, AppResult};
use crate::store::{self, Db, runs::NewRun};
use crate::sync::runner::RunParams;
use bus::Bus;
use dashmap::DashMap;
use entity::enums::{RunMode, RunStatus, RunTrigger};
use entity::sync_run;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How long a claimed run stays ours without a heartbeat; a crashed worker's run is
/// taken over after this.
pub const LEASE: Duration = Duration::from_secs(20);
/// A run taken over this many times (crashes) is given up as `interrupted`.
pub const MAX_ATTEMPTS: i32 = 3;

#[derive(Clone)]
pub struct Jobs {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    registry: Registry,
    bus: Bus,
    owner: String,
    wake: Notify,
    running: DashMap<i64, CancellationToken>,
    shutdown: CancellationToken,
    lease: Duration,
}

/// What `startSync` asks for.
#[derive(Debug, Clone)]
pub struct StartRequest {
    pub mode: RunMode,
    pub params: RunParams,
    pub dry_run: bool,
    pub trigger: RunTrigger,
    pub requested_by: Option<i64>,
    /// Cancel an active run and start this one instead.
    pub force: bool,
}

impl Jobs {
    pub fn new(db: Db, registry: Registry) -> Self {
        Self::with_lease(db, registry, LEASE)
    }

    pub fn with_lease(db: Db, registry: Registry, lease: Duration) -> Self {
        let owner = format!("{}-{}", hostname(), uuid::Uuid::new_v4().simple());
        let bus = match db.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                Bus::bridged(db.get_postgres_connection_pool().clone(), owner.clone())
            }
            _ => Bus::new(),
        };
        Jobs {
            inner: Arc::new(Inner {
                db,
                registry,
                bus,
                owner,
                wake: Notify::new(),
                running: DashMap::new(),
                shutdown: CancellationToken::new(),
                lease,
            }),
        }
    }

    pub fn bus(&self) -> &Bus {
        &self.inner.bus
    }

    /// Starts `workers` worker loops and, with `scheduler`, the schedule loop.
    pub fn start(&self, workers: usize, scheduler: bool) {
        // Zero workers: this instance serves the API and schedules, others execute.
        for _ in 0..workers {
            let jobs = self.clone();
            tokio::spawn(async move { worker::run_loop(jobs).await });
        }
        if scheduler {
            let jobs = self.clone();
            tokio::spawn(async move { schedule::run_loop(jobs).await });
        }
    }

    /// Cancelled at shutdown: for other background loops to stop with the jobs.
    pub fn stopping(&self) -> CancellationToken {
        self.inner.shutdown.clone()
    }

    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
    }

    /// Enqueues a run and returns at once; `(run, already_running)`.
    pub async fn start_sync(
        &self,
        account_id: i64,
        connection_id: i64,
        req: StartRequest,
    ) -> AppResult<(sync_run::Model, bool)> {
        let connection = store::connections::get(&self.inner.db, account_id, connection_id).await?;
        validate(&req, connection.provider)?;
        crate::sync::health::check_connected(&connection)?;
        let active = if req.force {
            store::runs::active_runs_for_connection(&self.inner.db, connection.id).await?
        } else {
            Vec::new()
        };
        for active in active {
            store::runs::force_cancel(&self.inner.db, active.id).await?;
            if let Some(token) = self.inner.running.get(&active.id) {
                token.cancel();
            }
            if let Ok(run) = store::runs::get(&self.inner.db, account_id, active.id).await {
                self.inner.bus.publish(run, true);
            }
        }
        let new = NewRun {
            account_id,
            connection_id: connection.id,
            mode: req.mode,
            trigger: req.trigger,
            dry_run: req.dry_run,
            params: serde_json::to_value(&req.params).map_err(AppError::internal)?,
            requested_by: req.requested_by,
            status: RunStatus::Queued,
        };
        self.enqueue(new).await
    }

    /// Queues a run unless its connection has an active one (then that one, `true`).
    async fn enqueue(&self, new: NewRun) -> AppResult<(sync_run::Model, bool)> {
        match store::runs::enqueue(&self.inner.db, new).await? {
            Ok(run) => {
                metrics::counter!("sync_runs_started_total", "mode" => run.mode.as_str(), "trigger" => run.trigger.as_str()).increment(1);
                self.inner.bus.publish(run.clone(), true);
                self.inner.wake.notify_one();
                Ok((run, false))
            }
            Err(active) => Ok((active, true)),
        }
    }

    /// Announces a run queued by someone else (a CSV import's push): subscribers see it
    /// and an idle worker picks it up now rather than at its next poll.
    pub fn announce_queued(&self, run: sync_run::Model) {
        self.inner.bus.publish(run, true);
        self.inner.wake.notify_one();
    }

    /// Push on save, after a local edit of `item_id` committed: each of its connections
    /// with `push_on_save` that may push it now gets the edit into a queued push run
    /// (joined, or newly queued; see [`store::runs::join_or_queue_push`]). Connections
    /// that must reconnect, are paused or do not push the link's entity type get none.
    /// Returns the runs, one per connection at most.
    pub async fn push_on_save(
        &self,
        account_id: i64,
        item_id: i64,
    ) -> AppResult<Vec<sync_run::Model>> {
        let db = &self.inner.db;
        let item = store::items::get(db, account_id, item_id).await?;
        let mut runs: Vec<sync_run::Model> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for link in store::links::of_item(db, account_id, item_id).await? {
            if !seen.insert(link.connection_id) {
                continue;
            }
            let connection = store::connections::get(db, account_id, link.connection_id).await?;
            if !crate::sync::push_on_save::queues_for(&connection, &link, &item) {
                seen.remove(&link.connection_id);
                continue;
            }
            let Some((run, new)) =
                store::runs::join_or_queue_push(db, account_id, connection.id).await?
            else {
                continue;
            };
            if new {
                metrics::counter!("sync_runs_started_total", "mode" => run.mode.as_str(), "trigger" => run.trigger.as_str()).increment(1);
                self.announce_queued(run.clone());
            }
            runs.push(run);
        }
        Ok(runs)
    }

    /// Cancels a queued run at once, or asks a running one to stop between pages.
    pub async fn cancel(&self, account_id: i64, run_id: i64) -> AppResult<sync_run::Model> {
        let run = store::runs::get(&self.inner.db, account_id, run_id).await?;
        if !run.status.is_active() {
            return Err(AppError::bad_input(format!(
                "run {run_id} already ended ({})",
                run.status.as_str()
            )));
        }
        store::runs::request_cancel(&self.inner.db, run_id).await?;
        if let Some(token) = self.inner.running.get(&run_id) {
            token.cancel();
        }
        let run = store::runs::get(&self.inner.db, account_id, run_id).await?;
        if run.status == RunStatus::Cancelled {
            self.inner.bus.publish(run.clone(), true);
        }
        Ok(run)
    }
}

/// Checks a request's mode and limits before anything is recorded (also the CLI's
/// usage check).
pub fn validate(req: &StartRequest, provider: entity::enums::Provider) -> AppResult<()> {
    // Fulfil and ShipHero sync products only: naming the entity type is optional.
    let one_entity = matches!(
        provider,
        entity::enums::Provider::Fulfil | entity::enums::Provider::ShipHero
    );
    match req.mode {
        RunMode::Entity if req.params.remote_ids.is_empty() && req.params.codes.is_empty() => {
            Err(AppError::bad_input("mode ENTITY needs remoteIds or codes"))
        }
        RunMode::Entity if req.params.entity_types.len() != 1 && !one_entity => Err(
            AppError::bad_input("mode ENTITY needs exactly one entity type in entityTypes"),
        ),
        RunMode::Full | RunMode::Incremental
            if !req.params.remote_ids.is_empty() || !req.params.codes.is_empty() =>
        {
            Err(AppError::bad_input(
                "remoteIds and codes go with mode ENTITY; FULL and INCREMENTAL sync everything",
            ))
        }
        _ if req.params.since.is_some() && req.mode != RunMode::Incremental => {
            Err(AppError::bad_input("since goes with mode INCREMENTAL"))
        }
        _ if req.params.since.is_some()
            && !crate::connectors::filters_by_modified_time(provider) =>
        {
            Err(AppError::bad_input(format!(
                "{} cannot list by modification time: since is not supported",
                provider.as_str()
            )))
        }
        RunMode::CsvImport => Err(AppError::bad_input("CSV imports start with uploadCsv")),
        RunMode::VendorFeed => Err(AppError::bad_input(
            "vendor feeds start with startVendorFeed or their schedule",
        )),
        RunMode::Resolve if req.params.conflict_ids.is_empty() => Err(AppError::bad_input(
            "bulk resolutions start with resolveConflicts",
        )),
        _ if req.params.remote_ids.len() + req.params.codes.len() > 500 => Err(
            AppError::bad_input("at most 500 remoteIds and codes per run"),
        ),
        _ => Ok(()),
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "pricebook".into())
}
