//! `fulfil_shiphero_10k`: 10,000 Fulfil products through the route to ShipHero (issue 9),
//! on the real server with both emulators mounted, through the job queue.
//!
//! ShipHero's credit bucket is the limit on purpose: 4,004 credits, 10 per mutation,
//! refilled at 4,000 credits/s here (400 writes/s; the real account default is 60/s,
//! which would make this a 28-minute wait measuring nothing but the sleep). The figure
//! is compared with the floor that bucket allows.

use super::{Figures, peak_rss_mb};
use crate::app::Application;
use crate::config::Settings;
use crate::jobs::StartRequest;
use crate::sandbox::{fulfil, shiphero};
use crate::store::{self, connections::NewConnection};
use entity::enums::{Provider, RunMode, RunStatus, RunTrigger};
use serde_json::json;
use std::time::{Duration, Instant};

const CREDITS: f64 = 4004.0;
const REFILL: f64 = 4000.0;
const MUTATION_COST: f64 = 10.0;

pub async fn run(settings: &Settings, quick: bool) -> anyhow::Result<Figures> {
    let n = if quick { 1_000 } else { 10_000 };
    let dir = tempfile::tempdir()?;
    let mut s = Settings::for_dir(dir.path());
    s.admin_email = Some("bench@example.com".into());
    s.admin_password = Some("bench-password".into());
    s.workers = 2;
    if settings.database_url.is_some() {
        // A fresh PostgreSQL database per scenario is the ServiceTitan scenarios' job;
        // this one measures the route against the rate limit, so SQLite is enough.
        tracing::warn!("fulfil_shiphero_10k runs on SQLite");
    }
    let app = Application::build(s).await?;
    let state = app.state.clone();
    tokio::spawn(app.run_until_stopped());
    let sandboxes = state
        .sandboxes
        .clone()
        .ok_or_else(|| anyhow::anyhow!("sandbox not mounted"))?;
    sandboxes.fulfil.seed(&fulfil::SeedSpec { products: n });
    sandboxes.shiphero.set_credits(shiphero::CreditConfig {
        max: CREDITS,
        refill_per_second: REFILL,
        query_cost: 1.0,
        mutation_cost: MUTATION_COST,
    });
    let admin = store::users::find_by_email(&state.db, "bench@example.com")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no admin"))?;
    let account = admin.account_id;
    let connection = |provider: Provider, config| NewConnection {
        provider,
        name: format!("bench-{}", provider.as_str()),
        config,
        directions: crate::connectors::settings::default_directions(),
        secrets: None,
        time_zone: "UTC".into(),
        adoption_policy: entity::enums::AdoptionPolicy::Conflict,
        push_on_save: true,
    };
    let source = store::connections::create(
        &state.db,
        &state.secrets,
        account,
        connection(Provider::Fulfil, json!({ "sandbox": true })),
    )
    .await?;
    let route = store::connections::create(
        &state.db,
        &state.secrets,
        account,
        connection(
            Provider::ShipHero,
            json!({ "sandbox": true, "source": source.id }),
        ),
    )
    .await?;
    let (seconds, done) = run_route(&state, account, route.id).await?;
    let written = sandboxes.shiphero.stats().writes();
    let throttled = sandboxes
        .shiphero
        .stats()
        .throttled
        .load(std::sync::atomic::Ordering::Relaxed);
    // The same writes with the bucket out of the way: what our side costs on its own
    // (a second route fed by the same source, into an emptied ShipHero).
    sandboxes.shiphero.clear();
    sandboxes.shiphero.set_credits(shiphero::CreditConfig {
        max: 1e12,
        refill_per_second: 1e12,
        query_cost: 1.0,
        mutation_cost: MUTATION_COST,
    });
    let mut unthrottled = connection(
        Provider::ShipHero,
        json!({ "sandbox": true, "source": source.id }),
    );
    unthrottled.name = "bench-unthrottled".into();
    let unthrottled =
        store::connections::create(&state.db, &state.secrets, account, unthrottled).await?;
    let (alone, _) = run_route(&state, account, unthrottled.id).await?;
    // What the bucket allows at best: the burst, then the refill rate.
    let floor = ((n as f64 * MUTATION_COST - CREDITS) / REFILL).max(0.0);
    Ok(Figures {
        items: done.pushed as u64,
        seconds,
        per_second: done.pushed as f64 / seconds,
        peak_rss_mb: peak_rss_mb(),
        db: store::db::backend_name(&state.db).to_owned(),
        target: json!({ "rate_limit_floor_seconds": (floor * 100.0).round() / 100.0, "seconds_max": floor * 1.5 + 5.0 }),
        met: done.pushed as usize == n && seconds <= floor * 1.5 + 5.0,
        note: Some(format!(
            "{n} products, ShipHero bucket {CREDITS} credits refilled {REFILL}/s at {MUTATION_COST} per write; {written} writes, {throttled} code-30 answers; same writes with unlimited credits: {alone:.2} s"
        )),
        ..Default::default()
    })
}

/// Runs a full sync of the route through the job queue; (seconds, finished run).
async fn run_route(
    state: &crate::state::AppState,
    account: i64,
    route: i64,
) -> anyhow::Result<(f64, entity::sync_run::Model)> {
    let started = Instant::now();
    let req = StartRequest {
        mode: RunMode::Full,
        params: Default::default(),
        dry_run: false,
        trigger: RunTrigger::Cli,
        requested_by: None,
        force: false,
    };
    let (run, _) = state.jobs.start_sync(account, route, req).await?;
    let mut updates = state.jobs.bus().subscribe();
    let done = loop {
        let r = store::runs::get(&state.db, account, run.id).await?;
        if !r.status.is_active() {
            break r;
        }
        let _ = tokio::time::timeout(Duration::from_millis(200), updates.recv()).await;
    };
    if done.status != RunStatus::Succeeded {
        anyhow::bail!("route run ended {}: {:?}", done.status.as_str(), done.error);
    }
    Ok((started.elapsed().as_secs_f64(), done))
}
