//! The read path dashboards hammer: one `items` page costs a fixed number of database
//! statements however many items it holds (links, categories and vendor prices come
//! through DataLoaders), so N+1 cannot creep back unnoticed.

use crate::helpers::*;
use entity::enums::{RunMode, RunStatus};
use pricebook_sync::sandbox::servicetitan::SeedSpec;
use serde_json::json;

const PAGE: &str = "query($n:Int!){ items(first:$n) { edges { node { id code cost price \
    links { connectionId remoteId syncStatus lastSyncedAt } category { id name } \
    vendorPrices { vendor price } } } pageInfo { hasNextPage } } }";

/// Lists read items without their `attributes` document; a page that asks for it loads
/// it in one more batched statement.
const PAGE_WITH_ATTRIBUTES: &str =
    "query($n:Int!){ items(first:$n) { edges { node { id attributes } } } }";

/// Statements one request runs; the least of three tries, so a background poll of the
/// job queue landing in the same instant does not count.
async fn statements_for(app: &TestApp, token: &str, query: &str, n: usize) -> u64 {
    let mut least = u64::MAX;
    for _ in 0..3 {
        let before = app.state.queries.get();
        let d = app.gql_ok(token, query, json!({ "n": n })).await;
        let after = app.state.queries.get();
        assert_eq!(d["items"]["edges"].as_array().unwrap().len(), n);
        least = least.min(after - before);
    }
    least
}

async fn synced_app() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let spec: SeedSpec =
        serde_json::from_value(json!({ "materials": 150, "equipment": 20, "services": 30 }))
            .unwrap();
    app.emulator().seed(&spec);
    let conn = app.sandbox_connection(&token, "st", json!({})).await;
    let run = app.run_sync(conn, RunMode::Full, json!({}), false).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    (app, token)
}

#[tokio::test]
async fn an_items_page_costs_the_same_statements_at_any_size() {
    let (app, token) = synced_app().await;
    let small = statements_for(&app, &token, PAGE, 5).await;
    let large = statements_for(&app, &token, PAGE, 200).await;
    assert!(small > 0, "the counter sees the page's statements");
    assert_eq!(
        small, large,
        "a page of 200 must cost what a page of 5 costs"
    );
    assert!(large <= 6, "{large} statements for one page");
}

#[tokio::test]
async fn a_page_asking_for_attributes_loads_them_in_one_batch() {
    let (app, token) = synced_app().await;
    let small = statements_for(&app, &token, PAGE_WITH_ATTRIBUTES, 5).await;
    let large = statements_for(&app, &token, PAGE_WITH_ATTRIBUTES, 200).await;
    assert_eq!(small, large, "attributes of 200 items cost what 5 cost");
    assert!(
        large <= 2,
        "{large} statements: the page and one batch of attributes"
    );

    // Each node's attributes are the item's own, as the single-item query reads them.
    let page = app
        .gql_ok(&token, PAGE_WITH_ATTRIBUTES, json!({ "n": 200 }))
        .await;
    let nodes = page["items"]["edges"].as_array().unwrap();
    let mut with_content = 0;
    for edge in nodes {
        let node = &edge["node"];
        let one = app
            .gql_ok(
                &token,
                "query($id:ID!){ item(id:$id) { attributes } }",
                json!({ "id": node["id"] }),
            )
            .await;
        assert_eq!(node["attributes"], one["item"]["attributes"], "{node}");
        if node["attributes"]
            .as_object()
            .is_some_and(|o| !o.is_empty())
        {
            with_content += 1;
        }
    }
    assert!(
        with_content > 100,
        "seeded items carry attributes ({with_content})"
    );
}

/// Page objects skip async-graphql's per-field tasks for plain selections (aliases and
/// `__typename` included) and take async-graphql's own path for fragments, directives and
/// a field selected twice; both must read exactly as the plain query does.
#[tokio::test]
async fn a_page_reads_the_same_through_fragments_aliases_and_directives() {
    let (app, token) = synced_app().await;
    let plain = app
        .gql_ok(
            &token,
            "{ items(first: 50) { edges { node { id code name cost \
             links { remoteId syncStatus } category { id name } } } } }",
            json!({}),
        )
        .await;
    let aliased = app
        .gql_ok(
            &token,
            "{ items(first: 50) { edges { node { \
               __typename code cost title: name id \
               links { __typename remoteId sync: syncStatus } \
               category { id name __typename } \
             } } } }",
            json!({}),
        )
        .await;
    let dressed = app
        .gql_ok(
            &token,
            "query($yes: Boolean!) { items(first: 50) { edges { node { \
               __typename ...Basic title: name id @include(if: $yes) \
               links { __typename ... on ItemLink { remoteId } sync: syncStatus } \
               category { id } category { name __typename } \
             } } } } \
             fragment Basic on Item { code cost }",
            json!({ "yes": true }),
        )
        .await;
    let plain = plain["items"]["edges"].as_array().unwrap();
    assert_eq!(plain.len(), 50);
    for other in [aliased, dressed] {
        let other = other["items"]["edges"].as_array().unwrap();
        assert_eq!(other.len(), 50);
        let mut with_category = 0;
        for (p, d) in plain.iter().zip(other) {
            let (p, d) = (&p["node"], &d["node"]);
            assert_eq!(d["__typename"], "Item");
            for key in ["id", "code", "cost"] {
                assert_eq!(d[key], p[key], "{key} of {p}");
            }
            assert_eq!(d["title"], p["name"]);
            assert!(
                d.get("name").is_none(),
                "an alias replaces the field name: {d}"
            );
            let (pl, dl) = (
                p["links"].as_array().unwrap(),
                d["links"].as_array().unwrap(),
            );
            assert_eq!(pl.len(), dl.len());
            assert!(!pl.is_empty(), "synced items have a link");
            for (pl, dl) in pl.iter().zip(dl) {
                assert_eq!(dl["__typename"], "ItemLink");
                assert_eq!(dl["remoteId"], pl["remoteId"]);
                assert_eq!(dl["sync"], pl["syncStatus"]);
            }
            if p["category"].is_null() {
                assert!(d["category"].is_null(), "{d}");
            } else {
                with_category += 1;
                assert_eq!(d["category"]["id"], p["category"]["id"]);
                assert_eq!(d["category"]["name"], p["category"]["name"]);
                assert_eq!(d["category"]["__typename"], "Category");
            }
        }
        assert!(with_category > 0, "seeded items have categories");
    }
}

/// The connection and its edges are built in place for plain selections (aliases, a
/// field twice under two keys, `__typename`) and by async-graphql for fragments and
/// directives; cursors, nodes, `pageInfo`, `nodes` and `totalCount` read the same.
#[tokio::test]
async fn a_connection_reads_the_same_through_aliases_and_fragments() {
    let (app, token) = synced_app().await;
    let plain = app
        .gql_ok(
            &token,
            "{ items(first: 30) { totalCount pageInfo { hasNextPage endCursor } \
             edges { cursor node { id code } } nodes { id } } }",
            json!({}),
        )
        .await;
    let aliased = app
        .gql_ok(
            &token,
            "{ items(first: 30) { __typename n: totalCount \
             e: edges { __typename c: cursor a: node { id } b: node { code __typename } } \
             p: pageInfo { endCursor hasNextPage } nodes { id } } }",
            json!({}),
        )
        .await;
    let dressed = app
        .gql_ok(
            &token,
            "query($yes: Boolean!) { items(first: 30) { ...Count \
             edges { ... on ItemEdge { cursor } node @include(if: $yes) { id code } } \
             pageInfo { hasNextPage endCursor } nodes { id } } } \
             fragment Count on ItemConnection { totalCount }",
            json!({ "yes": true }),
        )
        .await;
    let (plain, aliased, dressed) = (&plain["items"], &aliased["items"], &dressed["items"]);
    let edges = plain["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 30);
    assert!(
        plain["totalCount"].as_u64().unwrap() > 30,
        "{}",
        plain["totalCount"]
    );
    assert_eq!(aliased["__typename"], "ItemConnection");
    assert_eq!(aliased["n"], plain["totalCount"]);
    assert_eq!(dressed["totalCount"], plain["totalCount"]);
    assert_eq!(aliased["p"], plain["pageInfo"]);
    assert_eq!(dressed["pageInfo"], plain["pageInfo"]);
    assert_eq!(aliased["nodes"], plain["nodes"]);
    assert_eq!(dressed["edges"], plain["edges"]);
    let other = aliased["e"].as_array().unwrap();
    assert_eq!(other.len(), 30);
    for (p, a) in edges.iter().zip(other) {
        assert_eq!(a["__typename"], "ItemEdge");
        assert_eq!(a["c"], p["cursor"]);
        assert_eq!(a["a"]["id"], p["node"]["id"]);
        assert_eq!(a["b"]["code"], p["node"]["code"]);
        assert_eq!(a["b"]["__typename"], "Item");
        assert_eq!(
            a.as_object().unwrap().len(),
            4,
            "only the selected keys: {a}"
        );
    }
    assert_eq!(
        plain["pageInfo"]["endCursor"],
        edges.last().unwrap()["cursor"]
    );
}

/// SQLite plans without statistics: the page's link look-up must seek each item's links
/// (idx_links_item_connection), not walk every link of the account through the
/// `(account_id, sync_status, item_id)` count index, which cost most of a page's CPU.
#[tokio::test]
async fn the_page_link_look_up_seeks_by_item_on_sqlite() {
    use sea_orm::{ConnectionTrait, DbBackend, QueryTrait, Statement};
    let app = TestApp::spawn().await;
    let db = &app.state.db;
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let select = pricebook_sync::store::links::summaries_query(DbBackend::Sqlite, 1, &[1, 2, 3]);
    let built = select.build(DbBackend::Sqlite);
    let explain = Statement::from_sql_and_values(
        DbBackend::Sqlite,
        format!("EXPLAIN QUERY PLAN {}", built.sql),
        built.values.map(|v| v.0).unwrap_or_default(),
    );
    let plan: Vec<String> = db
        .query_all_raw(explain)
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "detail").unwrap())
        .collect();
    let item_links = plan.iter().find(|d| d.contains("item_links")).unwrap();
    assert!(
        item_links.contains("idx_links_item_connection (item_id=?)"),
        "{plan:?}"
    );
}
