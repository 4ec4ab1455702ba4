//! Push on save: a local edit queues a push run per linked connection with `pushOnSave`,
//! coalesced per connection, without a manual run — over the emulator, on both databases.

use crate::helpers::*;
use entity::enums::{ConnectionHealth, RunMode, RunStatus};
use pricebook_sync::sandbox::faults::FaultKind;
use pricebook_sync::sandbox::servicetitan::SeedSpec;
use serde_json::{Value, json};

const EDIT: &str = "mutation($id:ID!,$i:ItemInput!){ updateItem(id:$id, input:$i) { id price links { syncStatus } pendingPushRuns { id status mode trigger } } }";

fn materials(n: usize) -> SeedSpec {
    serde_json::from_value(json!({ "materials": n, "equipment": 0, "services": 0 })).unwrap()
}

fn code(i: usize) -> String {
    format!("MAT-{:06}", i + 1)
}

/// A ServiceTitan sandbox connection (push on save as given) after a first full sync of
/// `n` seeded materials.
async fn synced(app: &TestApp, token: &str, n: usize, push_on_save: bool) -> i64 {
    app.emulator().seed(&materials(n));
    let d = app
        .gql_ok(token, "mutation($p:Boolean!){ createConnection(input:{ name:\"st\", provider: SERVICETITAN, config:{ sandbox: true, maxRetries: 3 }, startSync: false, pushOnSave: $p }) { id pushOnSave } }", json!({ "p": push_on_save }))
        .await;
    assert_eq!(d["createConnection"]["pushOnSave"], push_on_save);
    let conn = d["createConnection"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let first = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.error);
    conn
}

async fn edit(app: &TestApp, token: &str, item_id: i64, input: Value) -> Value {
    app.gql_ok(
        token,
        EDIT,
        json!({ "id": item_id.to_string(), "i": input }),
    )
    .await["updateItem"]
        .clone()
}

fn run_ids(edited: &Value) -> Vec<String> {
    edited["pendingPushRuns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits until the connection has no queued or running run.
async fn settle(app: &TestApp, token: &str, conn: i64) {
    for _ in 0..600 {
        let active = runs_of(app, token, conn)
            .await
            .iter()
            .any(|r| r["status"] == "QUEUED" || r["status"] == "RUNNING");
        if !active {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("runs of connection {conn} did not end");
}

fn save_runs(runs: &[Value]) -> Vec<&Value> {
    runs.iter().filter(|r| r["trigger"] == "SAVE").collect()
}

#[tokio::test]
async fn an_edit_reaches_the_emulator_without_a_manual_run_and_a_remote_change_is_a_conflict() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let conn = synced(&app, &token, 3, true).await;
    let ids = app.emulator().ids("materials");
    let item = app.item_by_code(account, &code(0)).await;

    let started = std::time::Instant::now();
    let edited = edit(&app, &token, item.id, json!({ "price": "41.75" })).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "the mutation answers at once"
    );
    assert_eq!(edited["links"][0]["syncStatus"], "PENDING_PUSH");
    let runs = edited["pendingPushRuns"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{edited}");
    assert_eq!(runs[0]["mode"], "PUSH");
    assert_eq!(runs[0]["trigger"], "SAVE");
    let done = app
        .wait_for_run(&token, runs[0]["id"].as_str().unwrap())
        .await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["counters"]["pushed"], 1, "{done}");
    assert_eq!(
        app.emulator().get_remote("materials", ids[0]).unwrap()["price"],
        json!(41.75)
    );
    let d = app
        .gql_ok(
            &token,
            "query($id:ID!){ item(id:$id) { links { syncStatus } pendingPushRuns { id } } }",
            json!({ "id": item.id.to_string() }),
        )
        .await;
    assert_eq!(d["item"]["links"][0]["syncStatus"], "SYNCED");
    assert_eq!(d["item"]["pendingPushRuns"], json!([]));

    // The run is a normal single-record run: a remote change of the same field since the
    // last sync is a conflict, stored, and upstream is not overwritten.
    let other = app.item_by_code(account, &code(1)).await;
    app.emulator()
        .set_remote("materials", ids[1], &json!({ "price": 99.0 }))
        .unwrap();
    let edited = edit(&app, &token, other.id, json!({ "price": "12.00" })).await;
    let done = app.wait_for_run(&token, &run_ids(&edited)[0]).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["counters"]["conflicts"], 1, "{done}");
    assert_eq!(done["counters"]["pushed"], 0, "{done}");
    assert_eq!(
        app.emulator().get_remote("materials", ids[1]).unwrap()["price"],
        json!(99.0),
        "not overwritten"
    );
    let d = app
        .gql_ok(&token, "{ conflicts(status: OPEN) { totalCount edges { node { item { code } fields { field local remote } } } } }", json!({}))
        .await;
    assert_eq!(d["conflicts"]["totalCount"], 1, "{d}");
    assert_eq!(d["conflicts"]["edges"][0]["node"]["item"]["code"], code(1));
    let _ = conn;
}

#[tokio::test]
async fn two_hundred_rapid_edits_make_a_handful_of_runs_and_every_edit_lands() {
    use futures::StreamExt;
    const N: usize = 200;
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let conn = synced(&app, &token, N, true).await;
    let ids = app.emulator().ids("materials");
    let mut items = Vec::new();
    for i in 0..N {
        items.push(app.item_by_code(account, &code(i)).await.id);
    }
    let price = |i: usize| format!("{}.{:02}", 100 + i, i % 100);
    let edits = futures::stream::iter(items.iter().enumerate().map(|(i, id)| {
        let (app, token) = (&app, &token);
        async move { edit(app, token, *id, json!({ "price": price(i) })).await }
    }))
    .buffer_unordered(8)
    .collect::<Vec<Value>>()
    .await;
    for e in &edits {
        assert_eq!(run_ids(e).len(), 1, "every edit has its run: {e}");
    }
    settle(&app, &token, conn).await;
    let runs = runs_of(&app, &token, conn).await;
    let saves = save_runs(&runs);
    eprintln!("{} push-on-save runs for {N} edits", saves.len());
    assert!(
        !saves.is_empty() && saves.len() <= 5,
        "{} push-on-save runs for {N} edits",
        saves.len()
    );
    assert!(saves.iter().all(|r| r["status"] == "SUCCEEDED"), "{runs:?}");
    for (i, remote_id) in ids.iter().enumerate() {
        let expected: f64 = price(i).parse().unwrap();
        assert_eq!(
            app.emulator().get_remote("materials", *remote_id).unwrap()["price"],
            json!(expected),
            "edit {i} landed upstream"
        );
    }
}

#[tokio::test]
async fn push_on_save_off_queues_nothing_and_can_be_turned_on() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let conn = synced(&app, &token, 2, false).await;
    let ids = app.emulator().ids("materials");
    let item = app.item_by_code(account, &code(0)).await;
    let before = runs_of(&app, &token, conn).await.len();
    let edited = edit(&app, &token, item.id, json!({ "price": "55.00" })).await;
    assert_eq!(edited["pendingPushRuns"], json!([]));
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(runs_of(&app, &token, conn).await.len(), before, "no run");
    assert_ne!(
        app.emulator().get_remote("materials", ids[0]).unwrap()["price"],
        json!(55.0)
    );

    let d = app
        .gql_ok(&token, "mutation($id:ID!){ updateConnection(id:$id, input:{ pushOnSave: true }) { pushOnSave } }", json!({ "id": conn.to_string() }))
        .await;
    assert_eq!(d["updateConnection"]["pushOnSave"], true);
    let edited = edit(&app, &token, item.id, json!({ "price": "56.00" })).await;
    let done = app.wait_for_run(&token, &run_ids(&edited)[0]).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(
        app.emulator().get_remote("materials", ids[0]).unwrap()["price"],
        json!(56.0)
    );
}

#[tokio::test]
async fn an_edit_during_an_executing_run_gets_a_follow_up_run() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let conn = synced(&app, &token, 3, true).await;
    let ids = app.emulator().ids("materials");
    let item = app.item_by_code(account, &code(2)).await;

    // A full run kept busy by a slow upstream.
    app.emulator().faults().push(FaultKind::Latency(1_500), 2);
    let started = app.start_sync(&token, conn, "FULL").await;
    let full_id = started["run"]["id"].as_str().unwrap().to_owned();
    for _ in 0..200 {
        let d = app
            .gql_ok(
                &token,
                "query($id:ID!){ syncRun(id:$id) { status } }",
                json!({ "id": full_id }),
            )
            .await;
        if d["syncRun"]["status"] == "RUNNING" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let edited = edit(&app, &token, item.id, json!({ "price": "64.25" })).await;
    let runs = edited["pendingPushRuns"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{edited}");
    assert_ne!(runs[0]["id"], full_id, "never the executing run");
    assert_eq!(runs[0]["status"], "QUEUED");
    // A second edit meanwhile joins the follow-up.
    let second = edit(&app, &token, item.id, json!({ "price": "64.50" })).await;
    assert_eq!(run_ids(&second), run_ids(&edited));

    let follow_up = app.wait_for_run(&token, &run_ids(&edited)[0]).await;
    assert_eq!(follow_up["status"], "SUCCEEDED", "{follow_up}");
    let full = app.wait_for_run(&token, &full_id).await;
    assert_eq!(full["status"], "SUCCEEDED", "{full}");
    assert_eq!(
        app.emulator().get_remote("materials", ids[2]).unwrap()["price"],
        json!(64.5)
    );
    // startSync still answers with the active run rather than a second one.
    app.emulator().faults().push(FaultKind::Latency(1_000), 1);
    let a = app.start_sync(&token, conn, "INCREMENTAL").await;
    let b = app.start_sync(&token, conn, "FULL").await;
    assert_eq!(b["alreadyRunning"], true);
    assert_eq!(a["run"]["id"], b["run"]["id"]);
    settle(&app, &token, conn).await;
}

#[tokio::test]
async fn a_connection_that_must_reauthenticate_or_is_paused_gets_no_run() {
    use sea_orm::{ActiveModelTrait, Set};
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let conn = synced(&app, &token, 2, true).await;
    let item = app.item_by_code(account, &code(0)).await;
    entity::connection::ActiveModel {
        id: Set(conn),
        health: Set(ConnectionHealth::NeedsReauth),
        ..Default::default()
    }
    .update(&app.state.db)
    .await
    .unwrap();
    let before = runs_of(&app, &token, conn).await.len();
    let edited = edit(&app, &token, item.id, json!({ "price": "70.00" })).await;
    assert_eq!(edited["pendingPushRuns"], json!([]));
    assert_eq!(
        edited["links"][0]["syncStatus"], "PENDING_PUSH",
        "kept for later"
    );

    entity::connection::ActiveModel {
        id: Set(conn),
        health: Set(ConnectionHealth::Active),
        status: Set(entity::enums::ConnectionStatus::Paused),
        ..Default::default()
    }
    .update(&app.state.db)
    .await
    .unwrap();
    let edited = edit(&app, &token, item.id, json!({ "price": "71.00" })).await;
    assert_eq!(edited["pendingPushRuns"], json!([]));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(runs_of(&app, &token, conn).await.len(), before);
}

/// The queue is the database: a push run queued while no worker runs (a server that
/// stops before executing it) waits, joined by later edits, and runs when workers start.
#[tokio::test]
async fn a_queued_push_run_survives_until_a_worker_starts() {
    let app = TestApp::spawn_with(|s| s.workers = 0).await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let conn = synced(&app, &token, 2, true).await;
    let ids = app.emulator().ids("materials");
    let first = app.item_by_code(account, &code(0)).await;
    let second = app.item_by_code(account, &code(1)).await;
    let a = edit(&app, &token, first.id, json!({ "price": "80.00" })).await;
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    let b = edit(&app, &token, second.id, json!({ "price": "81.00" })).await;
    assert_eq!(
        run_ids(&a),
        run_ids(&b),
        "the later edit joins the waiting run"
    );
    assert_eq!(b["pendingPushRuns"][0]["status"], "QUEUED");

    app.state.jobs.start(1, false);
    let done = app.wait_for_run(&token, &run_ids(&a)[0]).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["counters"]["pushed"], 2, "{done}");
    assert_eq!(
        app.emulator().get_remote("materials", ids[0]).unwrap()["price"],
        json!(80.0)
    );
    assert_eq!(
        app.emulator().get_remote("materials", ids[1]).unwrap()["price"],
        json!(81.0)
    );
    let _ = conn;
}

/// Push on save is on unless a connection is created with it off.
#[tokio::test]
async fn push_on_save_is_on_by_default() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let d = app
        .gql_ok(
            &token,
            "mutation{ createConnection(input:{ name:\"default\", provider: SERVICETITAN, config:{ sandbox: true }, startSync: false }) { pushOnSave } }",
            json!({}),
        )
        .await;
    assert_eq!(d["createConnection"]["pushOnSave"], true);
}
