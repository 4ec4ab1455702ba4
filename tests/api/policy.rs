//! Sync policy per connection over the ServiceTitan and Jobber emulators: field ownership
//! (REMOTE_OWNS refused or kept locally and never pushed, LOCAL_OWNS overwriting upstream
//! changes, IGNORE never conflicting) and the preview of a policy change.

use crate::helpers::*;
use crate::price_safety::{connection, other_servicetitan};
use entity::enums::{RunMode, RunStatus};
use pricebook_sync::sandbox::servicetitan::SeedSpec;
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
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let (emu, base) = other_servicetitan(&SeedSpec {
        materials: 3,
        equipment: 0,
        services: 0,
        seed: 5,
    })
    .await;
    let conn = connection(&app, &token, "st", json!({ "baseUrl": base }), "CONFLICT").await;
    synced(&app, conn).await;
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
    use pricebook_sync::sandbox::jobber::SeedSpec as JobberSeed;
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let emu = &app.state.sandboxes.as_ref().unwrap().jobber;
    emu.seed(&JobberSeed {
        products: 2,
        services: 0,
        seed: 3,
    });
    let (conn, _) = crate::jobber::connect(&app, &token, "jobber", json!({})).await;
    synced(&app, conn).await;
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
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let (emu, base) = other_servicetitan(&SeedSpec {
        materials: 30,
        equipment: 0,
        services: 0,
        seed: 11,
    })
    .await;
    let conn = connection(&app, &token, "st", json!({ "baseUrl": base }), "CONFLICT").await;
    synced(&app, conn).await;
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
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let (_emu, base) = other_servicetitan(&SeedSpec {
        materials: 2,
        equipment: 0,
        services: 0,
        seed: 2,
    })
    .await;
    let conn = connection(&app, &token, "st", json!({ "baseUrl": base }), "CONFLICT").await;
    synced(&app, conn).await;
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
