//! `items { totalCount }` stays exact: after every kind of write (a full sync, an
//! incremental and a full sync with remote edits and deletes, a CSV import and its push,
//! conflicts and their resolutions, local edits, a second connection and its deletion),
//! every common filter counts exactly the items that paging through it lists. The counts
//! come from the triggers' `item_counts`; without their maintenance this fails.

use crate::helpers::*;
use entity::enums::{RunMode, RunStatus};
use pricebook_sync::sandbox::servicetitan::SeedSpec;
use serde_json::{Value, json};

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

async fn setup() -> Setup {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    let spec: SeedSpec =
        serde_json::from_value(json!({ "materials": 30, "equipment": 6, "services": 6 })).unwrap();
    app.emulator().seed(&spec);
    let conn = app
        .sandbox_connection(&token, "st", json!({ "requestsPerSecond": 1000 }))
        .await;
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
    async fn sync(&self, connection: i64, mode: RunMode) {
        let run = self.app.run_sync(connection, mode, json!({}), false).await;
        assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    }

    async fn edit(&self, i: usize, input: Value) {
        let id = self.app.item_by_code(self.account, &code(i)).await.id;
        self.app
            .gql_ok(
                &self.token,
                "mutation($id:ID!,$i:ItemInput!){ updateItem(id:$id, input:$i) { id } }",
                json!({ "id": id.to_string(), "i": input }),
            )
            .await;
    }

    /// The bench's filters, the other kinds, states and statuses, and uncovered ones
    /// (counted from the rows) for comparison.
    fn filters(&self, connections: &[i64]) -> Vec<String> {
        let mut out: Vec<String> = [
            "",
            "kind: MATERIAL",
            "kind: EQUIPMENT",
            "kind: SERVICE",
            "active: true",
            "active: false",
            "deleted: true",
            "deleted: true, kind: MATERIAL, active: false",
            "syncStatus: SYNCED",
            "syncStatus: PENDING_PUSH",
            "syncStatus: CONFLICT",
            "search: \"MAT-00001\"",
        ]
        .map(String::from)
        .into();
        for c in connections {
            out.push(format!("connectionId: \"{c}\""));
            for s in ["SYNCED", "PENDING_PUSH", "CONFLICT"] {
                out.push(format!("connectionId: \"{c}\", syncStatus: {s}"));
            }
            out.push(format!("connectionId: \"{c}\", kind: MATERIAL"));
        }
        out
    }

    /// Every filter's `totalCount` (asked alone, and beside a page) equals the number of
    /// nodes listed by paging through it. Returns the counts, in filter order.
    async fn assert_exact(&self, stage: &str, connections: &[i64]) -> Vec<u64> {
        let mut counts = Vec::new();
        for f in self.filters(connections) {
            let alone = self
                .app
                .gql_ok(
                    &self.token,
                    &format!(
                        "{{ items{} {{ totalCount }} }}",
                        if f.is_empty() {
                            String::new()
                        } else {
                            format!("({f})")
                        }
                    ),
                    json!({}),
                )
                .await["items"]["totalCount"]
                .as_u64()
                .unwrap();
            let (mut listed, mut after) = (0u64, Value::Null);
            loop {
                let d = self
                    .app
                    .gql_ok(
                        &self.token,
                        &format!("query($a:String){{ items({f}{}first: 7, after: $a) {{ totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ id }} }} }} }}", if f.is_empty() { "" } else { ", " }),
                        json!({ "a": after }),
                    )
                    .await;
                let page = &d["items"];
                assert_eq!(
                    page["totalCount"], alone,
                    "{stage}: items({f}) beside a page"
                );
                listed += page["edges"].as_array().unwrap().len() as u64;
                if page["pageInfo"]["hasNextPage"] != true {
                    break;
                }
                after = page["pageInfo"]["endCursor"].clone();
            }
            assert_eq!(
                alone, listed,
                "{stage}: items({f}) totalCount vs nodes listed"
            );
            counts.push(alone);
        }
        counts
    }
}

#[tokio::test]
async fn counts_stay_exact_through_syncs_imports_resolutions_and_edits() {
    let s = setup().await;
    let one = [s.conn];
    let before = s.assert_exact("before any sync", &one).await;
    assert_eq!(before[0], 0);

    s.sync(s.conn, RunMode::Full).await;
    let synced = s.assert_exact("after the full sync", &one).await;
    assert_eq!(synced[0], 42, "every seeded record is an item");

    // Remote edits and deletes: an incremental, then a full listing applies the deletes.
    for i in [0, 1] {
        s.app
            .emulator()
            .set_remote(
                "materials",
                s.ids[i],
                &json!({ "displayName": format!("Remote {i}") }),
            )
            .unwrap();
    }
    for i in [2, 3, 4] {
        assert!(s.app.emulator().delete_remote("materials", s.ids[i]));
    }
    s.sync(s.conn, RunMode::Incremental).await;
    s.assert_exact("after the incremental", &one).await;
    s.sync(s.conn, RunMode::Full).await;
    let deleted = s
        .assert_exact("after the full sync with deletes", &one)
        .await;
    assert_eq!(
        deleted[0], 39,
        "three remote deletes soft-delete three items"
    );
    assert_eq!(deleted[6], 3);

    // A CSV import changes costs locally (pending push), then pushes them.
    let csv = format!("SKU,Cost\n{},1.25\n{},2.5\n", code(5), code(6));
    let r = s
        .app
        .upload_csv(
            &s.token,
            csv.into_bytes(),
            "runId updated",
            json!({ "connectionId": s.conn.to_string() }),
        )
        .await;
    assert_eq!(r["data"]["uploadCsv"]["updated"], 2, "{r}");
    let run = r["data"]["uploadCsv"]["runId"].as_str().unwrap().to_owned();
    let done = s.app.wait_for_run(&s.token, &run).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    s.assert_exact("after the CSV import and its push", &one)
        .await;

    // Local edits: one deactivated, one renamed (both pending push: push on save is off).
    s.edit(7, json!({ "active": false })).await;
    s.edit(8, json!({ "name": "Local 8" })).await;
    let edited = s.assert_exact("after local edits", &one).await;
    assert_eq!(edited[9], 2, "two items wait to be pushed");

    // Conflicts: both sides changed one, and one deleted upstream while edited locally.
    s.edit(10, json!({ "name": "Local 10" })).await;
    s.app
        .emulator()
        .set_remote(
            "materials",
            s.ids[10],
            &json!({ "displayName": "Remote 10" }),
        )
        .unwrap();
    s.edit(11, json!({ "cost": "3.33" })).await;
    assert!(s.app.emulator().delete_remote("materials", s.ids[11]));
    s.sync(s.conn, RunMode::Full).await;
    let conflicted = s.assert_exact("with open conflicts", &one).await;
    assert_eq!(conflicted[10], 2, "two items in conflict");
    let open = s
        .app
        .gql_ok(
            &s.token,
            "{ conflicts(status: OPEN, first: 10) { edges { node { id kind } } } }",
            json!({}),
        )
        .await;
    for edge in open["conflicts"]["edges"].as_array().unwrap() {
        let r = s
            .app
            .gql(
                Some(&s.token),
                "mutation($id:ID!){ resolveConflict(id:$id, resolution: USE_REMOTE) { status } }",
                json!({ "id": edge["node"]["id"] }),
            )
            .await;
        assert_eq!(r["data"]["resolveConflict"]["status"], "RESOLVED", "{r}");
    }
    let resolved = s.assert_exact("after the resolutions", &one).await;
    assert_eq!(resolved[10], 0);
    assert_eq!(resolved[6], 4, "accepting the remote delete soft-deletes");

    // A second connection links the same items again: a status counts each item once.
    let d = s
        .app
        .gql_ok(
            &s.token,
            "mutation($c:JSON!){ createConnection(input:{ name: \"st-2\", provider: SERVICETITAN, config:$c, adoptionPolicy: PREFER_REMOTE, startSync: false, pushOnSave: false }) { id } }",
            json!({ "c": { "sandbox": true, "requestsPerSecond": 1000 } }),
        )
        .await;
    let second: i64 = d["createConnection"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    s.sync(second, RunMode::Full).await;
    let both = [s.conn, second];
    let twice = s.assert_exact("with two connections", &both).await;
    assert_eq!(
        twice[0], resolved[0],
        "the second connection adopts the same items"
    );
    s.edit(12, json!({ "price": "7.77" })).await;
    s.assert_exact("an item pending on two connections", &both)
        .await;

    // Deleting a connection removes its links.
    s.app
        .gql_ok(
            &s.token,
            "mutation($id:ID!){ deleteConnection(id:$id) }",
            json!({ "id": second.to_string() }),
        )
        .await;
    s.assert_exact("after deleting the second connection", &both)
        .await;
}

/// The counts cost a write one grouped insert per statement, not a row per changed item
/// or link: after a first full sync of 42 items (each with one link) `item_counts` holds
/// a handful of rows on both databases. PostgreSQL's row-level triggers appended three
/// delta rows per item here (126) and made 52k link inserts take 3.4 times as long.
#[tokio::test]
async fn a_sync_page_writes_one_delta_per_scope_not_per_row() {
    use sea_orm::{ConnectionTrait, Statement};
    let s = setup().await;
    s.sync(s.conn, RunMode::Full).await;
    let db = &s.app.state.db;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT COUNT(*) AS n FROM item_counts WHERE account_id = {}",
                s.account
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    let rows: i64 = row.try_get("", "n").unwrap();
    assert!(
        rows <= 20,
        "{rows} rows in item_counts after syncing 42 items"
    );
    s.assert_exact("after the full sync", &[s.conn]).await;
}
