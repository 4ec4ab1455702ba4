use crate::helpers::*;
use serde_json::{Value, json};

#[tokio::test]
async fn malformed_requests_get_clean_errors() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let url = format!("{}/graphql", app.address);

    // Not JSON at all.
    let r = app
        .client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_REQUEST");

    // Syntax error: 200 with errors for application/json, 400 for graphql-response+json.
    let body = app.gql(Some(&token), "{ items { ", json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_PARSE_FAILED");
    let r = app
        .client
        .post(&url)
        .bearer_auth(&token)
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": "{ nope }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.headers()["content-type"],
        "application/graphql-response+json"
    );

    // Too deep.
    let deep = format!(
        "{{ items {{ edges {{ node {{ category {}{} }} }} }} }}",
        "{ parent ".repeat(12),
        "{ id }".to_owned() + &" }".repeat(12)
    );
    let body = app.gql(Some(&token), &deep, json!({})).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("nested too deep"),
        "{body}"
    );

    // Oversized body.
    let huge = "x".repeat(21 * 1024 * 1024);
    let r = app
        .client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!("{{\"query\":\"{huge}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}

#[tokio::test]
async fn get_queries_work_and_get_mutations_are_refused() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let r = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[("query", "{ me { email } }")])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"]["me"]["email"], ADMIN_EMAIL);

    let r = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[(
            "query",
            "mutation { login(email:\"a\", password:\"b\") { token } }",
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);

    // Without a query, GET serves GraphiQL.
    let r = app
        .client
        .get(format!("{}/graphql", app.address))
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().to_lowercase().contains("graphiql"));
}

#[tokio::test]
async fn health_readiness_metrics_and_ui() {
    let app = TestApp::spawn().await;
    let get = |path: &str| app.client.get(format!("{}{path}", app.address)).send();
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    let ready: Value = get("/readyz").await.unwrap().json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    let ui = get("/").await.unwrap();
    assert_eq!(ui.status(), 200);
    assert!(ui.text().await.unwrap().contains("pricebook-sync"));
    let r = get("/x").await.unwrap();
    assert!(r.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let app = TestApp::spawn().await;
    // The app already migrated on start; running again applies nothing and keeps data.
    pricebook_sync::store::db::migrate(&app.state.db)
        .await
        .unwrap();
    pricebook_sync::store::db::check_ready(&app.state.db)
        .await
        .unwrap();
    let token = app.admin_token().await;
    let me = app.gql_ok(&token, "{ me { email } }", json!({})).await;
    assert_eq!(me["me"]["email"], ADMIN_EMAIL);
}
