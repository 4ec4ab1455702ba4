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

/// kill -9 while a push run is writing upstream: the resumed run sends no PATCH twice.
/// The upstream lives in this test process, so it outlives the killed server and counts
/// every write it received.
#[tokio::test]
async fn a_push_run_killed_midway_sends_no_patch_twice() {
    use pricebook_sync::sandbox::faults::FaultKind;
    use std::sync::atomic::Ordering;
    const RECORDS: usize = 300;
    let (upstream, upstream_base) =
        crate::price_safety::other_servicetitan(&pricebook_sync::sandbox::servicetitan::SeedSpec {
            materials: RECORDS,
            equipment: 0,
            services: 0,
            seed: 5,
        })
        .await;
    let dir = tempfile::tempdir().unwrap();
    let database_url = database_url(dir.path()).await;
    let client = reqwest::Client::new();
    let first = start(dir.path(), database_url.as_deref(), 2);
    ready(&client, &first.base).await;
    let login = |base: String| {
        let client = client.clone();
        async move {
            let d = gql(
                &client,
                &base,
                None,
                "mutation($e:String!,$p:String!){ login(email:$e,password:$p){ token } }",
                json!({ "e": ADMIN_EMAIL, "p": ADMIN_PASSWORD }),
            )
            .await;
            d["login"]["token"].as_str().unwrap().to_owned()
        }
    };
    let token = login(first.base.clone()).await;
    let d = gql(
        &client,
        &first.base,
        Some(&token),
        "mutation($c:JSON!){ createConnection(input:{ name:\"st\", provider: SERVICETITAN, config:$c, startSync: false }) { id } }",
        json!({ "c": { "sandbox": true, "baseUrl": upstream_base, "requestsPerSecond": 1000 } }),
    )
    .await;
    let conn = d["createConnection"]["id"].as_str().unwrap().to_owned();
    let d = gql(
        &client,
        &first.base,
        Some(&token),
        "mutation($c:ID!){ startSync(connectionId:$c, mode: FULL) { run { id } } }",
        json!({ "c": conn }),
    )
    .await;
    let pulled = d["startSync"]["run"]["id"].as_str().unwrap().to_owned();
    wait_until_finished(&client, &first.base, &token, &pulled).await;

    // Every cost changes locally; the import's run pushes them, slowly.
    let mut csv = String::from("sku,cost\n");
    for i in 1..=RECORDS {
        csv.push_str(&format!("MAT-{i:06},{}.25\n", 1000 + i));
    }
    upstream.reset_stats();
    upstream
        .faults()
        .push(FaultKind::Latency(25), (RECORDS * 3) as u32);
    let body =
        crate::price_safety::upload_item_costs(&client, &first.base, &token, &conn, &csv).await;
    let import = &body["data"]["uploadCsv"];
    assert_eq!(import["updated"], RECORDS, "{body}");
    let push_run = import["runId"].as_str().unwrap().to_owned();
    // Mid-batch (pushes are prepared a hundred at a time).
    while upstream.stats().update.load(Ordering::Relaxed) < (RECORDS / 2) as u64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(first); // SIGKILL mid-push: writes in flight, pushes not yet recorded.
    let reads_before = upstream.stats().list.load(Ordering::Relaxed);

    let second = start(dir.path(), database_url.as_deref(), 2);
    ready(&client, &second.base).await;
    let token = login(second.base.clone()).await;
    let done = wait_until_finished(&client, &second.base, &token, &push_run).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(
        done["attempts"], 2,
        "taken over once after the crash: {done}"
    );
    assert_eq!(
        upstream.stats().update.load(Ordering::Relaxed),
        RECORDS as u64,
        "one PATCH per changed record, none repeated"
    );
    assert!(
        upstream.stats().list.load(Ordering::Relaxed) > reads_before,
        "the resumed run read back the writes that were in flight"
    );
    for (i, id) in upstream.ids("materials").into_iter().enumerate() {
        let remote = upstream.get_remote("materials", id).unwrap();
        assert_eq!(remote["code"], format!("MAT-{:06}", i + 1));
        assert_eq!(remote["cost"], json!(1000.25 + (i + 1) as f64), "{remote}");
    }
}

async fn wait_until_finished(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    run_id: &str,
) -> serde_json::Value {
    for _ in 0..1200 {
        let d = gql(
            client,
            base,
            Some(token),
            "query($id:ID!){ syncRun(id:$id) { status attempts error counters { pushed errors } } }",
            json!({ "id": run_id }),
        )
        .await;
        let status = d["syncRun"]["status"].as_str().unwrap().to_owned();
        if status != "RUNNING" && status != "QUEUED" {
            return d["syncRun"].clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("run {run_id} did not finish");
}
