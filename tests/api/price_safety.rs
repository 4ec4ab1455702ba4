//! No silent price changes: first links reconcile instead of overwriting, conflicts say
//! who changed each field, upstream deletes are caught between full syncs, runs and
//! connections report their real state, and the `sync` command is scriptable.

use crate::helpers::*;
use entity::enums::{LinkStatus, RunMode, RunStatus};
use pricebook_sync::sandbox::servicetitan::{Emulator, EmulatorConfig, SeedSpec};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

fn materials(n: usize, seed: u64) -> SeedSpec {
    SeedSpec {
        materials: n,
        equipment: 0,
        services: 0,
        seed,
    }
}

/// Another ServiceTitan (a second tenant) on its own port, seeded with the same codes as
/// the built-in one but, for another `seed`, other names and prices.
pub async fn other_servicetitan(spec: &SeedSpec) -> (Emulator, String) {
    let emulator = Emulator::new(EmulatorConfig {
        rate_limit_per_second: None,
        ..EmulatorConfig::default()
    });
    emulator.seed(spec);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = emulator.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (emulator, base)
}

pub async fn connection(
    app: &TestApp,
    token: &str,
    name: &str,
    config: Value,
    policy: &str,
) -> i64 {
    let mut full = json!({ "sandbox": true, "maxRetries": 2, "requestsPerSecond": 1000 });
    if let (Some(c), Some(extra)) = (full.as_object_mut(), config.as_object()) {
        c.extend(extra.clone());
    }
    let d = app
        .gql_ok(
            token,
            "mutation($n:String!,$c:JSON!,$p:AdoptionPolicy!){ createConnection(input:{ name:$n, provider: SERVICETITAN, config:$c, adoptionPolicy:$p, startSync: false }) { id adoptionPolicy health } }",
            json!({ "n": name, "c": full, "p": policy }),
        )
        .await;
    assert_eq!(d["createConnection"]["adoptionPolicy"], policy);
    assert_eq!(d["createConnection"]["health"], "ACTIVE");
    d["createConnection"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn synced(app: &TestApp, connection_id: i64, mode: RunMode) -> entity::sync_run::Model {
    let run = app.run_sync(connection_id, mode, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    run
}

async fn edit(app: &TestApp, token: &str, item_id: i64, input: Value) {
    app.gql_ok(
        token,
        "mutation($id:ID!,$i:ItemInput!){ updateItem(id:$id, input:$i) { id } }",
        json!({ "id": item_id.to_string(), "i": input }),
    )
    .await;
}

async fn items_of(app: &TestApp, account: i64) -> Vec<entity::item::Model> {
    use sea_orm::QueryOrder;
    entity::item::Entity::find()
        .filter(entity::item::Column::AccountId.eq(account))
        .order_by_asc(entity::item::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap()
}

async fn event_kinds(app: &TestApp, token: &str, run_id: i64) -> Vec<(String, Option<String>)> {
    let d = app
        .gql_ok(
            token,
            "query($id:ID!){ syncRun(id:$id) { events(first: 100) { edges { node { kind code } } } } }",
            json!({ "id": run_id.to_string() }),
        )
        .await;
    d["syncRun"]["events"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["kind"].as_str().unwrap().to_owned(),
                e["node"]["code"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

const CONFLICT: &str = "id kind status resolution item { code } fields { field base local remote change } droppedChanges { field local remote change }";

async fn open_conflicts(app: &TestApp, token: &str, connection_id: i64, kind: &str) -> Vec<Value> {
    let d = app
        .gql_ok(
            token,
            &format!("query($c:ID!,$k:ConflictKind){{ conflicts(connectionId:$c, kind:$k, status: OPEN, first: 100) {{ totalCount edges {{ node {{ {CONFLICT} }} }} }} }}"),
            json!({ "c": connection_id.to_string(), "k": kind }),
        )
        .await;
    d["conflicts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

async fn resolve(app: &TestApp, token: &str, id: &Value, resolution: &str, picks: Value) -> Value {
    app.gql(
        Some(token),
        &format!("mutation($id:ID!,$r:Resolution!,$f:[FieldPick!]){{ resolveConflict(id:$id, resolution:$r, fields:$f) {{ {CONFLICT} }} }}"),
        json!({ "id": id, "r": resolution, "f": picks }),
    )
    .await
}

/// Finding 1: a second connection meeting items another connection already synced adopts
/// them by code. Differing values must become FIRST_LINK conflicts (touching neither
/// side), never a silent overwrite that the first connection then pushes upstream.
#[tokio::test]
async fn a_second_connection_reconciles_first_links_instead_of_overwriting() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    app.emulator().seed(&materials(12, 42));
    let first = connection(&app, &token, "first", json!({}), "CONFLICT").await;
    synced(&app, first, RunMode::Full).await;
    let settled = app.item_by_code(account, "MAT-000001").await;
    edit(&app, &token, settled.id, json!({ "price": "59.50" })).await;
    assert_eq!(synced(&app, first, RunMode::Full).await.pushed, 1);

    let (other, base) = other_servicetitan(&materials(12, 7)).await;
    let second = connection(
        &app,
        &token,
        "second",
        json!({ "baseUrl": base }),
        "CONFLICT",
    )
    .await;
    let before = items_of(&app, account).await;
    let run = synced(&app, second, RunMode::Full).await;
    assert_eq!((run.created, run.updated, run.pushed), (0, 0, 0), "{run:?}");
    assert!(run.conflicts > 0, "{run:?}");
    let after = items_of(&app, account).await;
    assert_eq!(before, after, "no local item changed");
    assert_eq!(
        other.stats().writes(),
        0,
        "nothing written to the second tenant"
    );
    assert_eq!(
        app.item_by_code(account, "MAT-000001").await.price,
        settled_price("59.50")
    );
    let conflicts = open_conflicts(&app, &token, second, "FIRST_LINK").await;
    assert_eq!(conflicts.len() as i64, run.conflicts);
    for c in &conflicts {
        for f in c["fields"].as_array().unwrap() {
            assert_eq!(f["change"], "BOTH", "no common base: {f}");
            assert_eq!(f["base"], Value::Null);
        }
    }
    // Equal records linked silently: every item now has a link to the second connection.
    let links = entity::item_link::Entity::find()
        .filter(entity::item_link::Column::ConnectionId.eq(second))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(links.len(), 12);
    assert_eq!(
        links
            .iter()
            .filter(|l| l.sync_status == LinkStatus::Conflict)
            .count(),
        conflicts.len()
    );

    // The first connection pushes nothing: nothing changed locally.
    app.emulator().reset_stats();
    let again = synced(&app, first, RunMode::Full).await;
    assert_eq!(again.pushed, 0, "{again:?}");
    assert_eq!(app.emulator().stats().writes(), 0);
    // The second one finds the same conflicts and counts none as new.
    let repeat = synced(&app, second, RunMode::Full).await;
    assert_eq!((repeat.updated, repeat.conflicts), (0, 0), "{repeat:?}");

    // Taking the second tenant's values for one item: the first connection then pushes
    // them, and its run says the change came from elsewhere.
    let chosen = conflicts
        .iter()
        .find(|c| c["item"]["code"] != "MAT-000001")
        .unwrap();
    let code = chosen["item"]["code"].as_str().unwrap().to_owned();
    let done = resolve(&app, &token, &chosen["id"], "USE_REMOTE", Value::Null).await;
    assert!(done.get("errors").is_none(), "{done}");
    app.emulator().reset_stats();
    let propagated = synced(&app, first, RunMode::Full).await;
    assert_eq!(propagated.pushed, 1, "{propagated:?}");
    assert!(
        event_kinds(&app, &token, propagated.id)
            .await
            .contains(&("propagated".into(), Some(code))),
        "the run names the change it passes on"
    );
}

fn settled_price(text: &str) -> Option<entity::Money> {
    Some(text.parse().unwrap())
}

/// Finding 1, the explicit policies: PREFER_LOCAL links and pushes local values,
/// PREFER_REMOTE takes the remote values; neither stores a conflict.
#[tokio::test]
async fn adoption_policies_prefer_one_side_when_chosen_at_creation() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let (_, source) = other_servicetitan(&materials(6, 42)).await;
    let (local_wins, local_base) = other_servicetitan(&materials(6, 7)).await;
    let (remote_wins, remote_base) = other_servicetitan(&materials(6, 11)).await;
    let src = connection(
        &app,
        &token,
        "source",
        json!({ "baseUrl": source }),
        "CONFLICT",
    )
    .await;
    synced(&app, src, RunMode::Full).await;
    let before = items_of(&app, account).await;

    let pushing = connection(
        &app,
        &token,
        "prefer-local",
        json!({ "baseUrl": local_base }),
        "PREFER_LOCAL",
    )
    .await;
    let run = synced(&app, pushing, RunMode::Full).await;
    assert_eq!((run.conflicts, run.updated), (0, 0), "{run:?}");
    assert_eq!(run.pushed, 6, "{run:?}");
    assert_eq!(items_of(&app, account).await, before, "local kept");
    let id = local_wins.ids("materials")[0];
    let remote = local_wins.get_remote("materials", id).unwrap();
    assert_eq!(remote["code"], "MAT-000001");
    assert_eq!(
        remote["displayName"].as_str(),
        Some(before[0].name.as_str()),
        "local values pushed"
    );

    let pulling = connection(
        &app,
        &token,
        "prefer-remote",
        json!({ "baseUrl": remote_base }),
        "PREFER_REMOTE",
    )
    .await;
    let run = synced(&app, pulling, RunMode::Full).await;
    assert_eq!(
        (run.conflicts, run.updated, run.pushed),
        (0, 6, 0),
        "{run:?}"
    );
    let id = remote_wins.ids("materials")[0];
    let remote = remote_wins.get_remote("materials", id).unwrap();
    assert_eq!(
        app.item_by_code(account, "MAT-000001").await.name,
        remote["displayName"].as_str().unwrap()
    );
    assert_eq!(remote_wins.stats().writes(), 0);
}

struct Synced {
    app: TestApp,
    token: String,
    account: i64,
    conn: i64,
    ids: Vec<i64>,
}

async fn synced_servicetitan(n: usize) -> Synced {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    app.emulator().seed(&materials(n, 42));
    let conn = connection(&app, &token, "st", json!({}), "CONFLICT").await;
    // These tests make conflicts with local edits and their own syncs.
    app.set_push_on_save(&token, conn, false).await;
    synced(&app, conn, RunMode::Full).await;
    let ids = app.emulator().ids("materials");
    Synced {
        app,
        token,
        account,
        conn,
        ids,
    }
}

impl Synced {
    async fn item(&self, i: usize) -> entity::item::Model {
        self.app
            .item_by_code(self.account, &format!("MAT-{:06}", i + 1))
            .await
    }
}

/// Finding 3: each differing field says who changed it; MERGED needs picks only for
/// fields both sides changed; USE_REMOTE / USE_LOCAL say which one-sided changes they
/// dropped, and the audit entry records them.
#[tokio::test]
async fn conflicts_say_who_changed_each_field_and_resolutions_report_what_they_drop() {
    let s = synced_servicetitan(4).await;
    for i in 0..3 {
        let item = s.item(i).await;
        edit(
            &s.app,
            &s.token,
            item.id,
            json!({ "name": format!("Local name {i}"), "cost": "5.55" }),
        )
        .await;
        s.app
            .emulator()
            .set_remote(
                "materials",
                s.ids[i],
                &json!({ "price": 77.7, "cost": 6.66 }),
            )
            .unwrap();
    }
    let run = synced(&s.app, s.conn, RunMode::Full).await;
    assert_eq!(run.conflicts, 3);
    let conflicts = open_conflicts(&s.app, &s.token, s.conn, "FIELDS").await;
    let by_code = |i: usize| {
        conflicts
            .iter()
            .find(|c| c["item"]["code"] == format!("MAT-{:06}", i + 1))
            .unwrap()
            .clone()
    };
    let changes: Vec<(String, String)> = by_code(0)["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_owned(),
                f["change"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("cost".to_owned(), "BOTH".to_owned()),
            ("name".to_owned(), "LOCAL".to_owned()),
            ("price".to_owned(), "REMOTE".to_owned()),
        ]
    );

    // MERGED with a pick for the one field both changed: the rename and the new price stay.
    let merged = resolve(
        &s.app,
        &s.token,
        &by_code(0)["id"],
        "MERGED",
        json!([{ "field": "cost", "pick": "CUSTOM", "value": "6.00" }]),
    )
    .await;
    assert!(merged.get("errors").is_none(), "{merged}");
    assert_eq!(
        merged["data"]["resolveConflict"]["droppedChanges"],
        json!([])
    );
    let item = s.item(0).await;
    assert_eq!(item.name, "Local name 0");
    assert_eq!(item.price, settled_price("77.70"));
    assert_eq!(item.cost, settled_price("6.00"));
    let remote = s.app.emulator().get_remote("materials", s.ids[0]).unwrap();
    assert_eq!(remote["displayName"], "Local name 0");
    assert_eq!(remote["cost"], json!(6.0));

    // USE_REMOTE drops the local rename and says so.
    let theirs = resolve(
        &s.app,
        &s.token,
        &by_code(1)["id"],
        "USE_REMOTE",
        Value::Null,
    )
    .await;
    let dropped = &theirs["data"]["resolveConflict"]["droppedChanges"];
    assert_eq!(dropped.as_array().unwrap().len(), 1, "{theirs}");
    assert_eq!(dropped[0]["field"], "name");
    assert_eq!(dropped[0]["change"], "LOCAL");
    assert_eq!(dropped[0]["local"], "Local name 1");
    // USE_LOCAL drops the remote price change and says so.
    let ours = resolve(
        &s.app,
        &s.token,
        &by_code(2)["id"],
        "USE_LOCAL",
        Value::Null,
    )
    .await;
    let dropped = &ours["data"]["resolveConflict"]["droppedChanges"];
    assert_eq!(dropped.as_array().unwrap().len(), 1, "{ours}");
    assert_eq!(dropped[0]["field"], "price");
    assert_eq!(dropped[0]["change"], "REMOTE");
    let audit = s
        .app
        .gql_ok(
            &s.token,
            "{ auditLog(action: \"conflict.resolve\", first: 10) { edges { node { details } } } }",
            json!({}),
        )
        .await;
    let dropped_in_audit: Vec<Value> = audit["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["details"]["dropped"].clone())
        .collect();
    assert!(
        dropped_in_audit
            .iter()
            .any(|d| d[0]["field"] == "price" && d[0]["change"] == "REMOTE"),
        "{dropped_in_audit:?}"
    );

    // A MERGED request still needs the fields both sides changed.
    let (remaining_item, remaining_remote) = (s.item(3).await, s.ids[3]);
    edit(
        &s.app,
        &s.token,
        remaining_item.id,
        json!({ "cost": "1.11" }),
    )
    .await;
    s.app
        .emulator()
        .set_remote("materials", remaining_remote, &json!({ "cost": 2.22 }))
        .unwrap();
    synced(&s.app, s.conn, RunMode::Full).await;
    let last = open_conflicts(&s.app, &s.token, s.conn, "FIELDS").await;
    let refused = resolve(&s.app, &s.token, &last[0]["id"], "MERGED", json!([])).await;
    assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
}

/// Finding 4: an item deleted upstream and edited locally is caught by the incremental
/// run's push (404) as a deletion conflict — not left in ERROR and re-sent every run.
#[tokio::test]
async fn a_push_answered_not_found_is_a_remote_delete_and_never_resent() {
    let s = synced_servicetitan(3).await;
    let edited = s.item(0).await;
    edit(&s.app, &s.token, edited.id, json!({ "price": "12.34" })).await;
    assert!(s.app.emulator().delete_remote("materials", s.ids[0]));
    let run = synced(&s.app, s.conn, RunMode::Incremental).await;
    assert_eq!(
        (run.errors, run.pushed, run.conflicts),
        (0, 0, 1),
        "{run:?}"
    );
    let link = entity::item_link::Entity::find()
        .filter(entity::item_link::Column::ItemId.eq(edited.id))
        .one(&s.app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.sync_status, LinkStatus::Conflict);
    assert!(link.deleted_remotely);
    let conflicts = open_conflicts(&s.app, &s.token, s.conn, "DELETE").await;
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0]["item"]["code"], "MAT-000001");
    let price = &conflicts[0]["fields"][0];
    assert_eq!(
        (price["field"].as_str(), price["change"].as_str()),
        (Some("price"), Some("LOCAL"))
    );

    s.app.emulator().reset_stats();
    let next = synced(&s.app, s.conn, RunMode::Incremental).await;
    assert_eq!(
        (next.errors, next.conflicts, next.pushed),
        (0, 0, 0),
        "{next:?}"
    );
    assert_eq!(
        s.app.emulator().stats().update.load(Ordering::Relaxed),
        0,
        "the push is not sent again"
    );
}

/// A seeded Jobber emulator and a connection to it made without OAuth consent.
async fn unconnected_jobber<'a>(
    app: &'a TestApp,
    token: &str,
    products: usize,
    start_sync: bool,
) -> (&'a pricebook_sync::sandbox::jobber::Emulator, i64) {
    let jobber = &app.state.sandboxes.as_ref().unwrap().jobber;
    jobber.seed(&pricebook_sync::sandbox::jobber::SeedSpec {
        products,
        services: 0,
        seed: 7,
    });
    let d = app
        .gql_ok(
            token,
            "mutation($s:Boolean!){ createConnection(input:{ name:\"jb\", provider: JOBBER, config:{ sandbox: true }, startSync: $s }) { id health } }",
            json!({ "s": start_sync }),
        )
        .await;
    assert_eq!(d["createConnection"]["health"], "NOT_CONNECTED");
    let id = d["createConnection"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    (jobber, id)
}

/// Finding 4, Jobber: it has no change feed, so every run lists completely; an
/// incremental run therefore sees deletions and applies them.
#[tokio::test]
async fn complete_incremental_listings_apply_deletions() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let (jobber, conn) = unconnected_jobber(&app, &token, 5, false).await;
    let pair = jobber.issue_tokens().unwrap();
    let d = app
        .gql_ok(
            &token,
            "mutation($id:ID!,$s:JSON!){ updateConnection(id:$id, input:{ secrets:$s }) { health } }",
            json!({ "id": conn.to_string(), "s": { "accessToken": pair.access_token, "refreshToken": pair.refresh_token } }),
        )
        .await;
    assert_eq!(d["updateConnection"]["health"], "ACTIVE");
    synced(&app, conn, RunMode::Full).await;
    let gone = jobber.ids()[0];
    let code = jobber.get_remote(gone).unwrap()["name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(jobber.delete_remote(gone));
    let run = synced(&app, conn, RunMode::Incremental).await;
    assert_eq!(run.deleted, 1, "{run:?}");
    assert!(app.item_by_code(account, &code).await.deleted_at.is_some());
}

/// Finding 5: a run that finished with record errors is told apart from a clean one and
/// counted in /metrics.
#[tokio::test]
async fn runs_with_record_errors_are_queryable_and_counted() {
    let s = synced_servicetitan(3).await;
    s.app
        .emulator()
        .set_remote("materials", s.ids[1], &json!({ "code": "" }))
        .unwrap();
    let started = s.app.start_sync(&s.token, s.conn, "FULL").await;
    let id = started["run"]["id"].as_str().unwrap().to_owned();
    s.app.wait_for_run(&s.token, &id).await;
    let d = s
        .app
        .gql_ok(
            &s.token,
            "query($id:ID!){ syncRun(id:$id) { status finishedWithRecordErrors stage counters { errors } } \
             withErrors: syncRuns(finishedWithRecordErrors: true) { totalCount edges { node { id } } } \
             clean: syncRuns(finishedWithRecordErrors: false) { totalCount } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(d["syncRun"]["status"], "SUCCEEDED", "{d}");
    assert_eq!(d["syncRun"]["finishedWithRecordErrors"], true, "{d}");
    assert_eq!(d["syncRun"]["counters"]["errors"], 1);
    assert!(
        d["syncRun"]["stage"]
            .as_str()
            .unwrap()
            .contains("1 record error"),
        "{d}"
    );
    assert_eq!(d["withErrors"]["totalCount"], 1);
    assert_eq!(d["withErrors"]["edges"][0]["node"]["id"], id.as_str());
    assert_eq!(d["clean"]["totalCount"], 1, "the first full sync was clean");
    let metrics = s
        .app
        .client
        .get(format!("{}/metrics", s.app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("sync_runs_with_record_errors_total") && l.ends_with(" 1")),
        "{metrics}"
    );
}

async fn health(app: &TestApp, token: &str, conn: i64) -> (String, Option<String>) {
    let d = app
        .gql_ok(
            token,
            "query($id:ID!){ connection(id:$id) { health healthReason } }",
            json!({ "id": conn.to_string() }),
        )
        .await;
    (
        d["connection"]["health"].as_str().unwrap().to_owned(),
        d["connection"]["healthReason"].as_str().map(str::to_owned),
    )
}

/// Finding 5: a refused refresh token makes the connection NEEDS_REAUTH: scheduled runs
/// wait, startSync and uploadCsv say so, and a successful OAuth consent clears it.
/// Before consent a connection is NOT_CONNECTED, with the same effects.
#[tokio::test]
async fn connection_health_follows_authorisation_and_blocks_what_cannot_work() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (jobber, conn) = unconnected_jobber(&app, &token, 4, true).await;
    let refused = app
        .gql(
            Some(&token),
            "mutation($c:ID!){ startSync(connectionId:$c, mode: FULL) { run { id } } }",
            json!({ "c": conn.to_string() }),
        )
        .await;
    assert_eq!(error_code(&refused), "RECONNECT_REQUIRED", "{refused}");
    assert!(runs_of(&app, &token, conn).await.is_empty());

    // Consent through the real OAuth round trip: ACTIVE, and the first sync runs.
    oauth_consent(&app, &token, conn).await;
    assert_eq!(health(&app, &token, conn).await.0, "ACTIVE");
    let runs = runs_of(&app, &token, conn).await;
    let first = app
        .wait_for_run(&token, runs[0]["id"].as_str().unwrap())
        .await;
    assert_eq!(first["status"], "SUCCEEDED", "{first}");

    // The provider stops accepting the stored refresh token.
    let secrets = stored_secrets(&app, conn).await;
    let refresh = secrets["refreshToken"].as_str().unwrap().to_owned();
    pricebook_sync::store::connections::merge_secrets(
        &app.state.db,
        &app.state.secrets,
        conn,
        &json!({ "refreshToken": "revoked-by-the-provider", "accessTokenExpiresAt": 0 }),
    )
    .await
    .unwrap();
    assert!(jobber.refresh_token_valid(&refresh));
    app.state.registry.forget(conn);
    let started = app.start_sync(&token, conn, "INCREMENTAL").await;
    let failed = app
        .wait_for_run(&token, started["run"]["id"].as_str().unwrap())
        .await;
    assert_eq!(failed["status"], "FAILED");
    assert_eq!(failed["errorCode"], "UPSTREAM_UNAUTHORIZED", "{failed}");
    let (state, reason) = health(&app, &token, conn).await;
    assert_eq!(state, "NEEDS_REAUTH");
    assert!(reason.is_some());

    let refused = app
        .gql(
            Some(&token),
            "mutation($c:ID!){ startSync(connectionId:$c, mode: INCREMENTAL) { run { id } } }",
            json!({ "c": conn.to_string() }),
        )
        .await;
    assert_eq!(error_code(&refused), "RECONNECT_REQUIRED", "{refused}");
    // Scheduled runs wait.
    app.gql_ok(
        &token,
        "mutation($c:ID!){ setSchedule(connectionId:$c, incrementalCron: \"* * * * *\", enabled: true) { id } }",
        json!({ "c": conn.to_string() }),
    )
    .await;
    let started = app
        .state
        .jobs
        .scheduler_tick(chrono::Utc::now() + chrono::Duration::hours(1))
        .await
        .unwrap();
    assert!(started.is_empty(), "{started:?}");
    // An item-cost import changes costs locally and says its push waits.
    let body = csv_upload(&app, &token, conn, "sku,cost\nCU-10000,3.21\n").await;
    let result = &body["data"]["uploadCsv"];
    assert_eq!(result["updated"], 1, "{body}");
    assert_eq!(result["pushQueued"], false, "{body}");
    assert_eq!(result["pushWaiting"], true, "{body}");
    let active = pricebook_sync::store::runs::active_for_connection(&app.state.db, conn)
        .await
        .unwrap();
    assert!(active.is_none(), "{active:?}");

    // Reconnecting clears it; the cost goes up with the next run.
    oauth_consent(&app, &token, conn).await;
    assert_eq!(health(&app, &token, conn).await.0, "ACTIVE");
    let audit = app
        .gql_ok(
            &token,
            "{ auditLog(action: \"connection.health\", first: 20) { totalCount edges { node { details } } } }",
            json!({}),
        )
        .await;
    let moves: Vec<String> = audit["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["details"]["to"].as_str().unwrap_or("").to_owned())
        .collect();
    for state in ["ACTIVE", "NEEDS_REAUTH"] {
        assert!(moves.iter().any(|m| m == state), "{moves:?}");
    }
}

async fn oauth_consent(app: &TestApp, token: &str, conn: i64) {
    let d = app
        .gql_ok(
            token,
            "mutation($c:ID!){ startOAuth(connectionId:$c) { authorizeUrl } }",
            json!({ "c": conn.to_string() }),
        )
        .await;
    let client = no_redirects();
    let consent = client
        .get(d["startOAuth"]["authorizeUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let callback = consent.headers()["location"].to_str().unwrap().to_owned();
    let done = client.get(&callback).send().await.unwrap();
    assert_eq!(done.status(), 303);
}

async fn csv_upload(app: &TestApp, token: &str, conn: i64, csv: &str) -> Value {
    upload_item_costs(&app.client, &app.address, token, &conn.to_string(), csv).await
}

/// `uploadCsv` of an item-cost file to the server at `base` (a GraphQL multipart request).
pub async fn upload_item_costs(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    connection_id: &str,
    csv: &str,
) -> Value {
    let operations = json!({
        "query": "mutation($f:Upload!,$c:ID){ uploadCsv(file:$f, target: ITEM_COSTS, connectionId:$c) { updated pushQueued pushWaiting runId errors { line message } } }",
        "variables": { "f": null, "c": connection_id },
    });
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.f"] }).to_string())
        .part(
            "0",
            reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("costs.csv"),
        );
    client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .header("x-pricebook-csrf", "1")
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Finding 5: repeated failures make a connection FAILING, then PAUSED (the schedule's
/// self-pause); a successful run clears both.
#[tokio::test]
async fn repeated_failures_make_a_connection_failing_then_paused() {
    let s = synced_servicetitan(2).await;
    s.app
        .gql_ok(
            &s.token,
            "mutation($c:ID!){ setSchedule(connectionId:$c, enabled: true) { id } }",
            json!({ "c": s.conn.to_string() }),
        )
        .await;
    s.app.emulator().faults().push(
        pricebook_sync::sandbox::faults::FaultKind::ServerError,
        10_000,
    );
    let mut seen = Vec::new();
    for _ in 0..pricebook_sync::jobs::schedule::PAUSE_AFTER_FAILURES {
        let run = s
            .app
            .run_sync(s.conn, RunMode::Incremental, json!({}), false)
            .await;
        assert_eq!(run.status, RunStatus::Failed);
        seen.push(health(&s.app, &s.token, s.conn).await.0);
    }
    assert_eq!(seen[0], "ACTIVE", "{seen:?}");
    assert_eq!(seen[2], "FAILING", "{seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("PAUSED"), "{seen:?}");
    s.app.emulator().faults().clear();
    synced(&s.app, s.conn, RunMode::Incremental).await;
    assert_eq!(health(&s.app, &s.token, s.conn).await.0, "ACTIVE");
    let d = s
        .app
        .gql_ok(
            &s.token,
            "query($id:ID!){ connection(id:$id) { schedulePausedReason } }",
            json!({ "id": s.conn.to_string() }),
        )
        .await;
    assert_eq!(d["connection"]["schedulePausedReason"], Value::Null);
}

/// Finding 6: `pricebook-sync sync` is scriptable — only JSON on stdout, plain logs on
/// stderr, a closed pipe is no panic, and a bad flag combination is a usage error that
/// records nothing.
#[tokio::test]
async fn the_sync_command_prints_only_json_and_refuses_bad_flags() {
    let s = synced_servicetitan(3).await;
    let settings = &s.app.state.settings;
    let command = || {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_pricebook-sync"));
        cmd.arg("sync")
            .arg("--data-dir")
            .arg(&settings.data_dir)
            .arg("--database-url")
            .arg(settings.resolved_database_url())
            .arg("--public-url")
            .arg(&s.app.address)
            .arg("--connection")
            .arg("st")
            .env("RUST_LOG", "info");
        cmd
    };
    let out = command().arg("--mode").arg("full").output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    assert_eq!(summary["status"], "succeeded");
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(!logs.is_empty(), "logs go to stderr");
    assert!(
        !logs.contains('\u{1b}'),
        "no colours when not a terminal: {logs}"
    );

    // The reader goes away before the summary is written.
    let mut child = command()
        .arg("--mode")
        .arg("incremental")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().await.unwrap();
    assert_ne!(status.code(), Some(101), "no panic on a closed pipe");

    let runs_before = runs_of(&s.app, &s.token, s.conn).await.len();
    let out = command()
        .arg("--mode")
        .arg("entity")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--entity"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        runs_of(&s.app, &s.token, s.conn).await.len(),
        runs_before,
        "nothing recorded"
    );
}
