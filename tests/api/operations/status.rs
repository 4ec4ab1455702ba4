//! `syncStatus` per entity type, last full and incremental runs, recent errors; run
//! history and run events filtered by entity type.

use crate::helpers::*;
use entity::enums::{ConflictStatus, LinkStatus, RunMode, RunStatus};
use entity::{conflict, item_link};
use pricebook_sync::sandbox::faults::FaultKind;
use pricebook_sync::sandbox::servicetitan::SeedSpec;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const STATUS: &str = "query($c:ID!){ syncStatus(connectionId:$c) { totals synced pendingPush conflicts errors \
    entities { entityType total synced pendingPush conflicts errors } \
    lastFullRun { id mode status } lastIncrementalRun { id mode status } lastSuccessfulRun { id status } \
    recentErrors { at runId kind message code itemId remoteId } } }";

pub struct Synced {
    pub app: TestApp,
    pub token: String,
    pub account: i64,
    pub conn: i64,
}

/// A ServiceTitan sandbox connection with materials, equipment and services, fully synced.
pub async fn synced(materials: usize, equipment: usize, services: usize) -> Synced {
    synced_in(TestApp::spawn().await, materials, equipment, services).await
}

/// [`synced`] in a given app.
pub async fn synced_in(
    app: TestApp,
    materials: usize,
    equipment: usize,
    services: usize,
) -> Synced {
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let spec: SeedSpec = serde_json::from_value(
        json!({ "materials": materials, "equipment": equipment, "services": services }),
    )
    .unwrap();
    app.emulator().seed(&spec);
    let conn = app
        .sandbox_connection(
            &token,
            "st",
            json!({ "requestsPerSecond": 1000, "maxRetries": 0 }),
        )
        .await;
    let first = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.error);
    Synced {
        app,
        token,
        account,
        conn,
    }
}

impl Synced {
    pub async fn edit(&self, code: &str, input: Value) {
        let id = self.app.item_by_code(self.account, code).await.id;
        self.app
            .gql_ok(
                &self.token,
                "mutation($id:ID!,$i:ItemInput!){ updateItem(id:$id, input:$i) { id } }",
                json!({ "id": id.to_string(), "i": input }),
            )
            .await;
    }

    /// Both sides change the name of `code` (entity `entity`, the n-th remote record).
    pub async fn conflict(&self, entity: &str, code: &str, nth: usize) {
        self.edit(code, json!({ "name": format!("Local {code}") }))
            .await;
        let id = self.app.emulator().ids(entity)[nth];
        self.app
            .emulator()
            .set_remote(
                entity,
                id,
                &json!({ "displayName": format!("Remote {code}") }),
            )
            .unwrap();
    }
}

/// The numbers per entity type straight from the rows, as `syncStatus` should show them.
async fn expected_entities(app: &TestApp, conn: i64) -> Value {
    let links = item_link::Entity::find()
        .filter(item_link::Column::ConnectionId.eq(conn))
        .all(&app.state.db)
        .await
        .unwrap();
    let open = conflict::Entity::find()
        .filter(conflict::Column::ConnectionId.eq(conn))
        .filter(conflict::Column::Status.eq(ConflictStatus::Open))
        .all(&app.state.db)
        .await
        .unwrap();
    let mut rows: BTreeMap<String, [i64; 5]> = BTreeMap::new();
    for l in &links {
        if l.deleted_remotely {
            continue;
        }
        let r = rows.entry(l.entity_type.clone()).or_default();
        r[0] += 1;
        match l.sync_status {
            LinkStatus::Synced => r[1] += 1,
            LinkStatus::PendingPush => r[2] += 1,
            LinkStatus::Error => r[4] += 1,
            _ => {}
        }
    }
    for c in &open {
        let link = links.iter().find(|l| l.id == c.link_id).unwrap();
        rows.entry(link.entity_type.clone()).or_default()[3] += 1;
    }
    Value::Array(
        rows.into_iter()
            .map(|(t, [total, synced, pending, conflicts, errors])| {
                json!({ "entityType": t, "total": total, "synced": synced, "pendingPush": pending,
                        "conflicts": conflicts, "errors": errors })
            })
            .collect(),
    )
}

#[tokio::test]
async fn status_per_entity_type_matches_the_database() {
    let s = synced(30, 10, 20).await;
    // Conflicts on two materials and a service, found by an incremental run.
    s.conflict("materials", "MAT-000001", 0).await;
    s.conflict("materials", "MAT-000002", 1).await;
    s.conflict("services", "SVC-000003", 2).await;
    let inc = s
        .app
        .run_sync(s.conn, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!((inc.status, inc.conflicts), (RunStatus::Succeeded, 3));
    // Local edits waiting for the next push.
    for code in ["MAT-000010", "MAT-000011", "EQP-000004", "SVC-000007"] {
        s.edit(code, json!({ "description": "edited here" })).await;
    }
    // Two links whose last push was refused, as push.rs leaves them.
    item_link::Entity::update_many()
        .col_expr(
            item_link::Column::SyncStatus,
            Expr::value(LinkStatus::Error.as_str()),
        )
        .filter(item_link::Column::ConnectionId.eq(s.conn))
        .filter(
            item_link::Column::RemoteId.is_in(
                [
                    s.app.emulator().ids("equipment")[5],
                    s.app.emulator().ids("services")[9],
                ]
                .map(|id| id.to_string()),
            ),
        )
        .exec(&s.app.state.db)
        .await
        .unwrap();
    // An incremental run that fails: the newest error.
    s.app.emulator().faults().push(FaultKind::ServerError, 50);
    let failed = s
        .app
        .run_sync(s.conn, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(failed.status, RunStatus::Failed);
    s.app.emulator().faults().clear();

    let d = s
        .app
        .gql_ok(&s.token, STATUS, json!({ "c": s.conn.to_string() }))
        .await;
    let status = &d["syncStatus"];
    let expected = expected_entities(&s.app, s.conn).await;
    assert_eq!(status["entities"], expected);
    let types: Vec<&str> = expected
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entityType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["equipment", "materials", "services"]);
    let of = |t: &str| {
        expected
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["entityType"] == t)
            .unwrap()
            .clone()
    };
    assert_eq!(of("materials")["conflicts"], 2);
    assert_eq!(of("materials")["pendingPush"], 2);
    assert_eq!(of("equipment")["errors"], 1);
    assert_eq!(of("services")["total"], 20);
    // The per-entity rows add up to the connection's totals.
    for (field, total) in [
        ("total", "totals"),
        ("synced", "synced"),
        ("pendingPush", "pendingPush"),
        ("conflicts", "conflicts"),
        ("errors", "errors"),
    ] {
        let sum: i64 = expected
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e[field].as_i64().unwrap())
            .sum();
        assert_eq!(status[total].as_i64().unwrap(), sum, "{field}");
    }

    assert_eq!(status["lastFullRun"]["mode"], "FULL");
    assert_eq!(status["lastIncrementalRun"]["id"], failed.id.to_string());
    assert_eq!(status["lastIncrementalRun"]["status"], "FAILED");
    // The failed incremental run is newer; the last success is the one before it.
    assert_eq!(status["lastSuccessfulRun"]["id"], inc.id.to_string());
    assert_eq!(status["lastSuccessfulRun"]["status"], "SUCCEEDED");
    let errors = status["recentErrors"].as_array().unwrap();
    assert_eq!(errors[0]["kind"], "run_failed");
    assert_eq!(errors[0]["runId"], failed.id.to_string());
    assert_eq!(errors[0]["code"], "UPSTREAM_ERROR");
    assert!(errors.len() <= 10);
}

#[tokio::test]
async fn recent_errors_are_the_ten_newest() {
    let s = synced(5, 0, 0).await;
    s.app
        .emulator()
        .faults()
        .push(FaultKind::ServerError, 10_000);
    let mut failed = Vec::new();
    for _ in 0..12 {
        let run = s
            .app
            .run_sync(s.conn, RunMode::Incremental, json!({}), false)
            .await;
        assert_eq!(run.status, RunStatus::Failed);
        failed.push(run.id.to_string());
    }
    let d = s
        .app
        .gql_ok(&s.token, STATUS, json!({ "c": s.conn.to_string() }))
        .await;
    let ids: Vec<String> = d["syncStatus"]["recentErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["runId"].as_str().unwrap().to_owned())
        .collect();
    let newest: Vec<String> = failed.iter().rev().take(10).cloned().collect();
    assert_eq!(ids, newest);
}

async fn run_ids(s: &Synced, args: &str) -> Value {
    let body = s
        .app
        .gql(
            Some(&s.token),
            &format!("{{ syncRuns({args}) {{ totalCount edges {{ node {{ id mode }} }} }} }}"),
            json!({}),
        )
        .await;
    if body.get("errors").is_some() {
        return body;
    }
    let ids: Vec<Value> = body["data"]["syncRuns"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].clone())
        .collect();
    assert_eq!(
        body["data"]["syncRuns"]["totalCount"],
        ids.len(),
        "the count agrees with the page"
    );
    Value::Array(ids)
}

#[tokio::test]
async fn run_history_and_run_events_filter_by_entity_type() {
    let s = synced(10, 0, 10).await;
    let full = s
        .app
        .run_sync(s.conn, RunMode::Full, json!({}), false)
        .await;
    let only_services = s
        .app
        .run_sync(
            s.conn,
            RunMode::Full,
            json!({ "entityTypes": ["services"] }),
            false,
        )
        .await;
    let one_material = s
        .app
        .run_sync(
            s.conn,
            RunMode::Entity,
            json!({ "entityTypes": ["materials"], "codes": ["MAT-000001"] }),
            false,
        )
        .await;
    let all = run_ids(&s, "first: 50").await;
    let first_sync = all.as_array().unwrap().last().unwrap().clone();
    let id = |r: &entity::sync_run::Model| json!(r.id.to_string());
    assert_eq!(
        run_ids(&s, "entityType: \"materials\", first: 50").await,
        json!([id(&one_material), id(&full), first_sync])
    );
    assert_eq!(
        run_ids(&s, "entityType: \"services\", first: 50").await,
        json!([id(&only_services), id(&full), first_sync])
    );
    assert_eq!(
        run_ids(&s, "entityType: \"products\", first: 50").await,
        json!([]),
        "a type ServiceTitan does not sync"
    );
    let refused = run_ids(&s, "entityType: \"materails\"").await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT");

    // Conflict events of one run: two materials and a service.
    s.conflict("materials", "MAT-000002", 1).await;
    s.conflict("materials", "MAT-000003", 2).await;
    s.conflict("services", "SVC-000001", 0).await;
    let inc = s
        .app
        .run_sync(s.conn, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(inc.conflicts, 3);
    let events = |filter: &'static str| {
        let (app, token, run) = (&s.app, &s.token, inc.id);
        async move {
            let d = app
                .gql_ok(
                    token,
                    &format!("query($id:ID!){{ syncRun(id:$id) {{ events({filter} first: 50) {{ totalCount edges {{ node {{ kind code level }} }} }} }} }}"),
                    json!({ "id": run.to_string() }),
                )
                .await;
            let page = &d["syncRun"]["events"];
            let codes: Vec<String> = page["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["code"].as_str().unwrap_or("-").to_owned())
                .collect();
            assert_eq!(page["totalCount"], codes.len());
            codes
        }
    };
    assert_eq!(
        events("entityType: \"materials\",").await,
        ["MAT-000002", "MAT-000003"]
    );
    assert_eq!(events("entityType: \"services\",").await, ["SVC-000001"]);
    assert_eq!(events("level: ERROR,").await, Vec::<String>::new());
    assert_eq!(
        events("level: INFO, entityType: \"services\",").await,
        ["SVC-000001"]
    );
}
