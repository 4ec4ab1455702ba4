use crate::helpers::*;
use entity::enums::{LinkStatus, RunMode, RunStatus};
use pricebook_sync::sandbox::servicetitan::SeedSpec;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

fn small() -> SeedSpec {
    serde_json::from_value(json!({ "materials": 40, "equipment": 5, "services": 10 })).unwrap()
}

async fn link_of(app: &TestApp, item_id: i64) -> entity::item_link::Model {
    entity::item_link::Entity::find()
        .filter(entity::item_link::Column::ItemId.eq(item_id))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
}

/// Seed, full sync, change things on each side, sync again: every category of the
/// three-way table ends where it should, and a further sync changes nothing anywhere.
#[tokio::test]
async fn full_sync_converges_row_by_row_and_is_idempotent() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let emu = app.emulator();
    emu.seed(&small());
    let conn = app.sandbox_connection(&token, "st", json!({})).await;

    let first = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.error);
    assert_eq!(first.created, 55);
    assert_eq!(first.progress, 100);
    let d = app.gql_ok(&token, "{ items { totalCount } categories(roots: true) { totalCount edges { node { children { name children { name } } } } } }", json!({})).await;
    assert_eq!(d["items"]["totalCount"], 55);
    assert_eq!(d["categories"]["totalCount"], 5);
    assert_eq!(
        d["categories"]["edges"][0]["node"]["children"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    let ids = emu.ids("materials");
    let code = |i: usize| format!("MAT-{:06}", i + 1);
    let item = |i: usize| {
        let c = code(i);
        let app = &app;
        async move { app.item_by_code(account, &c).await }
    };
    let local_edit = |i: usize, input: serde_json::Value| {
        let app = &app;
        let token = token.clone();
        async move {
            let id = app.item_by_code(account, &code(i)).await.id;
            app.gql_ok(
                &token,
                "mutation($id:ID!,$i:ItemInput!){ updateItem(id:$id, input:$i) { id } }",
                json!({ "id": id.to_string(), "i": input }),
            )
            .await;
        }
    };
    // 0: remote only
    emu.set_remote(
        "materials",
        ids[0],
        &json!({ "displayName": "Remote renamed" }),
    )
    .unwrap();
    // 1: local only
    local_edit(1, json!({ "price": "77.5" })).await;
    // 2: conflict (same field, different values) + another field changed remotely
    emu.set_remote(
        "materials",
        ids[2],
        &json!({ "displayName": "Remote name", "description": "remote desc" }),
    )
    .unwrap();
    local_edit(2, json!({ "name": "Local name" })).await;
    // 3: converged
    emu.set_remote("materials", ids[3], &json!({ "price": 12.25 }))
        .unwrap();
    local_edit(3, json!({ "price": "12.25" })).await;
    // 4: remote delete (with a vendor price that must survive)
    let deleted_item = item(4).await;
    add_vendor_price(&app, account, deleted_item.id).await;
    assert!(emu.delete_remote("materials", ids[4]));
    // 5: remote delete vs local edit
    local_edit(5, json!({ "cost": "1.11" })).await;
    assert!(emu.delete_remote("materials", ids[5]));
    // 6: remote deactivation
    emu.set_remote("materials", ids[6], &json!({ "active": false }))
        .unwrap();
    let untouched_remote_2 = emu.get_remote("materials", ids[2]).unwrap();
    emu.reset_stats();

    let second = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(second.status, RunStatus::Succeeded, "{:?}", second.error);
    assert_eq!(
        (
            second.updated,
            second.pushed,
            second.deleted,
            second.conflicts
        ),
        (2, 1, 1, 2),
        "{second:?}"
    );

    assert_eq!(item(0).await.name, "Remote renamed");
    assert_eq!(
        link_of(&app, item(0).await.id).await.sync_status,
        LinkStatus::Synced
    );

    assert_eq!(
        emu.get_remote("materials", ids[1]).unwrap()["price"],
        json!(77.5),
        "local change pushed upstream"
    );
    assert_eq!(
        link_of(&app, item(1).await.id).await.sync_status,
        LinkStatus::Synced
    );

    let c2 = item(2).await;
    assert_eq!(c2.name, "Local name", "conflict: local untouched");
    assert_eq!(
        emu.get_remote("materials", ids[2]).unwrap(),
        untouched_remote_2,
        "conflict: remote untouched"
    );
    assert_eq!(link_of(&app, c2.id).await.sync_status, LinkStatus::Conflict);
    let conflicts = entity::conflict::Entity::find()
        .filter(entity::conflict::Column::ItemId.eq(c2.id))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(conflicts.len(), 1);
    let fields: Vec<String> = conflicts[0]
        .fields
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["description", "name"]);
    let name_diff = conflicts[0]
        .fields
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "name")
        .unwrap();
    assert_eq!(
        (name_diff["local"].clone(), name_diff["remote"].clone()),
        (json!("Local name"), json!("Remote name"))
    );

    assert_eq!(item(3).await.price.unwrap().to_string(), "12.2500");
    assert_eq!(
        link_of(&app, item(3).await.id).await.sync_status,
        LinkStatus::Synced
    );

    let gone = item(4).await;
    assert!(gone.deleted_at.is_some(), "remote delete soft-deletes");
    assert!(link_of(&app, gone.id).await.deleted_remotely);
    let vp = entity::vendor_price::Entity::find()
        .filter(entity::vendor_price::Column::ItemId.eq(gone.id))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(vp.len(), 1, "vendor prices survive remote deletes");

    let kept = item(5).await;
    assert!(
        kept.deleted_at.is_none(),
        "delete vs local edit is a conflict, not a delete"
    );
    assert_eq!(
        link_of(&app, kept.id).await.sync_status,
        LinkStatus::Conflict
    );

    assert!(
        !item(6).await.active,
        "deactivation arrives as active = false"
    );

    // Idempotency: nothing changed, so nothing is written on either side.
    emu.reset_stats();
    let third = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(third.status, RunStatus::Succeeded);
    assert_eq!(
        (
            third.created,
            third.updated,
            third.deleted,
            third.pushed,
            third.conflicts
        ),
        (0, 0, 0, 0, 0),
        "{third:?}"
    );
    assert_eq!(
        emu.stats().writes(),
        0,
        "zero upstream writes on a no-op sync"
    );
}

async fn add_vendor_price(app: &TestApp, account: i64, item_id: i64) {
    use sea_orm::{ActiveModelTrait, Set};
    entity::vendor_price::ActiveModel {
        account_id: Set(account),
        item_id: Set(item_id),
        vendor: Set("Ferguson".into()),
        vendor_sku: Set("F-1".into()),
        price: Set("3.5".parse().unwrap()),
        effective_date: Set(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()),
        import_run_id: Set(None),
        created_at: Set(chrono::Utc::now()),
        updated_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
}

#[tokio::test]
async fn runs_survive_throttling_server_errors_expired_tokens_and_dropped_connections() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let emu = app.emulator();
    emu.seed(&small());
    let conn = app
        .sandbox_connection(&token, "st", json!({ "maxRetries": 6 }))
        .await;
    for (kind, count) in [
        ("429", 2),
        ("500", 2),
        ("401", 1),
        ("drop", 2),
        ("latency", 1),
    ] {
        emu.faults().push(json_fault(kind), count);
    }
    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(run.created, 55);
    assert!(
        emu.stats()
            .faults
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 8
    );
}

fn json_fault(kind: &str) -> pricebook_sync::sandbox::faults::FaultKind {
    let req: pricebook_sync::sandbox::faults::FaultRequest =
        serde_json::from_value(json!({ "kind": kind, "ms": 50 })).unwrap();
    req.parse().unwrap()
}

#[tokio::test]
async fn a_failed_run_deletes_nothing_and_malformed_json_is_an_upstream_error() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let emu = app.emulator();
    emu.seed(&small());
    let conn = app
        .sandbox_connection(&token, "st", json!({ "maxRetries": 1 }))
        .await;
    assert_eq!(
        app.run_sync(conn, RunMode::Full, json!({}), false)
            .await
            .status,
        RunStatus::Succeeded
    );

    let ids = emu.ids("materials");
    assert!(emu.delete_remote("materials", ids[0]));
    // Let the estimates and the category listing through, then break the item listings.
    let r = app
        .client
        .post(format!(
            "{}/sandbox/servicetitan/_control/faults",
            app.address
        ))
        .json(&json!({ "kind": "malformed", "count": 50, "after": 6 }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.error_code.as_deref(), Some("UPSTREAM_ERROR"));
    assert!(run.error.unwrap().contains("malformed"));
    assert!(
        app.item_by_code(account, "MAT-000001")
            .await
            .deleted_at
            .is_none(),
        "a failed run never deletes"
    );

    emu.faults().clear();
    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(run.deleted, 1);
}

#[tokio::test]
async fn incremental_single_record_and_dry_run() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let emu = app.emulator();
    emu.seed(&small());
    let conn = app.sandbox_connection(&token, "st", json!({})).await;
    assert_eq!(
        app.run_sync(conn, RunMode::Full, json!({}), false)
            .await
            .status,
        RunStatus::Succeeded
    );

    let ids = emu.ids("materials");
    for (i, id) in ids.iter().take(3).enumerate() {
        emu.set_remote(
            "materials",
            *id,
            &json!({ "displayName": format!("changed {i}") }),
        )
        .unwrap();
    }
    let inc = app
        .run_sync(conn, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(inc.status, RunStatus::Succeeded, "{:?}", inc.error);
    assert_eq!(
        (inc.fetched, inc.updated),
        (3, 3),
        "only the changes since the cursor: {inc:?}"
    );
    assert_eq!(
        app.item_by_code(account, "MAT-000002").await.name,
        "changed 1"
    );
    let again = app
        .run_sync(conn, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(again.fetched, 0);

    // Single record by remote id and by code.
    emu.set_remote("materials", ids[10], &json!({ "price": 999.99 }))
        .unwrap();
    emu.set_remote("materials", ids[11], &json!({ "price": 111.11 }))
        .unwrap();
    let started = std::time::Instant::now();
    let one = app.run_sync(conn, RunMode::Entity, json!({ "entityTypes": ["materials"], "remoteIds": [ids[10].to_string()], "codes": ["MAT-000012"] }), false).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(one.status, RunStatus::Succeeded, "{:?}", one.error);
    assert_eq!(one.updated, 2);
    assert_eq!(
        app.item_by_code(account, "MAT-000011")
            .await
            .price
            .unwrap()
            .to_string(),
        "999.9900"
    );
    assert_eq!(
        app.item_by_code(account, "MAT-000012")
            .await
            .price
            .unwrap()
            .to_string(),
        "111.1100"
    );
    let bad = app
        .run_sync(
            conn,
            RunMode::Entity,
            json!({ "entityTypes": ["nope"], "remoteIds": ["1"] }),
            false,
        )
        .await;
    assert_eq!(bad.error_code.as_deref(), Some("BAD_USER_INPUT"));

    // Dry run: reports, writes nothing.
    emu.set_remote("materials", ids[20], &json!({ "displayName": "dry" }))
        .unwrap();
    let item_id = app.item_by_code(account, "MAT-000022").await.id;
    app.gql_ok(
        &token,
        "mutation($id:ID!){ updateItem(id:$id, input:{ price: \"5\" }) { id } }",
        json!({ "id": app.item_by_code(account, "MAT-000030").await.id.to_string() }),
    )
    .await;
    emu.reset_stats();
    let dry = app.run_sync(conn, RunMode::Full, json!({}), true).await;
    assert_eq!(dry.status, RunStatus::Succeeded);
    assert_eq!((dry.updated, dry.pushed), (1, 1));
    assert_eq!(emu.stats().writes(), 0);
    assert_ne!(app.item_by_code(account, "MAT-000022").await.name, "dry");
    assert_eq!(link_of(&app, item_id).await.sync_status, LinkStatus::Synced);
    assert!(
        dry.summary["categories"]["RemoteOnly"].as_u64() == Some(1),
        "{}",
        dry.summary
    );
}

/// `startSync(since:)` re-reads exactly the records modified at or after `since`, leaves
/// the stored cursor where it was, and is refused where it cannot be honoured.
#[tokio::test]
async fn incremental_since_rereads_exactly_the_records_modified_after_it() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let emu = app.emulator();
    emu.seed(&small());
    let conn = app.sandbox_connection(&token, "st", json!({})).await;
    let full = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(full.status, RunStatus::Succeeded, "{:?}", full.error);

    let ids = emu.ids("materials");
    let edit = |range: std::ops::Range<usize>, tag: &str| {
        for id in &ids[range] {
            emu.set_remote(
                "materials",
                *id,
                &json!({ "displayName": format!("{tag} {id}") }),
            )
            .unwrap();
        }
    };
    edit(0..2, "before");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let since = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    edit(2..5, "after");
    let inc = app
        .run_sync(conn, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(inc.fetched, 5, "{inc:?}");

    let item = app.item_by_code(account, "MAT-000003").await;
    assert!(item.name.starts_with("after"), "{}", item.name);

    let start = |mode: &'static str, conn: i64, since: String| {
        let app = &app;
        let token = token.clone();
        async move {
            app.gql(Some(&token), "mutation($c:ID!,$m:SyncMode!,$s:DateTime){ startSync(connectionId:$c, mode:$m, since:$s) { run { id } } }", json!({ "c": conn.to_string(), "m": mode, "s": since })).await
        }
    };
    let d = start("INCREMENTAL", conn, since.to_rfc3339()).await;
    let run_id = d["data"]["startSync"]["run"]["id"]
        .as_str()
        .expect("run")
        .to_owned();
    let run = app.wait_for_run(&token, &run_id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(
        run["counters"]["fetched"], 3,
        "exactly the records modified after since: {run}"
    );

    // The stored cursor did not move back: the next plain incremental reads nothing.
    let next = app
        .run_sync(conn, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(next.fetched, 0, "{next:?}");

    // Only with INCREMENTAL, and only where the provider can filter by modification time.
    let full_since = start("FULL", conn, since.to_rfc3339()).await;
    assert_eq!(error_code(&full_since), "BAD_USER_INPUT", "{full_since}");
    let jobber = app
        .gql_ok(&token, "mutation{ createConnection(input:{ name:\"j\", provider: JOBBER, config:{ sandbox: true }, startSync: false, pushOnSave: false }) { id } }", json!({}))
        .await;
    let jobber: i64 = jobber["createConnection"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let refused = start("INCREMENTAL", jobber, since.to_rfc3339()).await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
}
