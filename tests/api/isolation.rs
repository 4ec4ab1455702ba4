//! Isolation of the syncs from API load (issue 23): GraphQL admission control answers an
//! over-admitted request `503` + `Retry-After` + `RATE_LIMITED` at once, and a sync makes
//! progress while every API execution slot and every API database connection is taken.

use crate::helpers::*;
use entity::enums::{RunMode, RunStatus, RunTrigger};
use pricebook_sync::jobs::StartRequest;
use pricebook_sync::sandbox::servicetitan::SeedSpec;
use pricebook_sync::sync::runner::RunParams;
use serde_json::json;
use std::time::{Duration, Instant};

const PAGE: &str = "{ items(first: 5) { edges { node { id code } } } }";

async fn post_page(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(token)
        .json(&json!({ "query": PAGE }))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .expect("an answer, not a hang")
}

#[tokio::test]
async fn over_admission_is_answered_503_with_retry_after_not_a_hang() {
    let app = TestApp::spawn_with(|s| {
        s.graphql_concurrency = 1;
        s.graphql_queue = 0;
    })
    .await;
    let token = app.admin_token().await;
    // The one execution slot is busy.
    let slot = app.state.admission.enter().await.expect("a free slot");
    let started = Instant::now();
    let refused = post_page(&app, &token).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused at once"
    );
    assert_eq!(refused.status(), 503);
    assert_eq!(
        refused
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let body: serde_json::Value = refused.json().await.expect("a JSON error body");
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
    // Free again: answered normally.
    drop(slot);
    let answered = post_page(&app, &token).await;
    assert_eq!(answered.status(), 200);
}

#[tokio::test]
async fn a_queued_request_runs_when_a_slot_frees_and_times_out_otherwise() {
    let app = TestApp::spawn_with(|s| {
        s.graphql_concurrency = 1;
        s.graphql_queue = 4;
        s.graphql_queue_timeout_ms = 300;
    })
    .await;
    let token = app.admin_token().await;
    let slot = app.state.admission.enter().await.expect("a free slot");
    // Nobody frees the slot: the queued request gives up after its bounded wait.
    let timed_out = post_page(&app, &token).await;
    assert_eq!(timed_out.status(), 503);
    assert!(timed_out.headers().contains_key("retry-after"));
    // The slot frees while a request waits: it is answered.
    let waiting = {
        let (client, url, token) = (
            app.client.clone(),
            format!("{}/graphql", app.address),
            token.clone(),
        );
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "query": PAGE }))
                .send()
                .await
                .map(|r| r.status().as_u16())
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(slot);
    assert_eq!(waiting.await.unwrap().unwrap(), 200);
}

/// Every API execution slot and every connection of the API's database pool is held (as
/// a burst of slow dashboards would); a full sync started meanwhile still runs to the end
/// on the sync workers' own pool, and the API refuses (503) instead of queueing forever.
#[tokio::test]
async fn a_sync_makes_progress_while_the_api_is_saturated() {
    use sea_orm::TransactionTrait;
    let app = TestApp::spawn_with(|s| {
        s.graphql_concurrency = 2;
        s.graphql_queue = 0;
    })
    .await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let conn = app.sandbox_connection(&token, "busy", json!({})).await;
    app.emulator().seed(&SeedSpec {
        materials: 1_200,
        equipment: 0,
        services: 0,
        seed: 5,
    });
    // Saturate the API: both execution slots ...
    let slots = vec![
        app.state.admission.enter().await.unwrap(),
        app.state.admission.enter().await.unwrap(),
    ];
    // ... and every connection of its pool (the next one times out: the pool is empty).
    let mut held = Vec::new();
    while let Ok(txn) = app.state.db.begin().await {
        held.push(txn);
        assert!(held.len() <= 64, "the API pool is bounded");
    }
    assert_eq!(post_page(&app, &token).await.status(), 503);
    let mut updates = app.state.jobs.bus().subscribe();
    let (run, _) = app
        .state
        .jobs
        .start_sync(
            account,
            conn,
            StartRequest {
                mode: RunMode::Full,
                params: RunParams::default(),
                dry_run: false,
                trigger: RunTrigger::Cli,
                requested_by: None,
                force: false,
            },
        )
        .await
        .expect("the sync is queued without an API connection");
    // Progress: page updates arrive, then the run succeeds (bounded, generous).
    let mut progressed = 0;
    let done = tokio::time::timeout(Duration::from_secs(90), async {
        loop {
            let Ok(update) = updates.recv().await else {
                continue;
            };
            if update.run.id != run.id {
                continue;
            }
            if update.run.status == RunStatus::Running && update.run.created > 0 {
                progressed += 1;
            }
            if !update.run.status.is_active() {
                return update.run.clone();
            }
        }
    })
    .await
    .expect("the sync finishes while the API is saturated");
    assert_eq!(done.status, RunStatus::Succeeded, "{:?}", done.error);
    assert_eq!(done.created, 1_200);
    assert!(progressed >= 1, "page progress was published");
    drop(held);
    drop(slots);
    let d = app
        .gql_ok(&token, "{ items { totalCount } }", json!({}))
        .await;
    assert_eq!(d["items"]["totalCount"], 1_200);
}

/// Each listed page leaves a `page_applied` event with its fetch and apply times, so a
/// slow run explains itself (which side was slow, from which page on).
#[tokio::test]
async fn each_page_event_carries_its_apply_time() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let conn = app.sandbox_connection(&token, "timed", json!({})).await;
    app.emulator().seed(&SeedSpec {
        materials: 1_200,
        equipment: 0,
        services: 0,
        seed: 3,
    });
    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    let d = app
        .gql_ok(
            &token,
            "query($r: ID!) { syncRun(id: $r) { events(first: 100) { edges { node { kind level message details } } } } }",
            json!({ "r": run.id.to_string() }),
        )
        .await;
    let pages: Vec<&serde_json::Value> = d["syncRun"]["events"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n["kind"] == "page_applied" && n["details"]["entityType"] == "materials")
        .collect();
    assert_eq!(pages.len(), 3, "500 + 500 + 200 materials: {d}");
    let mut fetched = 0;
    for (i, p) in pages.iter().enumerate() {
        assert_eq!(p["level"], "INFO");
        assert!(p["details"]["applyMs"].is_u64(), "{p}");
        assert!(p["details"]["fetchMs"].is_u64(), "{p}");
        assert!(p["message"].as_str().unwrap().contains("applied in"), "{p}");
        assert_eq!(p["details"]["page"], i as u64 + 1, "in page order: {d}");
        fetched += p["details"]["fetched"].as_u64().unwrap();
    }
    assert_eq!(fetched, 1_200);
}

/// `bench --scenario NAME` prints only its JSON line on stdout (logs go to stderr), so
/// `… | jq` works; the scenario under read load runs end to end at its --quick size, with
/// its load generator in a child process, on the database the suite runs on.
#[tokio::test]
async fn bench_scenario_prints_only_json_on_stdout() {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_pricebook-sync"));
    cmd.args([
        "bench",
        "--scenario",
        "full_sync_under_read_load",
        "--quick",
    ])
    // Info logs on: they must not reach stdout.
    .env("RUST_LOG", "info")
    .env_remove("DATABASE_URL");
    if let Ok(url) = std::env::var("TEST_DATABASE_URL")
        && !url.is_empty()
    {
        cmd.arg("--database-url").arg(url);
    }
    let out = tokio::time::timeout(Duration::from_secs(240), cmd.output())
        .await
        .expect("the quick scenario ends")
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(!stderr.is_empty(), "the logs went somewhere: stderr");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stdout, nothing else: {stdout}");
    let figures: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON line");
    assert_eq!(figures["scenario"], "full_sync_under_read_load");
    let load = &figures["load"];
    assert!(load["idle_seconds"].as_f64().unwrap() > 0.0, "{figures}");
    assert!(load["loaded_seconds"].as_f64().unwrap() > 0.0, "{figures}");
    assert!(load["ratio"].is_number(), "{figures}");
    assert!(
        load["reads"].as_u64().unwrap() > 0,
        "the readers read: {figures}"
    );
    assert_eq!(load["errors"], 0, "{figures}");
    assert_eq!(load["subscribers_connected"], 50, "{figures}");
    assert_eq!(figures["target"]["ratio_max"], 3.0);
    assert_eq!(figures["target"]["read_p99_ms_max"], 250);
    assert_eq!(figures["items"], 2_000);
}

/// A query or mutation sent over a subscription socket takes the same execution slots as
/// over HTTP: with every slot busy it is answered `RATE_LIMITED` at once rather than adding
/// to everyone's latency; a subscription is long-lived and is not held to a slot.
#[tokio::test]
async fn queries_over_the_websocket_pass_admission_control_too() {
    let app = TestApp::spawn_with(|s| {
        s.graphql_concurrency = 1;
        s.graphql_queue = 0;
    })
    .await;
    let token = app.admin_token().await;
    let slot = app.state.admission.enter().await.expect("a free slot");
    let mut refused = app.subscribe(&token, PAGE, json!({})).await;
    let answer = refused
        .next(Duration::from_secs(5))
        .await
        .expect("an answer, not a hang");
    assert_eq!(answer["type"], "error", "{answer}");
    assert_eq!(
        answer["payload"][0]["extensions"]["code"], "RATE_LIMITED",
        "{answer}"
    );
    let mut subscribed = app
        .subscribe(
            &token,
            "subscription { syncEvents { id status } }",
            json!({}),
        )
        .await;
    assert!(
        subscribed.next(Duration::from_millis(300)).await.is_none(),
        "a subscription is not refused for want of a slot"
    );
    drop(slot);
    let mut answered = app.subscribe(&token, PAGE, json!({})).await;
    let answer = answered
        .next(Duration::from_secs(5))
        .await
        .expect("an answer");
    assert_eq!(answer["type"], "next", "{answer}");
}
