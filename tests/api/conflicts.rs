//! Conflict review and resolution against the ServiceTitan emulator over real HTTP:
//! every resolution kind changes the side it should (and only that side), stale
//! conflicts are refused, failed pushes are never lost, bulk runs, tenancy and roles.

use crate::helpers::*;
use entity::enums::{LinkStatus, Role, RunMode, RunStatus};
use pricebook_sync::sandbox::faults::FaultKind;
use pricebook_sync::sandbox::servicetitan::SeedSpec;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use std::time::Duration;

const CONFLICT_FIELDS: &str = "id status kind resolution pushError comment resolvedById resolvedAt \
    item { id code name price } fields { field base local remote } local remote base \
    link { syncStatus lastError }";

struct Setup {
    app: TestApp,
    token: String,
    account: i64,
    conn: i64,
    ids: Vec<i64>,
}

fn code(i: usize) -> String {
    format!("MAT-{:06}", i + 1)
}

async fn setup(materials: usize) -> Setup {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let spec: SeedSpec =
        serde_json::from_value(json!({ "materials": materials, "equipment": 0, "services": 0 }))
            .unwrap();
    app.emulator().seed(&spec);
    let conn = app
        .sandbox_connection(&token, "st", json!({ "requestsPerSecond": 1000 }))
        .await;
    // These tests make conflicts with local edits and their own syncs.
    app.set_push_on_save(&token, conn, false).await;
    let first = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{:?}", first.error);
    let ids = app.emulator().ids("materials");
    Setup {
        app,
        token,
        account,
        conn,
        ids,
    }
}

impl Setup {
    async fn local_edit(&self, i: usize, input: Value) {
        let id = self.app.item_by_code(self.account, &code(i)).await.id;
        self.app
            .gql_ok(
                &self.token,
                "mutation($id:ID!,$i:ItemInput!){ updateItem(id:$id, input:$i) { id } }",
                json!({ "id": id.to_string(), "i": input }),
            )
            .await;
    }

    /// Name and price edited differently on both sides of material `i`.
    async fn make_conflict(&self, i: usize) {
        self.local_edit(i, json!({ "name": format!("Local {i}"), "price": "11.11" }))
            .await;
        self.app
            .emulator()
            .set_remote(
                "materials",
                self.ids[i],
                &json!({ "displayName": format!("Remote {i}"), "price": 22.22 }),
            )
            .unwrap();
    }

    async fn sync(&self, mode: RunMode) -> entity::sync_run::Model {
        let run = self.app.run_sync(self.conn, mode, json!({}), false).await;
        assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
        run
    }

    async fn open_conflict_of(&self, i: usize) -> Value {
        let d = self
            .app
            .gql_ok(
                &self.token,
                &format!("query($s:String){{ conflicts(status: OPEN, search: $s, first: 5) {{ totalCount edges {{ node {{ {CONFLICT_FIELDS} }} }} }} }}"),
                json!({ "s": code(i) }),
            )
            .await;
        assert_eq!(d["conflicts"]["totalCount"], 1, "{d}");
        d["conflicts"]["edges"][0]["node"].clone()
    }

    async fn resolve(&self, id: &Value, resolution: &str, fields: Value) -> Value {
        self.app
            .gql(
                Some(&self.token),
                &format!("mutation($id:ID!,$r:Resolution!,$f:[FieldPick!],$c:String){{ resolveConflict(id:$id, resolution:$r, fields:$f, comment:$c) {{ {CONFLICT_FIELDS} }} }}"),
                json!({ "id": id, "r": resolution, "f": fields, "c": "checked with the supplier" }),
            )
            .await
    }

    async fn item(&self, i: usize) -> entity::item::Model {
        self.app.item_by_code(self.account, &code(i)).await
    }

    fn remote(&self, i: usize) -> Value {
        self.app
            .emulator()
            .get_remote("materials", self.ids[i])
            .unwrap()
    }

    /// A sync after the resolutions finds nothing to do on either side.
    async fn assert_settled(&self) {
        self.app.emulator().reset_stats();
        let run = self.sync(RunMode::Full).await;
        assert_eq!(
            (
                run.created,
                run.updated,
                run.deleted,
                run.pushed,
                run.conflicts
            ),
            (0, 0, 0, 0, 0),
            "{run:?}"
        );
        assert_eq!(self.app.emulator().stats().writes(), 0);
    }
}

#[tokio::test]
async fn use_remote_use_local_and_merge_each_change_the_right_side() {
    let s = setup(20).await;
    for i in 0..3 {
        s.make_conflict(i).await;
    }
    let run = s.sync(RunMode::Incremental).await;
    assert_eq!(run.conflicts, 3);

    // The conflict page: item, connection, detecting run, differing fields, full versions.
    let c0 = s.open_conflict_of(0).await;
    let page = s
        .app
        .gql_ok(
            &s.token,
            "query($id:ID!){ conflict(id:$id) { kind connection { name } run { id mode } fields { field base local remote } local remote } }",
            json!({ "id": c0["id"] }),
        )
        .await;
    let conflict = &page["conflict"];
    assert_eq!(conflict["kind"], "FIELDS");
    assert_eq!(conflict["connection"]["name"], "st");
    assert_eq!(conflict["run"]["id"], run.id.to_string());
    let fields: Vec<&str> = conflict["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "price"]);
    assert_eq!(conflict["fields"][0]["local"], "Local 0");
    assert_eq!(conflict["fields"][0]["remote"], "Remote 0");
    assert_eq!(conflict["local"]["name"], "Local 0");
    assert_eq!(conflict["remote"]["name"], "Remote 0");

    // USE_REMOTE: local takes the remote values, upstream is not written.
    s.app.emulator().reset_stats();
    let r = s.resolve(&c0["id"], "USE_REMOTE", Value::Null).await;
    let done = &r["data"]["resolveConflict"];
    assert_eq!(done["status"], "RESOLVED", "{r}");
    assert_eq!(done["resolution"], "USE_REMOTE");
    assert_eq!(done["comment"], "checked with the supplier");
    assert!(done["resolvedById"].is_string() && done["resolvedAt"].is_string());
    assert_eq!(done["link"]["syncStatus"], "SYNCED");
    assert_eq!(s.item(0).await.name, "Remote 0");
    assert_eq!(s.item(0).await.price.unwrap().to_string(), "22.2200");
    assert_eq!(s.app.emulator().stats().writes(), 0);

    // USE_LOCAL: upstream takes the local values.
    let c1 = s.open_conflict_of(1).await;
    let r = s.resolve(&c1["id"], "USE_LOCAL", Value::Null).await;
    assert_eq!(
        r["data"]["resolveConflict"]["resolution"], "USE_LOCAL",
        "{r}"
    );
    assert!(r["data"]["resolveConflict"]["pushError"].is_null());
    assert_eq!(s.remote(1)["displayName"], "Local 1");
    assert_eq!(s.remote(1)["price"], json!(11.11));
    assert_eq!(s.item(1).await.name, "Local 1");

    // MERGED: a bad custom value and a missing pick are refused before anything is written.
    let c2 = s.open_conflict_of(2).await;
    let bad = s
        .resolve(
            &c2["id"],
            "MERGED",
            json!([{ "field": "name", "pick": "REMOTE" }, { "field": "price", "pick": "CUSTOM", "value": "abc" }]),
        )
        .await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT", "{bad}");
    assert!(
        bad["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("price")
    );
    let missing = s
        .resolve(
            &c2["id"],
            "MERGED",
            json!([{ "field": "name", "pick": "REMOTE" }]),
        )
        .await;
    assert_eq!(error_code(&missing), "BAD_USER_INPUT", "{missing}");
    assert_eq!(
        s.item(2).await.name,
        "Local 2",
        "refused merges change nothing"
    );
    assert_eq!(s.remote(2)["displayName"], "Remote 2");

    let r = s
        .resolve(
            &c2["id"],
            "MERGED",
            json!([{ "field": "name", "pick": "REMOTE" }, { "field": "price", "pick": "CUSTOM", "value": "77.77" }]),
        )
        .await;
    let merged = &r["data"]["resolveConflict"];
    assert_eq!(merged["resolution"], "MERGED", "{r}");
    let item = s.item(2).await;
    assert_eq!(
        (item.name.as_str(), item.price.unwrap().to_string()),
        ("Remote 2", "77.7700".into())
    );
    assert_eq!(s.remote(2)["price"], json!(77.77), "merge pushed upstream");
    assert_eq!(s.remote(2)["displayName"], "Remote 2");

    // Resolving again is refused; every resolution is in the audit log.
    let again = s.resolve(&c0["id"], "USE_LOCAL", Value::Null).await;
    assert_eq!(error_code(&again), "CONFLICT_STALE", "{again}");
    let audit = s
        .app
        .gql_ok(
            &s.token,
            "{ auditLog(action: \"conflict.resolve\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(audit["auditLog"]["totalCount"], 3);

    s.assert_settled().await;
}

#[tokio::test]
async fn a_conflict_changed_again_is_refused_as_stale_and_shows_the_new_versions() {
    let s = setup(10).await;
    s.make_conflict(0).await;
    s.sync(RunMode::Incremental).await;
    let c = s.open_conflict_of(0).await;

    // Someone edits upstream again after detection.
    s.app
        .emulator()
        .set_remote("materials", s.ids[0], &json!({ "price": 33.33 }))
        .unwrap();
    s.app.emulator().reset_stats();
    let r = s.resolve(&c["id"], "USE_LOCAL", Value::Null).await;
    assert_eq!(error_code(&r), "CONFLICT_STALE", "{r}");
    assert_eq!(s.app.emulator().stats().writes(), 0, "nothing overwritten");
    let refreshed = s.open_conflict_of(0).await;
    let price = refreshed["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "price")
        .unwrap()
        .clone();
    assert_eq!(price["remote"], "33.3300", "{refreshed}");

    // A local edit after detection is stale too.
    s.local_edit(0, json!({ "cost": "4.5" })).await;
    let r = s.resolve(&c["id"], "USE_REMOTE", Value::Null).await;
    assert_eq!(error_code(&r), "CONFLICT_STALE", "{r}");

    // Resolving the refreshed conflict works.
    let r = s.resolve(&c["id"], "USE_REMOTE", Value::Null).await;
    assert_eq!(r["data"]["resolveConflict"]["status"], "RESOLVED", "{r}");
    assert_eq!(s.item(0).await.price.unwrap().to_string(), "33.3300");
    s.assert_settled().await;
}

#[tokio::test]
async fn deletion_conflicts_keep_local_or_accept_the_delete() {
    let s = setup(10).await;
    for i in [3, 4] {
        s.local_edit(i, json!({ "cost": "9.99" })).await;
        assert!(s.app.emulator().delete_remote("materials", s.ids[i]));
    }
    let run = s.sync(RunMode::Full).await;
    assert_eq!(run.conflicts, 2);
    let accept = s.open_conflict_of(3).await;
    let keep = s.open_conflict_of(4).await;
    assert_eq!(accept["kind"], "DELETE");
    assert!(accept["remote"].is_null());

    let merge = s
        .resolve(
            &keep["id"],
            "MERGED",
            json!([{ "field": "cost", "pick": "LOCAL" }]),
        )
        .await;
    assert_eq!(error_code(&merge), "BAD_USER_INPUT");

    let r = s.resolve(&accept["id"], "USE_REMOTE", Value::Null).await;
    assert_eq!(r["data"]["resolveConflict"]["status"], "RESOLVED", "{r}");
    assert!(
        s.item(3).await.deleted_at.is_some(),
        "accepting the delete soft-deletes"
    );

    let before = s.app.emulator().ids("materials").len();
    let r = s.resolve(&keep["id"], "USE_LOCAL", Value::Null).await;
    assert_eq!(r["data"]["resolveConflict"]["status"], "RESOLVED", "{r}");
    let kept = s.item(4).await;
    assert!(kept.deleted_at.is_none());
    assert_eq!(
        s.app.emulator().ids("materials").len(),
        before + 1,
        "re-created upstream"
    );
    let link = entity::item_link::Entity::find()
        .filter(entity::item_link::Column::ItemId.eq(kept.id))
        .one(&s.app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!link.deleted_remotely);
    let recreated = s
        .app
        .emulator()
        .get_remote("materials", link.remote_id.parse().unwrap())
        .unwrap();
    assert_eq!(recreated["code"], code(4));
    assert_eq!(recreated["cost"], json!(9.99));
    s.assert_settled().await;
}

#[tokio::test]
async fn a_failed_push_keeps_the_item_pending_and_the_next_sync_sends_it() {
    let s = setup(10).await;
    s.make_conflict(0).await;
    s.sync(RunMode::Incremental).await;
    let c = s.open_conflict_of(0).await;
    // The stale check's read passes, every write attempt fails.
    let faults = s.app.emulator().faults();
    faults.push(FaultKind::Latency(0), 1);
    faults.push(FaultKind::ServerError, 50);
    let r = s.resolve(&c["id"], "USE_LOCAL", Value::Null).await;
    faults.clear();
    let done = &r["data"]["resolveConflict"];
    assert_eq!(done["status"], "RESOLVED", "{r}");
    assert!(done["pushError"].as_str().unwrap().contains("500"), "{r}");
    assert_eq!(done["link"]["syncStatus"], "PENDING_PUSH");
    assert_eq!(
        s.remote(0)["displayName"],
        "Remote 0",
        "upstream not changed yet"
    );

    let run = s.sync(RunMode::Incremental).await;
    assert_eq!(run.pushed, 1, "{run:?}");
    assert_eq!(s.remote(0)["displayName"], "Local 0");
    let link = entity::item_link::Entity::find()
        .filter(entity::item_link::Column::ItemId.eq(s.item(0).await.id))
        .one(&s.app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.sync_status, LinkStatus::Synced);
    s.assert_settled().await;
}

#[tokio::test]
async fn five_hundred_conflicts_resolve_in_one_run_and_arrive_live() {
    let s = setup(510).await;
    let mut feed = s
        .app
        .subscribe(
            &s.token,
            "subscription($c:ID){ conflictCreated(connectionId:$c) { id kind item { code } fields { field } } }",
            json!({ "c": s.conn.to_string() }),
        )
        .await;
    for i in 0..500 {
        s.make_conflict(i).await;
    }
    // Through the job system, so progress (and with it the conflict feed) is live.
    let started = s.app.start_sync(&s.token, s.conn, "INCREMENTAL").await;
    let run = s
        .app
        .wait_for_run(&s.token, started["run"]["id"].as_str().unwrap())
        .await;
    assert_eq!(run["counters"]["conflicts"], 500, "{run}");
    let first = feed
        .next(Duration::from_secs(10))
        .await
        .expect("a live conflict");
    assert_eq!(
        first["payload"]["data"]["conflictCreated"]["kind"], "FIELDS",
        "{first}"
    );

    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let d = s
            .app
            .gql_ok(
                &s.token,
                "query($a:String){ conflicts(status: OPEN, first: 200, after: $a) { edges { node { id } } pageInfo { hasNextPage endCursor } } }",
                json!({ "a": after }),
            )
            .await;
        ids.extend(
            d["conflicts"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["id"].clone()),
        );
        if d["conflicts"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = d["conflicts"]["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
    assert_eq!(ids.len(), 500);

    let merged = s
        .app
        .gql(
            Some(&s.token),
            "mutation($ids:[ID!]!){ resolveConflicts(ids:$ids, resolution: MERGED) { id } }",
            json!({ "ids": ids }),
        )
        .await;
    assert_eq!(error_code(&merged), "BAD_USER_INPUT");
    let d = s
        .app
        .gql_ok(
            &s.token,
            "mutation($ids:[ID!]!){ resolveConflicts(ids:$ids, resolution: USE_REMOTE) { id mode status } }",
            json!({ "ids": ids }),
        )
        .await;
    assert_eq!(d["resolveConflicts"]["mode"], "RESOLVE");
    let done = s
        .app
        .wait_for_run(&s.token, d["resolveConflicts"]["id"].as_str().unwrap())
        .await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["progress"], 100);
    assert_eq!(done["counters"]["updated"], 500, "{done}");
    let open = s
        .app
        .gql_ok(
            &s.token,
            "{ conflicts(status: OPEN) { totalCount } reviewQueue { openConflicts } }",
            json!({}),
        )
        .await;
    assert_eq!(open["conflicts"]["totalCount"], 0);
    assert_eq!(open["reviewQueue"]["openConflicts"], 0);
    assert_eq!(s.item(499).await.name, "Remote 499");
    s.assert_settled().await;
}

#[tokio::test]
async fn viewers_read_and_other_accounts_see_nothing() {
    let s = setup(10).await;
    s.make_conflict(0).await;
    s.sync(RunMode::Incremental).await;
    let c = s.open_conflict_of(0).await;
    let account_name = entity::account::Entity::find_by_id(s.account)
        .one(&s.app.state.db)
        .await
        .unwrap()
        .unwrap()
        .name;
    let viewer = s
        .app
        .user_token(&account_name, "viewer@a.test", Role::Viewer)
        .await;
    let seen = s
        .app
        .gql_ok(&viewer, "{ conflicts { totalCount } reviewQueue { openConflicts conflictsByKind { kind count } } }", json!({}))
        .await;
    assert_eq!(seen["conflicts"]["totalCount"], 1);
    assert_eq!(seen["reviewQueue"]["conflictsByKind"][0]["kind"], "FIELDS");
    let q = "mutation($id:ID!){ resolveConflict(id:$id, resolution: USE_REMOTE) { id } }";
    let denied = s.app.gql(Some(&viewer), q, json!({ "id": c["id"] })).await;
    assert_eq!(error_code(&denied), "FORBIDDEN");

    let other = s.app.user_token("other", "admin@b.test", Role::Admin).await;
    let none = s
        .app
        .gql_ok(&other, "{ conflicts { totalCount } }", json!({}))
        .await;
    assert_eq!(none["conflicts"]["totalCount"], 0);
    let hidden = s
        .app
        .gql(
            Some(&other),
            "query($id:ID!){ conflict(id:$id) { id } }",
            json!({ "id": c["id"] }),
        )
        .await;
    assert_eq!(error_code(&hidden), "NOT_FOUND");
    let foreign = s.app.gql(Some(&other), q, json!({ "id": c["id"] })).await;
    assert_eq!(error_code(&foreign), "NOT_FOUND");
    let bulk = s
        .app
        .gql(
            Some(&other),
            "mutation($ids:[ID!]!){ resolveConflicts(ids:$ids, resolution: USE_REMOTE) { id } }",
            json!({ "ids": [c["id"]] }),
        )
        .await;
    assert_eq!(error_code(&bulk), "NOT_FOUND");
    assert_eq!(s.item(0).await.name, "Local 0", "nothing resolved");
}

#[tokio::test]
async fn disjoint_edits_merge_automatically_when_the_connection_allows_it() {
    let s = setup(10).await;
    s.app
        .gql_ok(
            &s.token,
            "mutation($id:ID!){ updateConnection(id:$id, input:{ autoMergeDisjointFields: true }) { autoMergeDisjointFields } }",
            json!({ "id": s.conn.to_string() }),
        )
        .await;
    s.local_edit(0, json!({ "price": "15.5" })).await;
    s.app
        .emulator()
        .set_remote(
            "materials",
            s.ids[0],
            &json!({ "description": "remote words" }),
        )
        .unwrap();
    let run = s.sync(RunMode::Incremental).await;
    assert_eq!((run.conflicts, run.pushed), (0, 1), "{run:?}");
    let item = s.item(0).await;
    assert_eq!(item.description.as_deref(), Some("remote words"));
    assert_eq!(s.remote(0)["price"], json!(15.5));
    let events = s
        .app
        .gql_ok(
            &s.token,
            "query($id:ID!){ syncRun(id:$id) { summary events { edges { node { kind } } } } }",
            json!({ "id": run.id.to_string() }),
        )
        .await;
    assert!(events.to_string().contains("auto_merged"), "{events}");
    assert_eq!(events["syncRun"]["summary"]["autoMerged"], 1, "{events}");
    s.assert_settled().await;
}

#[tokio::test]
async fn a_failed_record_waits_in_the_review_queue_until_retried_or_ignored() {
    let s = setup(5).await;
    // Edited here, then (behind the API's back, which refuses it) to a price ServiceTitan
    // refuses: the incremental sync's push answers 400. (A record gone upstream would be a
    // delete conflict, not a failed record.)
    s.local_edit(1, json!({ "price": "19.5" })).await;
    {
        use sea_orm::{ActiveModelTrait, Set};
        let mut item: entity::item::ActiveModel =
            s.app.item_by_code(s.account, &code(1)).await.into();
        item.price = Set(Some(entity::Money::new(
            rust_decimal::Decimal::NEGATIVE_ONE,
        )));
        item.update(&s.app.state.db).await.unwrap();
    }
    let run = s
        .app
        .run_sync(s.conn, RunMode::Incremental, json!({}), false)
        .await;
    assert_eq!(run.errors, 1, "{run:?}");
    let q = "{ reviewQueue { failedRecords failed { totalCount edges { node { error attempts \
             item { code } link { syncStatus paused } } } } } }";
    let queue = s.app.gql_ok(&s.token, q, json!({})).await;
    assert_eq!(queue["reviewQueue"]["failedRecords"], 1, "{queue}");
    let node = &queue["reviewQueue"]["failed"]["edges"][0]["node"];
    assert_eq!(node["item"]["code"], code(1));
    assert_eq!(node["link"]["syncStatus"], "ERROR");
    assert!(node["error"].as_str().unwrap().contains("400"), "{node}");

    // Ignoring it (pausing its sync) is an answer: it leaves the queue, and comes back
    // when un-paused.
    let item = s.app.item_by_code(s.account, &code(1)).await.id.to_string();
    let pause = "mutation($id:ID!,$p:Boolean!){ setItemSyncPaused(itemId:$id, paused:$p) { id } }";
    s.app
        .gql_ok(&s.token, pause, json!({ "id": item, "p": true }))
        .await;
    let queue = s.app.gql_ok(&s.token, q, json!({})).await;
    assert_eq!(queue["reviewQueue"]["failedRecords"], 0, "{queue}");
    assert_eq!(queue["reviewQueue"]["failed"]["totalCount"], 0, "{queue}");
    s.app
        .gql_ok(&s.token, pause, json!({ "id": item, "p": false }))
        .await;
    let queue = s.app.gql_ok(&s.token, q, json!({})).await;
    assert_eq!(queue["reviewQueue"]["failedRecords"], 1, "{queue}");
}
