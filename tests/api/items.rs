use crate::helpers::*;
use serde_json::{Value, json};
use std::collections::HashSet;

const PAGE_QUERY: &str = r#"query($first:Int,$after:String,$last:Int,$before:String,$sort:ItemSort!,$desc:Boolean!){
  items(first:$first, after:$after, last:$last, before:$before, sort:$sort, descending:$desc) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id code name cost price } }
  }
}"#;

async fn walk_forward(app: &TestApp, token: &str, sort: &str, desc: bool) -> Vec<Value> {
    let mut after: Option<String> = None;
    let mut nodes = Vec::new();
    loop {
        let data = app
            .gql_ok(
                token,
                PAGE_QUERY,
                json!({ "first": 100, "after": after, "sort": sort, "desc": desc }),
            )
            .await;
        let conn = &data["items"];
        assert_eq!(conn["totalCount"], 1000);
        nodes.extend(
            conn["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone()),
        );
        if !conn["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = conn["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    nodes
}

#[tokio::test]
async fn pagination_is_stable_and_complete_over_1000_items() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    seed_items(&app, account, 1000).await;

    for (sort, desc) in [
        ("CODE", false),
        ("NAME", false),
        ("NAME", true),
        ("UPDATED_AT", true),
    ] {
        let nodes = walk_forward(&app, &token, sort, desc).await;
        assert_eq!(nodes.len(), 1000, "{sort} desc={desc}");
        let ids: HashSet<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 1000, "no duplicates for {sort} desc={desc}");
        let key = |n: &Value| match sort {
            "CODE" => n["code"].as_str().unwrap().to_owned(),
            "NAME" => n["name"].as_str().unwrap().to_owned(),
            _ => String::new(),
        };
        if sort != "UPDATED_AT" {
            let keys: Vec<String> = nodes.iter().map(key).collect();
            let mut sorted = keys.clone();
            sorted.sort();
            if desc {
                sorted.reverse();
            }
            assert_eq!(keys, sorted, "ordered by {sort} desc={desc}");
        }
    }

    // Backwards from the end gives the same rows as forwards.
    let forward = walk_forward(&app, &token, "CODE", false).await;
    let mut before: Option<String> = None;
    let mut backward: Vec<Value> = Vec::new();
    loop {
        let data = app
            .gql_ok(
                &token,
                PAGE_QUERY,
                json!({ "last": 100, "before": before, "sort": "CODE", "desc": false }),
            )
            .await;
        let conn = &data["items"];
        let mut page: Vec<Value> = conn["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"].clone())
            .collect();
        page.extend(backward);
        backward = page;
        if !conn["pageInfo"]["hasPreviousPage"].as_bool().unwrap() {
            break;
        }
        before = conn["pageInfo"]["startCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(forward, backward);

    // Money is an exact decimal string.
    assert_eq!(forward[3]["cost"], "3.75");
}

#[tokio::test]
async fn filters_and_bad_pagination_arguments() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    seed_items(&app, account, 30).await;
    let d = app.gql_ok(&token, r#"{ s: items(search: "item-001") { totalCount } k: items(kind: SERVICE) { totalCount } a: items(active: false) { totalCount } }"#, json!({})).await;
    assert_eq!(d["s"]["totalCount"], 10);
    assert_eq!(d["k"]["totalCount"], 10);
    assert_eq!(d["a"]["totalCount"], 3);

    for (vars, fragment) in [
        (
            json!({ "first": 501, "sort": "CODE", "desc": false }),
            "between 0 and 500",
        ),
        (
            json!({ "first": -1, "sort": "CODE", "desc": false }),
            "between 0 and 500",
        ),
        (
            json!({ "first": 5, "after": "not-a-cursor", "sort": "CODE", "desc": false }),
            "invalid cursor",
        ),
        (
            json!({ "first": 5, "last": 5, "sort": "CODE", "desc": false }),
            "either first or last",
        ),
    ] {
        let r = app.gql(Some(&token), PAGE_QUERY, vars).await;
        assert_eq!(error_code(&r), "BAD_USER_INPUT");
        assert!(
            r["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(fragment),
            "{r}"
        );
    }
}

#[tokio::test]
async fn local_edit_marks_links_pending_and_is_audited() {
    use entity::enums::LinkStatus;
    use sea_orm::{ActiveModelTrait, Set};
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let ids = seed_items(&app, account, 2).await;
    let conn = app.sandbox_connection(&token, "st", json!({})).await;
    entity::item_link::ActiveModel {
        account_id: Set(account),
        item_id: Set(ids[0]),
        connection_id: Set(conn),
        entity_type: Set("materials".into()),
        remote_id: Set("77".into()),
        remote_modified_on: Set(None),
        last_synced_at: Set(Some(chrono::Utc::now())),
        base: Set(json!({})),
        base_hash: Set("x".into()),
        last_pushed_hash: Set(None),
        sync_status: Set(LinkStatus::Synced),
        deleted_remotely: Set(false),
        paused: Set(false),
        last_seen_run_id: Set(None),
        last_error: Set(None),
        attempts: Set(0),
        updated_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();

    let q = "mutation($id:ID!){ updateItem(id:$id, input:{ cost: \"19.999\", price: \"25.5\" }) { cost price localModifiedAt links { remoteId syncStatus } } }";
    let d = app
        .gql_ok(&token, q, json!({ "id": ids[0].to_string() }))
        .await;
    assert_eq!(d["updateItem"]["cost"], "19.999");
    assert_eq!(d["updateItem"]["price"], "25.5");
    assert!(d["updateItem"]["localModifiedAt"].is_string());
    assert_eq!(d["updateItem"]["links"][0]["syncStatus"], "PENDING_PUSH");

    let audit = app.gql_ok(&token, r#"{ auditLog(action: "item.update") { totalCount edges { node { entityId details } } } }"#, json!({})).await;
    assert_eq!(audit["auditLog"]["totalCount"], 1);
    assert_eq!(
        audit["auditLog"]["edges"][0]["node"]["details"]["cost"]["to"],
        "19.999"
    );

    // Bad inputs: wrong type, negative money, unknown id, empty name.
    let r = app
        .gql(
            Some(&token),
            "mutation($id:ID!){ updateItem(id:$id, input:{ cost: \"abc\" }) { id } }",
            json!({ "id": ids[0].to_string() }),
        )
        .await;
    assert!(r["errors"].is_array(), "{r}");
    let r = app
        .gql(
            Some(&token),
            "mutation($id:ID!){ updateItem(id:$id, input:{ cost: \"-1\" }) { id } }",
            json!({ "id": ids[0].to_string() }),
        )
        .await;
    assert_eq!(error_code(&r), "BAD_USER_INPUT");
    let r = app
        .gql(
            Some(&token),
            "mutation{ updateItem(id:\"999999\", input:{ name: \"x\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&r), "NOT_FOUND");
    let r = app
        .gql(
            Some(&token),
            "mutation{ updateItem(id:\"abc\", input:{ name: \"x\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&r), "BAD_USER_INPUT");
    let r = app
        .gql(
            Some(&token),
            "mutation($id:ID!){ updateItem(id:$id, input:{ name: \"  \" }) { id } }",
            json!({ "id": ids[0].to_string() }),
        )
        .await;
    assert_eq!(error_code(&r), "BAD_USER_INPUT");
}
