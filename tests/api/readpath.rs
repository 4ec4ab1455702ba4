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
