//! The scenarios. Each builds its own server (temp SQLite, or a fresh PostgreSQL
//! database under --database-url) with the emulator mounted, like `demo` does.

use super::compare::{Compare, POSTGRAPHILE_ITEMS_PAGE, PostGraphile};
use super::{Figures, peak_rss_mb, reset_peak_rss};
use crate::app::Application;
use crate::config::Settings;
use crate::jobs::StartRequest;
use crate::sandbox::faults::FaultKind;
use crate::sandbox::servicetitan::{Emulator, EmulatorConfig, SeedSpec};
use crate::state::AppState;
use crate::store::{self, connections::NewConnection};
use crate::sync::runner::RunParams;
use entity::enums::{Provider, RunMode, RunStatus, RunTrigger};
use hdrhistogram::Histogram;
use serde_json::json;
use std::time::{Duration, Instant};

struct Harness {
    state: AppState,
    address: String,
    account_id: i64,
    connection_id: i64,
    dir: tempfile::TempDir,
}

const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "bench-password";

async fn harness(base: &Settings) -> anyhow::Result<Harness> {
    harness_with(base, |_| {}).await
}

/// [`harness`] with the server's settings changed first.
async fn harness_with(
    base: &Settings,
    configure: impl FnOnce(&mut Settings),
) -> anyhow::Result<Harness> {
    let dir = tempfile::tempdir()?;
    let mut settings = Settings::for_dir(dir.path());
    configure(&mut settings);
    settings.admin_email = Some(EMAIL.into());
    settings.admin_password = Some(PASSWORD.into());
    settings.workers = 2;
    if let Some(url) = &base.database_url
        && url.starts_with("postgres")
    {
        use sea_orm::ConnectionTrait;
        let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(url).await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
        let (prefix, _) = url
            .rsplit_once('/')
            .ok_or_else(|| anyhow::anyhow!("--database-url must end with /dbname"))?;
        settings.database_url = Some(format!("{prefix}/{name}"));
    }
    let app = Application::build(settings).await?;
    let address = format!("http://{}", app.local_addr()?);
    let state = app.state.clone();
    tokio::spawn(app.run_until_stopped());
    let admin = store::users::find_by_email(&state.db, EMAIL)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no admin"))?;
    let new = NewConnection {
        provider: Provider::ServiceTitan,
        name: "bench".into(),
        config: json!({ "sandbox": true }),
        directions: crate::connectors::settings::default_directions(),
        secrets: None,
        time_zone: "UTC".into(),
        adoption_policy: entity::enums::AdoptionPolicy::Conflict,
        push_on_save: true,
    };
    let conn = store::connections::create(&state.db, &state.secrets, admin.account_id, new).await?;
    Ok(Harness {
        state,
        address,
        account_id: admin.account_id,
        connection_id: conn.id,
        dir,
    })
}

impl Harness {
    fn emulator(&self) -> &Emulator {
        &self
            .state
            .sandboxes
            .as_ref()
            .expect("sandbox on")
            .servicetitan
    }

    fn db_name(&self) -> String {
        store::db::backend_name(&self.state.db).to_owned()
    }

    /// Runs one sync through the job queue; returns (seconds, finished run).
    async fn sync(
        &self,
        mode: RunMode,
        params: RunParams,
    ) -> anyhow::Result<(f64, entity::sync_run::Model)> {
        let started = Instant::now();
        let req = StartRequest {
            mode,
            params,
            dry_run: false,
            trigger: RunTrigger::Cli,
            requested_by: None,
            force: false,
        };
        let (run, _) = self
            .state
            .jobs
            .start_sync(self.account_id, self.connection_id, req)
            .await?;
        let done = self.wait(run.id).await?;
        if done.status != RunStatus::Succeeded {
            anyhow::bail!(
                "run {} ended {}: {:?}",
                done.id,
                done.status.as_str(),
                done.error
            );
        }
        Ok((started.elapsed().as_secs_f64(), done))
    }

    async fn wait(&self, run_id: i64) -> anyhow::Result<entity::sync_run::Model> {
        let mut updates = self.state.jobs.bus().subscribe();
        loop {
            let run = store::runs::get(&self.state.db, self.account_id, run_id).await?;
            if !run.status.is_active() {
                return Ok(run);
            }
            let _ = tokio::time::timeout(Duration::from_millis(200), updates.recv()).await;
        }
    }

    async fn token(&self) -> anyhow::Result<String> {
        super::memory::login(&self.address, EMAIL, PASSWORD).await
    }
}

fn materials(n: usize) -> SeedSpec {
    SeedSpec {
        materials: n,
        equipment: 0,
        services: 0,
        seed: 7,
    }
}

fn scale(n: usize, quick: bool) -> usize {
    if quick { n / 10 } else { n }
}

pub(super) fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    (h.value_at_quantile(q) as f64 / 1000.0 * 100.0).round() / 100.0
}

pub async fn run(
    name: &str,
    settings: &Settings,
    quick: bool,
    compare: Option<Compare>,
) -> anyhow::Result<Figures> {
    let mut f = match name {
        "emulator_alone" => emulator_alone(quick).await?,
        "full_sync_50k" => full_sync(settings, quick).await?,
        "full_sync_under_read_load" => full_sync_under_read_load(settings, quick).await?,
        "incremental_1k_of_100k" => incremental(settings, quick).await?,
        "single_record" => single_record(settings, quick).await?,
        "graphql_items_first_100" => graphql_items(settings, quick, compare).await?,
        "items_total_count" => items_total_count(settings, quick).await?,
        "read_load_memory" => read_load_memory(settings, quick).await?,
        "progress_fanout_1000_ws" => fanout(settings, quick).await?,
        "fulfil_shiphero_10k" => super::fulfil_shiphero::run(settings, quick).await?,
        "csv_100k_vendor_prices" => csv_vendor_prices(settings, quick).await?,
        "amazon_recoveries_200k" => super::recoveries::run(quick)?,
        other => anyhow::bail!("unknown scenario '{other}'"),
    };
    f.scenario = name.to_owned();
    f.peak_rss_mb = peak_rss_mb();
    if f.db.is_empty() {
        f.db = "none".into();
    }
    Ok(f)
}

/// The emulator's own listing rate, unthrottled, over loopback HTTP.
async fn emulator_alone(quick: bool) -> anyhow::Result<Figures> {
    let n = scale(50_000, quick);
    let emulator = Emulator::new(EmulatorConfig {
        rate_limit_per_second: None,
        ..EmulatorConfig::default()
    });
    emulator.seed(&materials(n));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let router = emulator.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = reqwest::Client::new();
    let cfg = emulator.config().clone();
    let token: serde_json::Value = client
        .post(format!("{base}/connect/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &cfg.client_id),
            ("client_secret", &cfg.client_secret),
        ])
        .send()
        .await?
        .json()
        .await?;
    let token = token["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let started = Instant::now();
    let mut from: Option<String> = None;
    let mut count = 0u64;
    loop {
        let mut req = client
            .get(format!("{base}/tenant/{}/export/materials", cfg.tenant))
            .bearer_auth(&token)
            .header("ST-App-Key", &cfg.app_key);
        if let Some(f) = &from {
            req = req.query(&[("from", f)]);
        }
        let page: crate::connectors::servicetitan::wire::Export<
            crate::connectors::servicetitan::wire::Sku,
        > = req.send().await?.json().await?;
        count += page.data.len() as u64;
        from = page.continue_from;
        if !page.has_more {
            break;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let per_second = count as f64 / seconds;
    // Ten times what a 50,000-record full sync in 10 s needs.
    let needed = 10.0 * 50_000.0 / 10.0;
    Ok(Figures {
        items: count,
        seconds,
        per_second,
        target: json!({ "per_second_min": needed }),
        met: per_second >= needed,
        ..Default::default()
    })
}

async fn full_sync(settings: &Settings, quick: bool) -> anyhow::Result<Figures> {
    let n = scale(50_000, quick);
    let h = harness(settings).await?;
    h.emulator().seed(&materials(n));
    // Generating 50,000 fixtures briefly costs more than holding them; measure the sync.
    reset_peak_rss();
    let (seconds, run) = h.sync(RunMode::Full, RunParams::default()).await?;
    let db = h.db_name();
    let limit = if db == "postgres" { 15.0 } else { 10.0 };
    let rss = peak_rss_mb();
    Ok(Figures {
        items: run.created as u64,
        seconds,
        per_second: run.created as f64 / seconds,
        met: seconds <= limit && rss <= 300.0,
        target: json!({ "seconds_max": limit, "peak_rss_mb_max": 300 }),
        db,
        note: Some(
            "includes the emulator's 60 requests/s limit; peak RSS is the sync's, with the \
             seeded in-process emulator resident"
                .into(),
        ),
        ..Default::default()
    })
}

/// A 20k-material first full sync measured idle, then on a second server while 200
/// GraphQL clients read items pages and 500 WebSocket subscribers listen (a tenth of
/// each with --quick). The load runs in a child process (`bench-load`) so it does not
/// share this process's CPU accounting; every server holds 2,000 local items to read.
/// Without --quick a third server runs the same with admission control off (execution
/// slots for every client), for the before/after ratio within one run.
async fn full_sync_under_read_load(settings: &Settings, quick: bool) -> anyhow::Result<Figures> {
    let n = scale(20_000, quick);
    let (clients, subscribers) = if quick { (20, 50) } else { (200, 500) };
    let idle = seeded(settings, n, |_| {}).await?;
    let (idle_seconds, _) = idle.sync(RunMode::Full, RunParams::default()).await?;
    // Its workers stop polling, so they cost the loaded runs nothing.
    idle.state.jobs.shutdown();
    let (loaded_seconds, created, report, db) =
        sync_under_load(settings, n, clients, subscribers, |_| {}).await?;
    let ratio = loaded_seconds / idle_seconds;
    let met = ratio <= 3.0
        && report.read_p99_ms <= 250.0
        && report.errors == 0
        && report.subscribers_connected == subscribers as u64;
    let mut load = json!({
        "idle_seconds": round2(idle_seconds),
        "loaded_seconds": round2(loaded_seconds),
        "ratio": round2(ratio),
        "reads": report.reads,
        "reads_per_second": round2(report.reads as f64 / report.seconds),
        "read_p50_ms": report.read_p50_ms,
        "read_p99_ms": report.read_p99_ms,
        "errors": report.errors,
        "refused_503": report.refused_503,
        "subscribers_connected": report.subscribers_connected,
    });
    if !quick {
        let (seconds, _, r, _) = sync_under_load(settings, n, clients, subscribers, |s| {
            s.graphql_concurrency = clients * 2;
            s.graphql_queue = 0;
        })
        .await?;
        load["without_admission"] = json!({
            "loaded_seconds": round2(seconds),
            "ratio": round2(seconds / idle_seconds),
            "reads_per_second": round2(r.reads as f64 / r.seconds),
            "read_p50_ms": r.read_p50_ms,
            "read_p99_ms": r.read_p99_ms,
            "errors": r.errors,
        });
    }
    Ok(Figures {
        items: created,
        seconds: loaded_seconds,
        per_second: created as f64 / loaded_seconds,
        p50_ms: Some(report.read_p50_ms),
        p99_ms: Some(report.read_p99_ms),
        db,
        target: json!({ "ratio_max": 3.0, "read_p99_ms_max": 250, "clients": clients, "subscribers": subscribers }),
        met,
        load: Some(load),
        note: Some(
            "seconds: the loaded sync; p50/p99: the readers' answered pages (503s excluded, \
             counted in load.refused_503); load generator in a child process on the same cores"
                .into(),
        ),
        ..Default::default()
    })
}

/// A server with 2,000 local items and `n` remote materials waiting in the emulator.
async fn seeded(
    settings: &Settings,
    n: usize,
    configure: impl FnOnce(&mut Settings),
) -> anyhow::Result<Harness> {
    let h = harness_with(settings, configure).await?;
    super::fixtures::seed_local_items(&h.state.db, h.account_id, 2_000).await?;
    h.emulator().seed(&materials(n));
    Ok(h)
}

/// A first full sync of `n` while the child load runs: (seconds, created, load, db).
async fn sync_under_load(
    settings: &Settings,
    n: usize,
    clients: usize,
    subscribers: usize,
    configure: impl FnOnce(&mut Settings),
) -> anyhow::Result<(f64, u64, super::load::LoadReport, String)> {
    let h = seeded(settings, n, configure).await?;
    let token = h.token().await?;
    let load =
        super::load::LoadChild::start(&h.address, &token, ITEMS_PAGE, clients, subscribers).await?;
    // Let the readers reach their steady state before the sync starts.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let synced = h.sync(RunMode::Full, RunParams::default()).await;
    let report = load.finish().await?;
    h.state.jobs.shutdown();
    let (seconds, run) = synced?;
    Ok((seconds, run.created as u64, report, h.db_name()))
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

async fn incremental(settings: &Settings, quick: bool) -> anyhow::Result<Figures> {
    let (n, changed) = (scale(100_000, quick), scale(1_000, quick));
    let h = harness(settings).await?;
    h.emulator().seed(&materials(n));
    h.sync(RunMode::Full, RunParams::default()).await?;
    for id in h
        .emulator()
        .ids("materials")
        .into_iter()
        .step_by(n / changed)
        .take(changed)
    {
        h.emulator()
            .set_remote("materials", id, &json!({ "price": 4242.42 }))
            .map_err(anyhow::Error::msg)?;
    }
    let (seconds, run) = h.sync(RunMode::Incremental, RunParams::default()).await?;
    Ok(Figures {
        items: run.updated as u64,
        seconds,
        per_second: run.updated as f64 / seconds,
        met: seconds <= 1.0 && run.updated as usize == changed,
        target: json!({ "seconds_max": 1.0 }),
        db: h.db_name(),
        ..Default::default()
    })
}

async fn single_record(settings: &Settings, quick: bool) -> anyhow::Result<Figures> {
    let h = harness(settings).await?;
    h.emulator().seed(&materials(1_000));
    h.sync(RunMode::Full, RunParams::default()).await?;
    let ids = h.emulator().ids("materials");
    let rounds = if quick { 10 } else { 50 };
    let mut hist = Histogram::<u64>::new(3)?;
    let started = Instant::now();
    for i in 0..rounds {
        let id = ids[i * 7 % ids.len()];
        h.emulator()
            .set_remote("materials", id, &json!({ "price": 10.0 + i as f64 }))
            .map_err(anyhow::Error::msg)?;
        let params = RunParams {
            entity_types: vec!["materials".into()],
            remote_ids: vec![id.to_string()],
            ..Default::default()
        };
        let (secs, _) = h.sync(RunMode::Entity, params).await?;
        hist.record((secs * 1_000_000.0) as u64)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let p99 = ms(&hist, 0.99);
    Ok(Figures {
        items: rounds as u64,
        seconds,
        per_second: rounds as f64 / seconds,
        p50_ms: Some(ms(&hist, 0.5)),
        p99_ms: Some(p99),
        met: p99 <= 50.0,
        target: json!({ "p99_ms_max": 50 }),
        db: h.db_name(),
        note: Some(
            "startSync(ENTITY) through the job queue to the finished run, remote fetch included"
                .into(),
        ),
        ..Default::default()
    })
}

/// Sends one GraphQL request and reads the whole answer: the latency covers the body, the
/// connection goes back to the pool for reuse, and a 200 carrying GraphQL `errors` (or
/// without `expected` in its body) counts as a failure.
async fn answered(request: reqwest::RequestBuilder, expected: &[u8]) -> bool {
    let Ok(response) = request.send().await else {
        return false;
    };
    if !response.status().is_success() {
        return false;
    }
    let Ok(body) = response.bytes().await else {
        return false;
    };
    let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    has(expected) && !has(b"\"errors\":")
}

/// What a closed-loop HTTP load measured: latencies of the answered requests, failures and
/// wall time.
struct Load {
    hist: Histogram<u64>,
    failures: u64,
    seconds: f64,
}

impl Load {
    fn per_second(&self) -> f64 {
        self.hist.len() as f64 / self.seconds
    }
}

/// `clients` closed-loop clients post `query` to `/graphql` until `stop` says so; a request
/// counts when its answer contains `expected`.
async fn graphql_load(
    h: &Harness,
    query: &str,
    expected: &'static [u8],
    clients: usize,
    stop: impl Fn() -> bool + Clone + Send + Sync + 'static,
) -> anyhow::Result<Load> {
    let token = h.token().await?;
    let url = format!("{}/graphql", h.address);
    load_at(url, &token, query, expected, clients, stop).await
}

/// [`graphql_load`] against any GraphQL endpoint (`token` may be empty).
async fn load_at(
    url: String,
    token: &str,
    query: &str,
    expected: &'static [u8],
    clients: usize,
    stop: impl Fn() -> bool + Clone + Send + Sync + 'static,
) -> anyhow::Result<Load> {
    let token = token.to_owned();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let body = json!({ "query": query }).to_string();
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (client, url, body, token, stop) = (
                client.clone(),
                url.clone(),
                body.clone(),
                token.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let mut hist = Histogram::<u64>::new(3).expect("valid histogram");
                let mut failures = 0u64;
                while !stop() {
                    let t = Instant::now();
                    let mut request = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body.clone());
                    if !token.is_empty() {
                        request = request.bearer_auth(&token);
                    }
                    if answered(request, expected).await {
                        let _ = hist.record(t.elapsed().as_micros() as u64);
                    } else {
                        failures += 1;
                    }
                }
                (hist, failures)
            })
        })
        .collect();
    let mut hist = Histogram::<u64>::new(3)?;
    let mut failures = 0;
    for t in tasks {
        let (h2, f2) = t.await?;
        hist.add(h2)?;
        failures += f2;
    }
    Ok(Load {
        hist,
        failures,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// A stop condition for [`graphql_load`]: true once `duration` has passed.
fn after(duration: Duration) -> impl Fn() -> bool + Clone + Send + Sync + 'static {
    let deadline = Instant::now() + duration;
    move || Instant::now() >= deadline
}

const ITEMS_PAGE: &str = "{ items(first: 100) { edges { node { id code name cost price category { id name } links { remoteId syncStatus lastSyncedAt } } } pageInfo { hasNextPage endCursor } } }";

async fn graphql_items(
    settings: &Settings,
    quick: bool,
    compare: Option<Compare>,
) -> anyhow::Result<Figures> {
    let h = harness(settings).await?;
    h.emulator().seed(&materials(scale(50_000, quick)));
    h.sync(RunMode::Full, RunParams::default()).await?;
    let duration = Duration::from_secs(if quick { 2 } else { 10 });
    let load = graphql_load(&h, ITEMS_PAGE, b"\"edges\":[{", 32, after(duration)).await?;
    let per_second = load.per_second();
    let p99 = ms(&load.hist, 0.99);
    let compared = match compare {
        Some(Compare::Postgraphile) => Some(compare_postgraphile(&h, &load, duration).await),
        None => None,
    };
    Ok(Figures {
        load: compared,
        items: load.hist.len(),
        seconds: load.seconds,
        per_second,
        p50_ms: Some(ms(&load.hist, 0.5)),
        p99_ms: Some(p99),
        met: per_second >= 2000.0 && p99 <= 20.0 && load.failures == 0,
        target: json!({ "per_second_min": 2000, "p99_ms_max": 20, "concurrency": 32 }),
        db: h.db_name(),
        note: Some(format!(
            "{} failed requests; load generator shares the 2 cores with the server",
            load.failures
        )),
        ..Default::default()
    })
}

/// The same page and load against PostGraphile on the same database, right after ours:
/// both figures and their ratio, or why there was no comparison.
async fn compare_postgraphile(h: &Harness, ours: &Load, duration: Duration) -> serde_json::Value {
    let url = match h.state.settings.database_url.as_deref() {
        Some(url) if url.starts_with("postgres") => url,
        _ => return json!({ "postgraphile": "not compared: PostgreSQL only (--database-url)" }),
    };
    let theirs = async {
        let server = PostGraphile::start(url).await?;
        load_at(
            server.graphql_url.clone(),
            "",
            POSTGRAPHILE_ITEMS_PAGE,
            b"\"nodes\":[{",
            32,
            after(duration),
        )
        .await
    };
    match theirs.await {
        Ok(t) => json!({
            "postgraphile": {
                "per_second": round2(t.per_second()),
                "p50_ms": ms(&t.hist, 0.5),
                "p99_ms": ms(&t.hist, 0.99),
                "failures": t.failures,
            },
            "ratio_per_second": round2(ours.per_second() / t.per_second().max(f64::EPSILON)),
        }),
        Err(e) => json!({ "postgraphile": format!("not compared: {e}") }),
    }
}

/// A server with a first full sync of 40k materials, 6k equipment and 6k services done
/// (a tenth with --quick), and that run.
async fn synced_catalog(
    settings: &Settings,
    quick: bool,
) -> anyhow::Result<(Harness, entity::sync_run::Model)> {
    let h = harness(settings).await?;
    h.emulator().seed(&SeedSpec {
        materials: scale(40_000, quick),
        equipment: scale(6_000, quick),
        services: scale(6_000, quick),
        seed: 7,
    });
    let (_, run) = h.sync(RunMode::Full, RunParams::default()).await?;
    Ok((h, run))
}

/// `items { totalCount }` under the common filters, one at a time from one client so the
/// latency is the count's own: all live items, by kind, active, deleted, connection and
/// sync status, over 52k items (5.2k with --quick).
async fn items_total_count(settings: &Settings, quick: bool) -> anyhow::Result<Figures> {
    let (h, _) = synced_catalog(settings, quick).await?;
    let c = h.connection_id;
    let filters = [
        String::new(),
        "(kind: MATERIAL)".into(),
        "(active: true)".into(),
        "(deleted: true)".into(),
        format!("(connectionId: \"{c}\")"),
        "(syncStatus: SYNCED)".into(),
        format!("(connectionId: \"{c}\", syncStatus: SYNCED)"),
    ];
    let query = format!(
        "{{ {} }}",
        filters
            .iter()
            .enumerate()
            .map(|(i, f)| format!("c{i}: items{f} {{ totalCount }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let duration = Duration::from_secs(if quick { 2 } else { 10 });
    let load = graphql_load(&h, &query, b"\"totalCount\":", 1, after(duration)).await?;
    // Each request answers every filter; the target is per count.
    let per_count = |q| ms(&load.hist, q) / filters.len() as f64;
    let (p50, p99) = (per_count(0.5), per_count(0.99));
    Ok(Figures {
        items: load.hist.len() * filters.len() as u64,
        seconds: load.seconds,
        per_second: load.per_second() * filters.len() as f64,
        p50_ms: Some((p50 * 100.0).round() / 100.0),
        p99_ms: Some((p99 * 100.0).round() / 100.0),
        met: p50 <= 2.0 && load.failures == 0,
        target: json!({ "p50_ms_per_count_max": 2 }),
        db: h.db_name(),
        note: Some(format!(
            "{} filters per request ({}); latencies per count, HTTP and GraphQL included; \
             {} failed requests",
            filters.len(),
            filters.join(" "),
            load.failures
        )),
        ..Default::default()
    })
}

/// The server's own memory over 52k synced items, before, at the peak of and after 20 s
/// of `full_sync_under_read_load`'s read load (a tenth with --quick), the server running
/// as its own `serve` process (see `bench::memory`).
async fn read_load_memory(settings: &Settings, quick: bool) -> anyhow::Result<Figures> {
    let (h, run) = synced_catalog(settings, quick).await?;
    h.state.jobs.shutdown();
    let (clients, subscribers) = if quick { (20, 50) } else { (200, 500) };
    let duration = Duration::from_secs(if quick { 4 } else { 20 });
    let m = super::memory::measure(
        h.dir.path(),
        h.state.settings.database_url.as_deref(),
        (EMAIL, PASSWORD),
        ITEMS_PAGE,
        (clients, subscribers),
        duration,
        Duration::from_secs(10),
    )
    .await?;
    let r = &m.report;
    Ok(Figures {
        items: run.created as u64,
        seconds: r.seconds,
        per_second: r.reads as f64 / r.seconds,
        p50_ms: Some(r.read_p50_ms),
        p99_ms: Some(r.read_p99_ms),
        db: h.db_name(),
        met: m.peak_mb <= 300.0 && m.idle_after.total_mb <= m.before.total_mb + 64.0,
        target: json!({ "server_peak_rss_mb_max": 300, "idle_after_growth_mb_max": 64 }),
        load: Some(json!({
            "server_peak_rss_mb": m.peak_mb,
            "server_rss_before": m.before,
            "server_rss_peak_parts": m.peak,
            "server_rss_idle_after": m.idle_after,
            "clients": clients,
            "subscribers": r.subscribers_connected,
            "refused_503": r.refused_503,
            "errors": r.errors,
        })),
        note: Some(
            "server_*: the serve process alone (before the load, its peak, and 10 s after \
             the load stopped; anon = heap, file = mapped files); peak_rss_mb: the bench \
             process with the emulator"
                .into(),
        ),
        ..Default::default()
    })
}

async fn fanout(settings: &Settings, quick: bool) -> anyhow::Result<Figures> {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
    let subscribers = if quick { 100 } else { 1_000 };
    let h = harness(settings).await?;
    h.emulator().seed(&materials(10_000));
    // A slow first call leaves time to connect every subscriber; then steady progress.
    h.emulator().faults().push(FaultKind::Latency(4_000), 1);
    h.emulator().faults().push(FaultKind::Latency(150), 30);
    let req = StartRequest {
        mode: RunMode::Full,
        params: RunParams::default(),
        dry_run: false,
        trigger: RunTrigger::Cli,
        requested_by: None,
        force: false,
    };
    let (run, _) = h
        .state
        .jobs
        .start_sync(h.account_id, h.connection_id, req)
        .await?;
    let token = h.token().await?;
    let ws_url = format!("{}/graphql/ws", h.address.replacen("http", "ws", 1));
    let query = "subscription($id:ID!){ syncProgress(runId:$id) { progress status updatedAt } }";
    let mut clients = Vec::with_capacity(subscribers);
    for _ in 0..subscribers {
        let (ws_url, token) = (ws_url.clone(), token.clone());
        let run_id = run.id.to_string();
        clients.push(tokio::spawn(async move {
            let mut latencies: Vec<f64> = Vec::new();
            let mut req = ws_url.into_client_request().ok()?;
            req.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().ok()?);
            let (mut ws, _) = tokio_tungstenite::connect_async(req).await.ok()?;
            ws.send(Message::text(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }).to_string())).await.ok()?;
            ws.next().await?.ok()?;
            ws.send(Message::text(json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": { "id": run_id } } }).to_string())).await.ok()?;
            let mut first = true;
            while let Some(Ok(msg)) = ws.next().await {
                let received = chrono::Utc::now();
                let Ok(text) = msg.to_text() else { continue };
                let v: serde_json::Value = serde_json::from_str(text).ok()?;
                if v["type"] == "complete" {
                    break;
                }
                let data = &v["payload"]["data"]["syncProgress"];
                // The first message is the stored state, not a live publish.
                if !first && data["status"] == "RUNNING"
                    && let Some(at) = data["updatedAt"].as_str().and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                {
                    latencies.push((received - at.with_timezone(&chrono::Utc)).num_microseconds().unwrap_or_default() as f64);
                }
                first = false;
            }
            Some(latencies)
        }));
    }
    let done = h.wait(run.id).await?;
    let mut hist = Histogram::<u64>::new(3)?;
    let mut connected = 0;
    for c in clients {
        if let Ok(Some(lat)) = c.await {
            connected += 1;
            for l in lat {
                hist.record(l.max(0.0) as u64)?;
            }
        }
    }
    let p99 = ms(&hist, 0.99);
    Ok(Figures {
        items: hist.len(),
        seconds: done
            .finished_at
            .zip(done.started_at)
            .map(|(f, s)| (f - s).num_milliseconds() as f64 / 1000.0)
            .unwrap_or_default(),
        per_second: 0.0,
        p50_ms: Some(ms(&hist, 0.5)),
        p99_ms: Some(p99),
        met: p99 <= 100.0 && connected == subscribers && !hist.is_empty(),
        target: json!({ "p99_ms_max": 100, "subscribers": subscribers }),
        db: h.db_name(),
        note: Some(format!(
            "{connected} of {subscribers} subscribers connected; latency from publish to receipt"
        )),
        ..Default::default()
    })
}

/// 100,000 vendor-price rows against 100,000 local items: parse + validate + match +
/// apply in one transaction (the service call behind `uploadCsv`, without the upload).
async fn csv_vendor_prices(settings: &Settings, quick: bool) -> anyhow::Result<Figures> {
    use crate::sync::csv::import::{self, ImportRequest};
    use crate::sync::csv::parse::Target;
    let n = scale(100_000, quick);
    let h = harness(settings).await?;
    super::fixtures::seed_local_items(&h.state.db, h.account_id, n).await?;
    let file = super::fixtures::vendor_price_file(n);
    let bytes = file.len();
    let started = Instant::now();
    let report = import::import(
        &h.state.db,
        file,
        ImportRequest {
            account_id: h.account_id,
            user_id: None,
            actor: "bench".into(),
            connection_id: None,
            target: Target::VendorPrices,
            mapping: None,
            dry_run: false,
            trigger: RunTrigger::Cli,
            push_status: RunStatus::Queued,
            file_name: Some("bench.csv".into()),
        },
    )
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    if report.updated != n || !report.errors.is_empty() {
        anyhow::bail!(
            "imported {} of {n} rows with {} row errors",
            report.updated,
            report.errors.len()
        );
    }
    Ok(Figures {
        items: n as u64,
        seconds,
        per_second: n as f64 / seconds,
        met: seconds <= 3.0,
        target: json!({ "seconds_max": 3.0 }),
        db: h.db_name(),
        note: Some(format!(
            "{:.1} MB file; parse + validate + match + one-transaction upsert, excluding the HTTP upload",
            bytes as f64 / 1e6
        )),
        ..Default::default()
    })
}
