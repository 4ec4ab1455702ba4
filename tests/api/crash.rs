//! Crash resume with the real binary: kill -9 mid-sync, start again, the run resumes from
//! its checkpoint and finishes with every item present exactly once.

use crate::helpers::*;
use crate::process::{gql, ready, start};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_killed_server_resumes_its_run_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = database_url(dir.path()).await;
    let client = reqwest::Client::new();
    let first = start(dir.path(), database_url.as_deref(), 2);
    ready(&client, &first.base).await;
    // Slow the upstream so the run is still going when the process dies.
    let r = client
        .post(format!(
            "{}/sandbox/servicetitan/_control/faults",
            first.base
        ))
        .json(&json!({ "kind": "latency", "ms": 300, "count": 40 }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let login = gql(
        &client,
        &first.base,
        None,
        "mutation($e:String!,$p:String!){ login(email:$e,password:$p){ token } }",
        json!({ "e": ADMIN_EMAIL, "p": ADMIN_PASSWORD }),
    )
    .await;
    let token = login["login"]["token"].as_str().unwrap().to_owned();
    gql(&client, &first.base, Some(&token), r#"mutation{ createConnection(input:{ name:"st", provider: SERVICETITAN, config:{ sandbox: true } }) { id } }"#, json!({})).await;
    let (run_id, seen) = loop {
        let d = gql(
            &client,
            &first.base,
            Some(&token),
            "{ syncRuns { edges { node { id status progress counters { fetched created } } } } }",
            json!({}),
        )
        .await;
        let run = &d["syncRuns"]["edges"][0]["node"];
        if run["counters"]["created"].as_i64().unwrap_or(0) >= 1_000 {
            assert_eq!(run["status"], "RUNNING");
            break (run["id"].as_str().unwrap().to_owned(), run.clone());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    drop(first); // SIGKILL: no graceful shutdown, the lease is left behind.

    let second = start(dir.path(), database_url.as_deref(), 2);
    ready(&client, &second.base).await;
    let login = gql(
        &client,
        &second.base,
        None,
        "mutation($e:String!,$p:String!){ login(email:$e,password:$p){ token } }",
        json!({ "e": ADMIN_EMAIL, "p": ADMIN_PASSWORD }),
    )
    .await;
    let token = login["login"]["token"].as_str().unwrap().to_owned();
    let figure = |run: &serde_json::Value, path: &[&str]| {
        path.iter()
            .fold(run, |v, k| &v[*k])
            .as_i64()
            .unwrap_or_default()
    };
    let done = loop {
        let d = gql(
            &client,
            &second.base,
            Some(&token),
            "query($id:ID!){ syncRun(id:$id) { status attempts error progress counters { fetched created } } }",
            json!({ "id": run_id }),
        )
        .await;
        let run = &d["syncRun"];
        let status = run["status"].as_str().unwrap().to_owned();
        if status != "RUNNING" && status != "QUEUED" {
            break run.clone();
        }
        // The resumed attempt starts from its checkpoint: never below what was seen.
        if run["attempts"] == 2 {
            for path in [
                &["progress"][..],
                &["counters", "created"],
                &["counters", "fetched"],
            ] {
                assert!(
                    figure(run, path) >= figure(&seen, path),
                    "{path:?} went back after the resume: {run} (before the crash: {seen})"
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["attempts"], 2, "taken over once after the crash");
    // Counters cover both attempts: every item created and fetched once in all.
    assert_eq!(done["counters"]["created"], 3000, "{done}");
    assert!(figure(&done, &["counters", "fetched"]) >= 3000, "{done}");
    let items = gql(
        &client,
        &second.base,
        Some(&token),
        "{ items { totalCount } deleted: items(deleted: true) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(items["items"]["totalCount"], 3000, "every item present");
    assert_eq!(items["deleted"]["totalCount"], 0, "nothing deleted");
    // Exactly once: codes are unique among the items.
    let mut codes = std::collections::HashSet::new();
    let mut after: Option<String> = None;
    loop {
        let page = gql(&client, &second.base, Some(&token), "query($a:String){ items(first: 500, after:$a) { pageInfo { hasNextPage endCursor } edges { node { code } } } }", json!({ "a": after })).await;
        for e in page["items"]["edges"].as_array().unwrap() {
            assert!(
                codes.insert(e["node"]["code"].as_str().unwrap().to_owned()),
                "duplicate item {e}"
            );
        }
        if !page["items"]["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = page["items"]["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
    assert_eq!(codes.len(), 3000);
}
