//! Sync policy per connection over the ServiceTitan and Jobber emulators: field ownership
//! (REMOTE_OWNS refused or kept locally and never pushed, LOCAL_OWNS overwriting upstream
//! changes, IGNORE never conflicting, nor sent on a create or a resolution), record
//! filters on both sides (pulled records judged upstream, pushed ones locally: nothing
//! outside is written either way) and the preview of a policy change.

use crate::helpers::*;
use crate::price_safety::{connection, other_servicetitan};
use entity::enums::{RunMode, RunStatus};
use pricebook_sync::sandbox::servicetitan::{Emulator, SeedSpec};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

const SET_POLICY: &str = "mutation($c:ID!,$i:ConnectionPolicyInput!,$p:Boolean!){ setConnectionPolicy(connectionId:$c, input:$i, preview:$p) { applied preview { id } policy { entities { entityType localEdits fields { field ownership } } } } }";

fn policy(entity: &str, local_edits: &str, fields: &[(&str, &str)]) -> Value {
    json!({ "entities": [{
        "entityType": entity,
        "localEdits": local_edits,
        "fields": fields.iter().map(|(f, o)| json!({ "field": f, "ownership": o })).collect::<Vec<_>>(),
    }]})
}

async fn set_policy(app: &TestApp, token: &str, conn: i64, input: Value, preview: bool) -> Value {
    app.gql_ok(
        token,
        SET_POLICY,
        json!({ "c": conn.to_string(), "i": input, "p": preview }),
    )
    .await["setConnectionPolicy"]
        .clone()
}

async fn synced(app: &TestApp, conn: i64) -> entity::sync_run::Model {
    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    run
}

async fn events_of(app: &TestApp, run_id: i64) -> Vec<entity::sync_event::Model> {
    entity::sync_event::Entity::find()
        .filter(entity::sync_event::Column::RunId.eq(run_id))
        .all(&app.state.db)
        .await
        .unwrap()
}

const UPDATE_ITEM: &str =
    "mutation($id:ID!,$i:ItemInput!){ updateItem(id:$id, input:$i) { id price cost } }";

#[tokio::test]
async fn servicetitan_price_remote_owns_cost_local_owns_description_ignored() {
    let (app, token, account, conn, emu) = synced_servicetitan(3, 5).await;
    let ids = emu.ids("materials");
    let item = app.item_by_code(account, "MAT-000001").await;

    let saved = set_policy(
        &app,
        &token,
        conn,
        policy(
            "materials",
            "REFUSE",
            &[
                ("price", "REMOTE_OWNS"),
                ("cost", "LOCAL_OWNS"),
                ("description", "IGNORE"),
            ],
        ),
        false,
    )
    .await;
    assert_eq!(saved["applied"], true);
    let read = app
        .gql_ok(&token, "query($c:ID!){ connectionPolicy(connectionId:$c) { entities { entityType localEdits fields { field ownership } } } }", json!({ "c": conn.to_string() }))
        .await;
    assert_eq!(read["connectionPolicy"], saved["policy"]);

    // A local price edit is refused, naming the owner; nothing changed.
    let refused = app
        .gql(
            Some(&token),
            UPDATE_ITEM,
            json!({ "id": item.id.to_string(), "i": { "price": "999.00" } }),
        )
        .await;
    assert_eq!(error_code(&refused), "FIELD_OWNED_REMOTELY", "{refused}");
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("price") && message.contains("\"st\""),
        "{message}"
    );
    assert_eq!(
        app.item_by_code(account, "MAT-000001").await.price,
        item.price
    );

    // Upstream changes price (lands), cost (overwritten by the push) and description
    // (ignored); locally the description changes too: no conflict anywhere.
    emu.set_remote(
        "materials",
        ids[0],
        &json!({ "price": 123.45, "cost": 77.0, "description": "remote words" }),
    )
    .unwrap();
    app.gql_ok(
        &token,
        UPDATE_ITEM,
        json!({ "id": item.id.to_string(), "i": { "description": "local words" } }),
    )
    .await;
    let run = synced(&app, conn).await;
    assert_eq!(run.conflicts, 0, "{run:?}");
    let after = app.item_by_code(account, "MAT-000001").await;
    assert_eq!(after.price.unwrap().amount().to_string(), "123.4500");
    assert_eq!(after.cost, item.cost, "local cost kept");
    assert_eq!(after.description.as_deref(), Some("local words"));
    let remote = emu.get_remote("materials", ids[0]).unwrap();
    assert_eq!(remote["price"], json!(123.45), "remote price untouched");
    assert_eq!(
        remote["cost"].as_f64().unwrap().to_string(),
        item.cost.unwrap().amount().normalize().to_string(),
        "remote cost overwritten by the push"
    );
    assert_eq!(
        remote["description"], "remote words",
        "ignored field not written"
    );
    let events = events_of(&app, run.id).await;
    assert!(
        events
            .iter()
            .any(|e| e.kind == "remote_change_overwritten" && e.message.contains("cost")),
        "{events:?}"
    );

    // The next run has nothing to do: ignored and owned fields do not flap.
    emu.reset_stats();
    let quiet = synced(&app, conn).await;
    assert_eq!(
        (quiet.updated, quiet.pushed, quiet.conflicts),
        (0, 0, 0),
        "{quiet:?}"
    );
    assert_eq!(emu.stats().writes(), 0);

    // The preview of a policy change equals the next real run's counters, and writes nothing.
    emu.set_remote("materials", ids[1], &json!({ "cost": 55.5, "price": 66.6 }))
        .unwrap();
    let proposed = policy("materials", "REFUSE", &[("price", "LOCAL_OWNS")]);
    let preview = set_policy(&app, &token, conn, proposed.clone(), true).await;
    assert_eq!(preview["applied"], false);
    let run_id = preview["preview"]["id"].as_str().unwrap().to_owned();
    let dry = app.wait_for_run(&token, &run_id).await;
    assert_eq!(dry["status"], "SUCCEEDED", "{dry}");
    assert_eq!(emu.stats().writes(), 0, "a preview writes nothing upstream");
    let unchanged = app
        .gql_ok(&token, "query($c:ID!){ connectionPolicy(connectionId:$c) { entities { fields { field ownership } } } }", json!({ "c": conn.to_string() }))
        .await;
    assert!(unchanged.to_string().contains("REMOTE_OWNS"), "{unchanged}");
    set_policy(&app, &token, conn, proposed, false).await;
    let real = synced(&app, conn).await;
    let counters = &dry["counters"];
    assert_eq!(
        json!({ "fetched": real.fetched, "created": real.created, "updated": real.updated, "deleted": real.deleted,
                "pushed": real.pushed, "conflicts": real.conflicts, "skipped": real.skipped, "errors": real.errors }),
        *counters
    );
    // Price is local-owned now (the remote 66.6 is overwritten) and the description is
    // BOTH again, so the kept local words go up too.
    assert_eq!(real.pushed, 2, "{real:?}");
    assert_eq!(
        emu.get_remote("materials", ids[0]).unwrap()["description"],
        "local words"
    );

    // Applying a policy is audited.
    let audited = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::Action.eq("connection.policy"))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(audited.len(), 2);
}

#[tokio::test]
async fn jobber_kept_local_price_is_never_pushed_and_a_remote_price_lands() {
    let (app, token, account, conn) = synced_jobber(2, 3).await;
    let emu = jobber_emulator(&app);
    set_policy(
        &app,
        &token,
        conn,
        policy("default", "KEEP_LOCAL", &[("price", "REMOTE_OWNS")]),
        false,
    )
    .await;
    let item = app.item_by_code(account, "CU-10000").await;
    let remote_before = emu.get_remote(1).unwrap();

    // Kept locally, never pushed.
    app.gql_ok(
        &token,
        UPDATE_ITEM,
        json!({ "id": item.id.to_string(), "i": { "price": "4321.00" } }),
    )
    .await;
    emu.reset_stats();
    let run = synced(&app, conn).await;
    assert_eq!((run.pushed, run.conflicts), (0, 0), "{run:?}");
    assert_eq!(emu.stats().writes(), 0);
    assert_eq!(
        emu.get_remote(1).unwrap()["defaultUnitCost"],
        remote_before["defaultUnitCost"]
    );
    let kept = app.item_by_code(account, "CU-10000").await;
    assert_eq!(kept.price.unwrap().amount().to_string(), "4321.0000");

    // A remote price change always lands, over the kept local value.
    emu.set_remote(1, &json!({ "defaultUnitCost": 12.5 }))
        .unwrap();
    let run = synced(&app, conn).await;
    assert_eq!(
        (run.updated, run.pushed, run.conflicts),
        (1, 0, 0),
        "{run:?}"
    );
    let landed = app.item_by_code(account, "CU-10000").await;
    assert_eq!(landed.price.unwrap().amount().to_string(), "12.5000");
}

#[tokio::test]
async fn a_category_filter_syncs_exactly_its_subtree_and_unlinks_a_record_moved_out() {
    let (app, token, account, conn, emu) = synced_servicetitan(30, 11).await;
    let local_category = |remote: i64| {
        let db = app.state.db.clone();
        async move {
            entity::category::Entity::find()
                .filter(entity::category::Column::ConnectionId.eq(conn))
                .filter(entity::category::Column::RemoteId.eq(remote.to_string()))
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .id
        }
    };
    // Department 1 is remote category 1 with the remote ids 1..=17 below it.
    let department = local_category(1).await;
    let in_subtree = |remote: &Value| {
        remote["categories"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_i64().is_some_and(|id| id <= 17))
    };
    let ids = emu.ids("materials");
    let inside: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| in_subtree(&emu.get_remote("materials", *id).unwrap()))
        .collect();
    assert!(!inside.is_empty() && inside.len() < ids.len(), "{inside:?}");

    let mut input = policy("materials", "REFUSE", &[]);
    input["entities"][0]["filter"] = json!({ "categoryId": department.to_string() });
    set_policy(&app, &token, conn, input, false).await;
    // Every record upstream changes its price; only the subtree's land.
    for id in &ids {
        emu.set_remote("materials", *id, &json!({ "price": 1.25 }))
            .unwrap();
    }
    let run = synced(&app, conn).await;
    assert_eq!(run.updated as usize, inside.len(), "{run:?}");
    assert_eq!(run.deleted, 0);
    let linked = |app: &TestApp| {
        let db = app.state.db.clone();
        async move {
            entity::item_link::Entity::find()
                .filter(entity::item_link::Column::ConnectionId.eq(conn))
                .all(&db)
                .await
                .unwrap()
        }
    };
    let mut remote_ids: Vec<i64> = linked(&app)
        .await
        .iter()
        .map(|l| l.remote_id.parse().unwrap())
        .collect();
    remote_ids.sort();
    assert_eq!(remote_ids, inside, "exactly the subtree stays linked");
    let items = entity::item::Entity::find()
        .filter(entity::item::Column::AccountId.eq(account))
        .filter(entity::item::Column::DeletedAt.is_null())
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(items.len(), ids.len(), "no item was deleted");

    // A record moved out of the subtree is unlinked, not deleted, and no longer synced.
    let moved = inside[0];
    let code = emu.get_remote("materials", moved).unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    emu.set_remote("materials", moved, &json!({ "categories": [20] }))
        .unwrap();
    let run = synced(&app, conn).await;
    assert_eq!(run.deleted, 0, "{run:?}");
    let events = events_of(&app, run.id).await;
    assert!(
        events
            .iter()
            .any(|e| e.kind == "left_filter" && e.code.as_deref() == Some(code.as_str())),
        "{events:?}"
    );
    assert_eq!(linked(&app).await.len(), inside.len() - 1);
    let item = app.item_by_code(account, &code).await;
    assert!(item.deleted_at.is_none());
    emu.set_remote("materials", moved, &json!({ "price": 9.99 }))
        .unwrap();
    synced(&app, conn).await;
    assert_eq!(
        app.item_by_code(account, &code).await.price,
        item.price,
        "outside the filter nothing is pulled"
    );
}

#[tokio::test]
async fn a_csv_cost_import_into_a_remote_owned_cost_is_refused_per_line() {
    let (app, token, account, conn, _emu) = synced_servicetitan(2, 2).await;
    set_policy(
        &app,
        &token,
        conn,
        policy("materials", "REFUSE", &[("cost", "REMOTE_OWNS")]),
        false,
    )
    .await;
    let before = app.item_by_code(account, "MAT-000001").await;
    let body = crate::price_safety::upload_item_costs(
        &app.client,
        &app.address,
        &token,
        &conn.to_string(),
        "code,cost\nMAT-000001,1.23\nMAT-000002,4.56\n",
    )
    .await;
    let result = &body["data"]["uploadCsv"];
    assert_eq!(result["updated"], 0, "{body}");
    let errors = result["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{body}");
    assert_eq!(errors[0]["line"], 2);
    let message = errors[0]["message"].as_str().unwrap();
    assert!(message.contains("owned by connection \"st\""), "{message}");
    assert_eq!(
        app.item_by_code(account, "MAT-000001").await.cost,
        before.cost
    );
}

/// The record filter of `entity` set on top of an empty field policy.
fn filtered(entity: &str, filter: Value) -> Value {
    let mut input = policy(entity, "REFUSE", &[]);
    input["entities"][0]["filter"] = filter;
    input
}

async fn edit(app: &TestApp, token: &str, item_id: i64, input: Value) {
    app.gql_ok(
        token,
        UPDATE_ITEM,
        json!({ "id": item_id.to_string(), "i": input }),
    )
    .await;
}

fn has_event(events: &[entity::sync_event::Model], kind: &str, code: &str) -> bool {
    events
        .iter()
        .any(|e| e.kind == kind && e.code.as_deref() == Some(code))
}

/// A ServiceTitan connection (push on save off) synced over `materials` seeded materials
/// of its own emulator.
async fn synced_servicetitan(materials: usize, seed: u64) -> (TestApp, String, i64, i64, Emulator) {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let (emu, base) = other_servicetitan(&SeedSpec {
        materials,
        equipment: 0,
        services: 0,
        seed,
    })
    .await;
    let conn = connection(&app, &token, "st", json!({ "baseUrl": base }), "CONFLICT").await;
    app.set_push_on_save(&token, conn, false).await;
    synced(&app, conn).await;
    (app, token, account, conn, emu)
}

/// A Jobber connection (push on save off) synced over `products` seeded products.
async fn synced_jobber(products: usize, seed: u64) -> (TestApp, String, i64, i64) {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    jobber_emulator(&app).seed(&pricebook_sync::sandbox::jobber::SeedSpec {
        products,
        services: 0,
        seed,
    });
    let (conn, _) = crate::jobber::connect(&app, &token, "jobber", json!({})).await;
    synced(&app, conn).await;
    (app, token, account, conn)
}

fn jobber_emulator(app: &TestApp) -> &pricebook_sync::sandbox::jobber::Emulator {
    &app.state.sandboxes.as_ref().unwrap().jobber
}

/// The codes (Jobber names) of the emulator's products, in id order.
fn jobber_codes(app: &TestApp) -> Vec<String> {
    let emu = jobber_emulator(app);
    emu.ids()
        .into_iter()
        .map(|id| {
            emu.get_remote(id).unwrap()["name"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// The id of the one open conflict of the record with `code`.
async fn open_conflict(app: &TestApp, token: &str, code: &str) -> Value {
    let d = app
        .gql_ok(token, "query($s:String){ conflicts(status: OPEN, search: $s, first: 1) { edges { node { id } } } }", json!({ "s": code }))
        .await;
    d["conflicts"]["edges"][0]["node"]["id"].clone()
}

const USE_LOCAL: &str =
    "mutation($id:ID!){ resolveConflict(id:$id, resolution: USE_LOCAL) { status pushError } }";

fn counters(run: &entity::sync_run::Model) -> Value {
    json!({ "fetched": run.fetched, "created": run.created, "updated": run.updated, "deleted": run.deleted,
            "pushed": run.pushed, "conflicts": run.conflicts, "skipped": run.skipped, "errors": run.errors })
}

/// A dry run, then the real run of the same mode: equal counters (the preview property).
async fn dry_then_real(app: &TestApp, conn: i64, mode: RunMode) -> entity::sync_run::Model {
    let dry = app.run_sync(conn, mode, json!({}), true).await;
    assert_eq!(dry.status, RunStatus::Succeeded, "{:?}", dry.error);
    let real = app.run_sync(conn, mode, json!({}), false).await;
    assert_eq!(real.status, RunStatus::Succeeded, "{:?}", real.error);
    assert_eq!(
        counters(&dry),
        counters(&real),
        "dry {dry:?}\nreal {real:?}"
    );
    real
}

/// A local edit of a record outside the record filter is never pushed: not by an
/// incremental run that does not list it (ServiceTitan's change feed), and not when the
/// local item itself left the filter (deactivated here) while its upstream record is
/// still inside; each is counted as skipped with an `outside_filter` event, and the dry
/// run counts the same.
#[tokio::test]
async fn servicetitan_records_outside_the_filter_are_never_pushed() {
    let (app, token, account, conn, emu) = synced_servicetitan(3, 7).await;
    let ids = emu.ids("materials");
    let inside = app.item_by_code(account, "MAT-000001").await;
    let outside = app.item_by_code(account, "MAT-000002").await;
    assert_eq!(emu.get_remote("materials", ids[0]).unwrap()["active"], true);
    set_policy(
        &app,
        &token,
        conn,
        filtered(
            "materials",
            json!({ "codePattern": "MAT-000001", "activeOnly": true }),
        ),
        false,
    )
    .await;

    // Outside on both sides, and upstream did not change it: the incremental run does
    // not list it, and its push must leave it alone.
    let remote_before = emu.get_remote("materials", ids[1]).unwrap();
    edit(&app, &token, outside.id, json!({ "price": "555.00" })).await;
    emu.reset_stats();
    let run = dry_then_real(&app, conn, RunMode::Incremental).await;
    assert_eq!(run.pushed, 0, "{run:?}");
    assert_eq!(emu.stats().writes(), 0);
    assert_eq!(emu.get_remote("materials", ids[1]).unwrap(), remote_before);
    assert!(run.skipped >= 1, "{run:?}");
    let events = events_of(&app, run.id).await;
    assert!(
        has_event(&events, "outside_filter", "MAT-000002"),
        "{events:?}"
    );

    // The local item leaves the filter (deactivated) while upstream is still inside:
    // the full run pulls nothing over it and pushes nothing of it; the item stays.
    let remote_before = emu.get_remote("materials", ids[0]).unwrap();
    edit(
        &app,
        &token,
        inside.id,
        json!({ "active": false, "price": "444.00" }),
    )
    .await;
    emu.reset_stats();
    let run = dry_then_real(&app, conn, RunMode::Full).await;
    assert_eq!((run.pushed, run.deleted), (0, 0), "{run:?}");
    assert_eq!(emu.stats().writes(), 0);
    assert_eq!(emu.get_remote("materials", ids[0]).unwrap(), remote_before);
    let events = events_of(&app, run.id).await;
    assert!(
        has_event(&events, "outside_filter", "MAT-000001"),
        "{events:?}"
    );
    let kept = app.item_by_code(account, "MAT-000001").await;
    assert!(kept.deleted_at.is_none() && !kept.active);

    // Push on save: the next edit queues a push run, which re-reads the record upstream
    // (still inside) and still sends nothing of the local item outside.
    app.set_push_on_save(&token, conn, true).await;
    emu.reset_stats();
    let d = app
        .gql_ok(
            &token,
            "mutation($id:ID!,$i:ItemInput!){ updateItem(id:$id, input:$i) { pendingPushRuns { id } } }",
            json!({ "id": inside.id.to_string(), "i": { "price": "333.00" } }),
        )
        .await;
    let queued = d["updateItem"]["pendingPushRuns"].as_array().unwrap();
    assert_eq!(queued.len(), 1, "{d}");
    let run = app
        .wait_for_run(&token, queued[0]["id"].as_str().unwrap())
        .await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(run["counters"]["pushed"], 0, "{run}");
    assert_eq!(emu.stats().writes(), 0);
    let run_id: i64 = run["id"].as_str().unwrap().parse().unwrap();
    let events = events_of(&app, run_id).await;
    assert!(
        has_event(&events, "outside_filter", "MAT-000001"),
        "{events:?}"
    );
}

/// Jobber: a cost import's push run (no listing before it) leaves the records outside
/// the filter alone, and a full run (which unlinks them) counts the same when dry.
#[tokio::test]
async fn jobber_cost_import_never_pushes_records_outside_the_filter() {
    let (app, token, account, conn) = synced_jobber(3, 3).await;
    let emu = jobber_emulator(&app);
    let ids = emu.ids();
    let codes = jobber_codes(&app);
    let (inside, outside) = (codes[0].clone(), codes[1].clone());
    set_policy(
        &app,
        &token,
        conn,
        filtered("default", json!({ "codePattern": inside })),
        false,
    )
    .await;
    let outside_before = emu.get_remote(ids[1]).unwrap();

    emu.reset_stats();
    let body = crate::price_safety::upload_item_costs(
        &app.client,
        &app.address,
        &token,
        &conn.to_string(),
        &format!("code,cost\n{inside},1.11\n{outside},2.22\n"),
    )
    .await;
    let result = &body["data"]["uploadCsv"];
    assert_eq!(result["updated"], 2, "{body}");
    let run = app
        .wait_for_run(&token, result["runId"].as_str().unwrap())
        .await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(run["counters"]["pushed"], 1, "{run}");
    assert_eq!(run["counters"]["skipped"], 1, "{run}");
    assert_eq!(emu.get_remote(ids[0]).unwrap()["internalUnitCost"], 1.11);
    assert_eq!(emu.get_remote(ids[1]).unwrap(), outside_before);
    let run_id: i64 = run["id"].as_str().unwrap().parse().unwrap();
    let events = events_of(&app, run_id).await;
    assert!(has_event(&events, "outside_filter", &outside), "{events:?}");
    assert_eq!(
        app.item_by_code(account, &outside)
            .await
            .cost
            .unwrap()
            .amount()
            .normalize()
            .to_string(),
        "2.22",
        "the import still changed the local cost"
    );

    // A full run unlinks the records outside; dry, it counts exactly the same.
    emu.reset_stats();
    let run = dry_then_real(&app, conn, RunMode::Full).await;
    assert_eq!(run.pushed, 0, "{run:?}");
    assert_eq!(emu.stats().writes(), 0);
    assert_eq!(emu.get_remote(ids[1]).unwrap(), outside_before);
}

/// `IGNORE` fields are never written upstream, also not when a record is re-created
/// (a deletion resolved with `USE_LOCAL`) or when a field conflict is resolved with
/// `USE_LOCAL`; a `REMOTE_OWNS` field sends its local value once on a create.
#[tokio::test]
async fn servicetitan_ignored_fields_are_not_sent_on_create_or_resolution() {
    let (app, token, account, conn, emu) = synced_servicetitan(2, 9).await;
    let ids = emu.ids("materials");
    set_policy(
        &app,
        &token,
        conn,
        policy(
            "materials",
            "KEEP_LOCAL",
            &[("description", "IGNORE"), ("price", "REMOTE_OWNS")],
        ),
        false,
    )
    .await;
    let (gone, fought) = (
        app.item_by_code(account, "MAT-000001").await,
        app.item_by_code(account, "MAT-000002").await,
    );
    edit(
        &app,
        &token,
        gone.id,
        json!({ "cost": "9.99", "description": "local words", "price": "7.77" }),
    )
    .await;
    assert!(emu.delete_remote("materials", ids[0]));
    let fought_remote = emu.get_remote("materials", ids[1]).unwrap();
    edit(
        &app,
        &token,
        fought.id,
        json!({ "name": "Local name", "description": "local words" }),
    )
    .await;
    emu.set_remote(
        "materials",
        ids[1],
        &json!({ "displayName": "Remote name" }),
    )
    .unwrap();
    let run = synced(&app, conn).await;
    assert_eq!(run.conflicts, 2, "{run:?}");

    let resolve = |code: &'static str| {
        let (app, token) = (&app, &token);
        async move {
            let id = open_conflict(app, token, code).await;
            app.gql(Some(token), USE_LOCAL, json!({ "id": id })).await
        }
    };
    let r = resolve("MAT-000001").await;
    assert_eq!(r["data"]["resolveConflict"]["status"], "RESOLVED", "{r}");
    let link = entity::item_link::Entity::find()
        .filter(entity::item_link::Column::ItemId.eq(gone.id))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let created = emu
        .get_remote("materials", link.remote_id.parse().unwrap())
        .unwrap();
    assert_eq!(created["code"], "MAT-000001");
    assert_eq!(created["cost"], json!(9.99));
    assert_eq!(
        created["price"],
        json!(7.77),
        "REMOTE_OWNS: local value once"
    );
    assert!(
        created["description"].as_str().unwrap_or("").is_empty(),
        "IGNORE not sent on create: {created}"
    );

    let r = resolve("MAT-000002").await;
    assert_eq!(r["data"]["resolveConflict"]["status"], "RESOLVED", "{r}");
    let after = emu.get_remote("materials", ids[1]).unwrap();
    assert_eq!(after["displayName"], "Local name");
    assert_eq!(
        after["description"], fought_remote["description"],
        "IGNORE not written by a resolution"
    );

    // Settled: the next run has nothing to do on either side.
    emu.reset_stats();
    let quiet = synced(&app, conn).await;
    assert_eq!(
        (quiet.pushed, quiet.conflicts, quiet.updated),
        (0, 0, 0),
        "{quiet:?}"
    );
    assert_eq!(emu.stats().writes(), 0);
}

/// Jobber: an `IGNORE` description is left out of a re-create; a re-create that would
/// need an `IGNORE` field Jobber requires (the price) is refused with a clear error and
/// the conflict stays open, upstream untouched.
#[tokio::test]
async fn jobber_create_leaves_ignored_fields_out_and_refuses_a_required_one() {
    use pricebook_sync::sandbox::jobber::decode_id;
    let (app, token, account, conn) = synced_jobber(2, 4).await;
    let emu = jobber_emulator(&app);
    let ids = emu.ids();
    let codes = jobber_codes(&app);
    for (i, id) in ids.iter().take(2).enumerate() {
        let item = app.item_by_code(account, &codes[i]).await;
        edit(
            &app,
            &token,
            item.id,
            json!({ "cost": "3.25", "description": "local words" }),
        )
        .await;
        assert!(emu.delete_remote(*id));
    }
    let run = synced(&app, conn).await;
    assert_eq!(run.conflicts, 2, "{run:?}");

    set_policy(
        &app,
        &token,
        conn,
        policy("default", "REFUSE", &[("description", "IGNORE")]),
        false,
    )
    .await;
    let id = open_conflict(&app, &token, &codes[0]).await;
    let r = app.gql(Some(&token), USE_LOCAL, json!({ "id": id })).await;
    assert_eq!(r["data"]["resolveConflict"]["status"], "RESOLVED", "{r}");
    let item = app.item_by_code(account, &codes[0]).await;
    let link = entity::item_link::Entity::find()
        .filter(entity::item_link::Column::ItemId.eq(item.id))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let created = emu.get_remote(decode_id(&link.remote_id).unwrap()).unwrap();
    assert_eq!(created["name"], codes[0].as_str());
    assert_eq!(created["internalUnitCost"], json!(3.25));
    assert!(
        created["description"].as_str().unwrap_or("").is_empty(),
        "IGNORE not sent on create: {created}"
    );

    // Jobber requires a price on create: with price IGNORE there is nothing to send.
    set_policy(
        &app,
        &token,
        conn,
        policy("default", "REFUSE", &[("price", "IGNORE")]),
        false,
    )
    .await;
    let before = emu.ids().len();
    let id = open_conflict(&app, &token, &codes[1]).await;
    let r = app.gql(Some(&token), USE_LOCAL, json!({ "id": id })).await;
    assert_eq!(error_code(&r), "BAD_USER_INPUT", "{r}");
    let message = r["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("price") && message.contains("IGNORE"),
        "{message}"
    );
    assert_eq!(emu.ids().len(), before, "nothing created upstream");
    assert_eq!(
        open_conflict(&app, &token, &codes[1]).await,
        id,
        "still open"
    );
}
