use crate::helpers::*;
use entity::enums::Role;
use pricebook_sync::sandbox::servicetitan::SeedSpec;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn seed(materials: usize) -> SeedSpec {
    serde_json::from_value(json!({ "materials": materials, "equipment": 10, "services": 10 }))
        .unwrap()
}

const PROGRESS: &str = "subscription($id:ID!){ syncProgress(runId:$id) { id status progress stage counters { fetched created errors } } }";

#[tokio::test]
async fn start_sync_returns_at_once_and_the_subscription_sees_monotonic_progress_to_100() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.emulator().seed(&seed(2500));
    let conn = app.sandbox_connection(&token, "st", json!({})).await;
    // Slow each upstream call a little so the run spans several progress updates.
    app.emulator()
        .faults()
        .push(pricebook_sync::sandbox::faults::FaultKind::Latency(60), 12);

    let started = Instant::now();
    let start = app.start_sync(&token, conn, "FULL").await;
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "startSync took {:?}",
        started.elapsed()
    );
    assert_eq!(start["alreadyRunning"], false);
    assert_eq!(start["run"]["status"], "QUEUED");
    let run_id = start["run"]["id"].as_str().unwrap().to_owned();

    let mut sub = app
        .subscribe(&token, PROGRESS, json!({ "id": run_id }))
        .await;
    let mut seen: Vec<Value> = Vec::new();
    loop {
        let msg = sub
            .next(Duration::from_secs(30))
            .await
            .expect("progress message");
        match msg["type"].as_str() {
            Some("next") => seen.push(msg["payload"]["data"]["syncProgress"].clone()),
            Some("complete") => break,
            other => panic!("unexpected {other:?}: {msg}"),
        }
    }
    assert!(seen.len() >= 3, "several updates: {}", seen.len());
    let progress: Vec<i64> = seen
        .iter()
        .map(|r| r["progress"].as_i64().unwrap())
        .collect();
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "monotonic: {progress:?}"
    );
    assert!(
        progress[..progress.len() - 1].iter().all(|p| *p < 100),
        "100 only at the end: {progress:?}"
    );
    let last = seen.last().unwrap();
    assert_eq!(
        (last["status"].as_str(), last["progress"].as_i64()),
        (Some("SUCCEEDED"), Some(100))
    );
    assert_eq!(last["counters"]["created"], 2520);
    assert!(
        seen.iter()
            .any(|r| r["stage"].as_str().unwrap_or("").contains("fetching")),
        "{seen:?}"
    );
}

#[tokio::test]
async fn twenty_concurrent_starts_yield_one_run() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.emulator().seed(&seed(50));
    let conn = app.sandbox_connection(&token, "st", json!({})).await;
    app.emulator()
        .faults()
        .push(pricebook_sync::sandbox::faults::FaultKind::Latency(300), 2);
    let calls = (0..20).map(|_| app.start_sync(&token, conn, "INCREMENTAL"));
    let answers = futures::future::join_all(calls).await;
    let ids: std::collections::HashSet<&str> = answers
        .iter()
        .map(|a| a["run"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    assert_eq!(
        answers
            .iter()
            .filter(|a| a["alreadyRunning"] == false)
            .count(),
        1
    );

    let strict = app.gql(Some(&token), "mutation($c:ID!){ startSync(connectionId:$c, mode: FULL, strict: true) { run { id } } }", json!({ "c": conn.to_string() })).await;
    assert_eq!(error_code(&strict), "SYNC_IN_PROGRESS");
    let run_id = ids.into_iter().next().unwrap().to_owned();
    assert_eq!(
        app.wait_for_run(&token, &run_id).await["status"],
        "SUCCEEDED"
    );
}

#[tokio::test]
async fn cancel_mid_run_keeps_applied_pages_and_deletes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    app.emulator().seed(&seed(100));
    let conn = app.sandbox_connection(&token, "st", json!({})).await;
    let first = app.start_sync(&token, conn, "FULL").await;
    assert_eq!(
        app.wait_for_run(&token, first["run"]["id"].as_str().unwrap())
            .await["status"],
        "SUCCEEDED"
    );

    app.emulator().seed(&seed(3000));
    let ids = app.emulator().ids("materials");
    app.emulator().delete_remote("materials", ids[0]);
    app.emulator()
        .faults()
        .push(pricebook_sync::sandbox::faults::FaultKind::Latency(250), 40);
    let run = app.start_sync(&token, conn, "FULL").await;
    let run_id = run["run"]["id"].as_str().unwrap().to_owned();
    // Wait until it has applied something, then cancel.
    for _ in 0..200 {
        let d = app
            .gql_ok(
                &token,
                "query($id:ID!){ syncRun(id:$id) { counters { fetched } } }",
                json!({ "id": run_id }),
            )
            .await;
        if d["syncRun"]["counters"]["fetched"].as_i64().unwrap() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cancelled = app
        .gql_ok(
            &token,
            "mutation($id:ID!){ cancelSync(runId:$id) { id cancelRequested } }",
            json!({ "id": run_id }),
        )
        .await;
    assert_eq!(cancelled["cancelSync"]["cancelRequested"], true);
    let done = app.wait_for_run(&token, &run_id).await;
    assert_eq!(done["status"], "CANCELLED", "{done}");
    assert_eq!(done["errorCode"], "CANCELLED");
    assert_eq!(done["counters"]["deleted"], 0);
    assert!(
        app.item_by_code(account, "MAT-000001")
            .await
            .deleted_at
            .is_none(),
        "a cancelled run never deletes"
    );
    let again = app
        .gql(
            Some(&token),
            "mutation($id:ID!){ cancelSync(runId:$id) { id } }",
            json!({ "id": run_id }),
        )
        .await;
    assert_eq!(error_code(&again), "BAD_USER_INPUT");
}

#[tokio::test]
async fn history_is_paginated_and_filtered_newest_first() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.emulator().seed(&seed(5));
    let conn = app.sandbox_connection(&token, "st", json!({})).await;
    let mut ids = Vec::new();
    for mode in ["FULL", "INCREMENTAL", "INCREMENTAL", "FULL", "INCREMENTAL"] {
        let r = app.start_sync(&token, conn, mode).await;
        let id = r["run"]["id"].as_str().unwrap().to_owned();
        app.wait_for_run(&token, &id).await;
        ids.push(id);
    }
    let q = "query($c:ID,$m:SyncMode,$after:String){ syncRuns(connectionId:$c, mode:$m, first: 2, after:$after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id mode status } } } }";
    let mut after: Option<String> = None;
    let mut walked = Vec::new();
    loop {
        let d = app
            .gql_ok(&token, q, json!({ "c": conn.to_string(), "after": after }))
            .await;
        assert_eq!(d["syncRuns"]["totalCount"], 5);
        walked.extend(
            d["syncRuns"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["id"].as_str().unwrap().to_owned()),
        );
        if !d["syncRuns"]["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = d["syncRuns"]["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(walked, newest_first);
    let fulls = app
        .gql_ok(&token, q, json!({ "c": conn.to_string(), "m": "FULL" }))
        .await;
    assert_eq!(fulls["syncRuns"]["totalCount"], 2);
    let status = app.gql_ok(&token, "query($c:ID!){ syncStatus(connectionId:$c) { totals synced lastRun { id status } runningRun { id } } }", json!({ "c": conn.to_string() })).await;
    assert_eq!(status["syncStatus"]["lastRun"]["id"], ids[4]);
    assert_eq!(status["syncStatus"]["totals"], 25);
    assert!(status["syncStatus"]["runningRun"].is_null());
}

#[tokio::test]
async fn connecting_starts_exactly_one_first_sync() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.emulator().seed(&seed(20));
    let d = app.gql_ok(&token, r#"mutation{ createConnection(input:{ name:"auto", provider: SERVICETITAN, config:{ sandbox: true } }) { id syncStatus { runningRun { id trigger mode } lastRun { id } } } }"#, json!({})).await;
    let conn = d["createConnection"]["id"].as_str().unwrap().to_owned();
    let runs = app.gql_ok(&token, "query($c:ID){ syncRuns(connectionId:$c) { totalCount edges { node { id trigger mode } } } }", json!({ "c": conn })).await;
    assert_eq!(runs["syncRuns"]["totalCount"], 1);
    let run = &runs["syncRuns"]["edges"][0]["node"];
    assert_eq!(
        (run["trigger"].as_str(), run["mode"].as_str()),
        (Some("CONNECT"), Some("FULL"))
    );
    let done = app.wait_for_run(&token, run["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "SUCCEEDED");
    assert_eq!(done["counters"]["created"], 40);
}

#[tokio::test]
async fn webhooks_need_a_valid_signature() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.emulator().seed(&seed(5));
    let conn = app.sandbox_connection(&token, "st", json!({})).await;
    app.gql_ok(&token, "mutation($c:ID!){ updateConnection(id:$c, input:{ secrets: { webhookSecret: \"hook-secret-123\" } }) { id } }", json!({ "c": conn.to_string() })).await;
    let url = format!("{}/webhooks/{conn}", app.address);
    let body = br#"{"event":"pricebook.changed"}"#.to_vec();

    let bad = app
        .client
        .post(&url)
        .header(
            "x-pricebook-signature",
            pricebook_sync::web::webhooks::sign(
                "wrong",
                chrono::Utc::now().timestamp(),
                "d-1",
                &body,
            ),
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let none = app
        .client
        .post(&url)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    let runs = app
        .gql_ok(&token, "{ syncRuns { totalCount } }", json!({}))
        .await;
    assert_eq!(
        runs["syncRuns"]["totalCount"], 0,
        "a bad signature starts nothing"
    );

    let good = app
        .client
        .post(&url)
        .header(
            "x-pricebook-signature",
            pricebook_sync::web::webhooks::sign(
                "hook-secret-123",
                chrono::Utc::now().timestamp(),
                "d-2",
                &body,
            ),
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), 202);
    let answer: Value = good.json().await.unwrap();
    let run = app
        .wait_for_run(&token, answer["runId"].as_str().unwrap())
        .await;
    assert_eq!(
        (run["trigger"].as_str(), run["status"].as_str()),
        (Some("WEBHOOK"), Some("SUCCEEDED"))
    );
}

#[tokio::test]
async fn subscriptions_and_sse_are_scoped_to_the_account() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.emulator().seed(&seed(30));
    let conn = app.sandbox_connection(&token, "st", json!({})).await;
    let run = app.start_sync(&token, conn, "FULL").await;
    let run_id = run["run"]["id"].as_str().unwrap().to_owned();
    let other = app.user_token("tenant-b", "b@b.test", Role::Admin).await;

    let mut sub = app
        .subscribe(&other, PROGRESS, json!({ "id": run_id }))
        .await;
    let msg = sub.next(Duration::from_secs(5)).await.unwrap();
    // async-graphql reports resolver errors of a subscription as a `next` with errors.
    let errors = if msg["type"] == "error" {
        msg["payload"].clone()
    } else {
        msg["payload"]["errors"].clone()
    };
    assert_eq!(errors[0]["extensions"]["code"], "NOT_FOUND", "{msg}");

    let mut events = app
        .subscribe(&other, "subscription { syncEvents { id } }", json!({}))
        .await;
    let sse_other = app
        .client
        .get(format!("{}/api/sync/runs/{run_id}/events", app.address))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(sse_other.status(), 404);
    let no_auth = app
        .client
        .get(format!("{}/api/sync/runs/{run_id}/events", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(no_auth.status(), 401);

    // The owner reads the same payloads over SSE until the run finishes.
    let sse = app
        .client
        .get(format!("{}/api/sync/runs/{run_id}/events", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), 200);
    assert!(
        sse.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = tokio::time::timeout(Duration::from_secs(30), sse.text())
        .await
        .expect("stream ends with the run")
        .unwrap();
    assert!(text.contains("event: finished"), "{text}");
    let last = text.lines().rfind(|l| l.starts_with("data:")).unwrap();
    let payload: Value = serde_json::from_str(last.trim_start_matches("data:").trim()).unwrap();
    assert_eq!(
        (payload["status"].as_str(), payload["progress"].as_i64()),
        (Some("SUCCEEDED"), Some(100))
    );

    // Account B saw none of A's lifecycle events.
    assert!(events.next(Duration::from_millis(300)).await.is_none());
}

#[tokio::test]
async fn schedules_coalesce_missed_ticks_and_pause_after_failures() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.emulator().seed(&seed(5));
    let conn = app.sandbox_connection(&token, "st", json!({})).await;
    let bad = app.gql(Some(&token), "mutation($c:ID!){ setSchedule(connectionId:$c, incrementalCron: \"every minute\", enabled: true) { id } }", json!({ "c": conn.to_string() })).await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT");
    let d = app
        .gql_ok(&token, "mutation($c:ID!){ setSchedule(connectionId:$c, incrementalCron: \"*/15 * * * *\", fullCron: \"0 2 * * *\", enabled: true) { scheduleEnabled syncStatus { nextScheduledRun } } }", json!({ "c": conn.to_string() }))
        .await;
    assert!(d["setSchedule"]["syncStatus"]["nextScheduledRun"].is_string());

    // Hours of missed ticks become one run, enqueued once even when two schedulers race.
    let later = chrono::Utc::now() + chrono::Duration::hours(3);
    let (a, b) = tokio::join!(
        app.state.jobs.scheduler_tick(later),
        app.state.jobs.scheduler_tick(later)
    );
    let started: Vec<i64> = a.unwrap().into_iter().chain(b.unwrap()).collect();
    assert_eq!(started.len(), 1, "{started:?}");
    assert!(
        app.state
            .jobs
            .scheduler_tick(later)
            .await
            .unwrap()
            .is_empty(),
        "the same tick fires once"
    );
    let run = app.wait_for_run(&token, &started[0].to_string()).await;
    assert_eq!(run["trigger"], "SCHEDULE");

    // Ten failures in a row pause the schedule; setSchedule re-enables it.
    app.gql_ok(&token, "mutation($c:ID!){ updateConnection(id:$c, input:{ config: { sandbox: true, tenant: 999, maxRetries: 0 } }) { id } }", json!({ "c": conn.to_string() })).await;
    for _ in 0..10 {
        let r = app.start_sync(&token, conn, "INCREMENTAL").await;
        assert_eq!(
            app.wait_for_run(&token, r["run"]["id"].as_str().unwrap())
                .await["status"],
            "FAILED"
        );
    }
    let s = app.gql_ok(&token, "query($c:ID!){ syncStatus(connectionId:$c) { schedulePaused lastError nextScheduledRun } }", json!({ "c": conn.to_string() })).await;
    assert_eq!(s["syncStatus"]["schedulePaused"], true);
    assert!(
        s["syncStatus"]["lastError"]
            .as_str()
            .unwrap()
            .contains("10 consecutive")
    );
    assert!(s["syncStatus"]["nextScheduledRun"].is_null());
    app.gql_ok(
        &token,
        "mutation($c:ID!){ setSchedule(connectionId:$c, enabled: true) { id } }",
        json!({ "c": conn.to_string() }),
    )
    .await;
    let s = app
        .gql_ok(
            &token,
            "query($c:ID!){ syncStatus(connectionId:$c) { schedulePaused } }",
            json!({ "c": conn.to_string() }),
        )
        .await;
    assert_eq!(s["syncStatus"]["schedulePaused"], false);
}
