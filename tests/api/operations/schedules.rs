//! Schedules on by default after the first full sync; failing incrementals escalate to a
//! full run.

use crate::helpers::*;
use pricebook_sync::sandbox::servicetitan::SeedSpec;
use serde_json::{Value, json};

const CONN: &str = "query($c:ID!){ connection(id:$c) { scheduleEnabled incrementalCron fullCron consecutiveFailures scheduleEscalated syncStatus { nextScheduledRun } } }";

fn seed() -> SeedSpec {
    serde_json::from_value(json!({ "materials": 5, "equipment": 2, "services": 2 })).unwrap()
}

async fn connection(app: &TestApp, token: &str, id: i64) -> Value {
    app.gql_ok(token, CONN, json!({ "c": id.to_string() }))
        .await["connection"]
        .clone()
}

async fn sync_ok(app: &TestApp, token: &str, id: i64, mode: &str) -> String {
    let r = app.start_sync(token, id, mode).await;
    let run_id = r["run"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.wait_for_run(token, &run_id).await["status"],
        "SUCCEEDED"
    );
    run_id
}

async fn event_kinds(app: &TestApp, token: &str, run_id: &str) -> Vec<String> {
    let d = app
        .gql_ok(
            token,
            "query($id:ID!){ syncRun(id:$id) { events(first: 50) { edges { node { kind } } } } }",
            json!({ "id": run_id }),
        )
        .await;
    d["syncRun"]["events"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_new_connections_schedule_is_on_after_its_first_full_sync_unless_an_admin_chose() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.emulator().seed(&seed());
    let conn = app.sandbox_connection(&token, "st", json!({})).await;
    let c = connection(&app, &token, conn).await;
    assert_eq!(c["scheduleEnabled"], false, "{c}");
    assert!(c["syncStatus"]["nextScheduledRun"].is_null());

    // An incremental success does not turn it on; the first full one does.
    let first = sync_ok(&app, &token, conn, "FULL").await;
    let c = connection(&app, &token, conn).await;
    assert_eq!(
        (&c["scheduleEnabled"], &c["incrementalCron"], &c["fullCron"]),
        (&json!(true), &json!("*/15 * * * *"), &json!("0 2 * * *")),
        "{c}"
    );
    assert!(c["syncStatus"]["nextScheduledRun"].is_string());
    assert!(
        event_kinds(&app, &token, &first)
            .await
            .contains(&"schedule_enabled".to_owned())
    );

    // An admin who switched it off keeps it off.
    app.gql_ok(
        &token,
        "mutation($c:ID!){ setSchedule(connectionId:$c, enabled: false) { id } }",
        json!({ "c": conn.to_string() }),
    )
    .await;
    sync_ok(&app, &token, conn, "FULL").await;
    assert_eq!(
        connection(&app, &token, conn).await["scheduleEnabled"],
        false
    );

    // So does one who switched a new connection off before its first sync.
    let other = app.sandbox_connection(&token, "st2", json!({})).await;
    app.gql_ok(
        &token,
        "mutation($c:ID!){ setSchedule(connectionId:$c, enabled: false) { id } }",
        json!({ "c": other.to_string() }),
    )
    .await;
    sync_ok(&app, &token, other, "FULL").await;
    assert_eq!(
        connection(&app, &token, other).await["scheduleEnabled"],
        false
    );
}

#[tokio::test]
async fn three_failed_incrementals_make_the_next_scheduled_run_full() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.emulator().seed(&seed());
    let conn = app.sandbox_connection(&token, "st", json!({})).await;
    sync_ok(&app, &token, conn, "FULL").await;

    // Two failures: the next tick is still incremental.
    app.gql_ok(&token, "mutation($c:ID!){ updateConnection(id:$c, input:{ config: { sandbox: true, tenant: 999, maxRetries: 0 } }) { id } }", json!({ "c": conn.to_string() })).await;
    let fail = || async {
        let r = app.start_sync(&token, conn, "INCREMENTAL").await;
        let run = app
            .wait_for_run(&token, r["run"]["id"].as_str().unwrap())
            .await;
        assert_eq!(run["status"], "FAILED");
    };
    fail().await;
    fail().await;
    let c = connection(&app, &token, conn).await;
    assert_eq!(
        (&c["consecutiveFailures"], &c["scheduleEscalated"]),
        (&json!(2), &json!(false))
    );
    fail().await;
    let c = connection(&app, &token, conn).await;
    assert_eq!(
        (&c["consecutiveFailures"], &c["scheduleEscalated"]),
        (&json!(3), &json!(true))
    );

    // The next incremental tick (15 minutes on) starts a full run, recorded as an event.
    let later = chrono::Utc::now() + chrono::Duration::minutes(16);
    let started = app.state.jobs.scheduler_tick(later).await.unwrap();
    assert_eq!(started.len(), 1, "{started:?}");
    let id = started[0].to_string();
    let run = app
        .gql_ok(
            &token,
            "query($id:ID!){ syncRun(id:$id) { mode trigger } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        (&run["syncRun"]["mode"], &run["syncRun"]["trigger"]),
        (&json!("FULL"), &json!("SCHEDULE"))
    );
    app.wait_for_run(&token, &id).await;
    assert!(
        event_kinds(&app, &token, &id)
            .await
            .contains(&"schedule_escalated".to_owned())
    );
}
