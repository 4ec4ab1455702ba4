//! Two server processes on one PostgreSQL database share the queue, and a subscriber on
//! one sees progress of a run executing on the other (LISTEN/NOTIFY).

use crate::helpers::*;
use crate::process::{gql, ready, start};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn two_instances_share_the_queue_and_progress() {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = database_url(dir.path()).await else {
        skip(
            "instances::two_instances_share_the_queue_and_progress",
            "needs PostgreSQL (set TEST_DATABASE_URL)",
            "PRICEBOOK_REQUIRE_PG",
        );
        return;
    };
    let client = reqwest::Client::new();
    // A serves the API and executes nothing; B only executes.
    let a = start(dir.path(), Some(&url), 0);
    ready(&client, &a.base).await;
    let b_dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.path().join("jwt.secret"),
        b_dir.path().join("jwt.secret"),
    )
    .unwrap();
    std::fs::copy(
        dir.path().join("encryption.key"),
        b_dir.path().join("encryption.key"),
    )
    .unwrap();
    let b = start(b_dir.path(), Some(&url), 2);
    ready(&client, &b.base).await;

    let login = gql(
        &client,
        &a.base,
        None,
        "mutation($e:String!,$p:String!){ login(email:$e,password:$p){ token } }",
        json!({ "e": ADMIN_EMAIL, "p": ADMIN_PASSWORD }),
    )
    .await;
    let token = login["login"]["token"].as_str().unwrap().to_owned();
    // The sandbox connection points at A's emulator, which B reaches over HTTP.
    let created = gql(
        &client,
        &a.base,
        Some(&token),
        "mutation($c:JSON!){ createConnection(input:{ name:\"st\", provider: SERVICETITAN, config:$c, startSync: false }) { id } }",
        json!({ "c": { "sandbox": true, "baseUrl": format!("{}/sandbox/servicetitan", a.base) } }),
    )
    .await;
    let conn = created["createConnection"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    client
        .post(format!("{}/sandbox/servicetitan/_control/faults", a.base))
        .json(&json!({ "kind": "latency", "ms": 1500, "count": 1 }))
        .send()
        .await
        .unwrap();
    let started = gql(
        &client,
        &a.base,
        Some(&token),
        "mutation($c:ID!){ startSync(connectionId:$c, mode: FULL) { run { id } } }",
        json!({ "c": conn }),
    )
    .await;
    let run_id = started["startSync"]["run"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Subscribe on A while B executes.
    let app_a = SubscriberOn(a.base.clone());
    let mut sub = app_a
        .subscribe(
            &token,
            "subscription($id:ID!){ syncProgress(runId:$id) { status progress } }",
            json!({ "id": run_id }),
        )
        .await;
    let mut statuses = Vec::new();
    loop {
        let Some(msg) = sub.next(Duration::from_secs(60)).await else {
            panic!("no progress from the other instance after {statuses:?}");
        };
        if msg["type"] == "complete" {
            break;
        }
        statuses.push((
            msg["payload"]["data"]["syncProgress"]["status"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
            msg["payload"]["data"]["syncProgress"]["progress"]
                .as_i64()
                .unwrap_or(-1),
        ));
    }
    assert!(statuses.len() >= 2, "{statuses:?}");
    assert_eq!(statuses.last().unwrap(), &("SUCCEEDED".to_owned(), 100));
    let items = gql(
        &client,
        &a.base,
        Some(&token),
        "{ items { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(items["items"]["totalCount"], 3000);
}

/// Reuses the WebSocket client of the in-process tests against another server.
struct SubscriberOn(String);

impl SubscriberOn {
    async fn subscribe(
        &self,
        token: &str,
        query: &str,
        variables: serde_json::Value,
    ) -> Subscription {
        Subscription::connect(
            &format!("{}/graphql/ws", self.0.replacen("http", "ws", 1)),
            token,
            query,
            variables,
        )
        .await
    }
}
