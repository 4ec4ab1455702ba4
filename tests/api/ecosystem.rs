//! The server as stock HTTP clients and browsers on other origins see it: CORS, routing
//! of unknown paths, error shapes.

use crate::helpers::*;
use serde_json::{Value, json};

const RETOOL: &str = "https://acme.retool.com";

async fn preflight(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, format!("{}{path}", app.address))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let app = TestApp::spawn_with(|s| s.cors_origins = vec![RETOOL.into()]).await;
    for path in ["/graphql", "/graphql/ws", "/api/sync/runs/1/events"] {
        let r = preflight(&app, path, RETOOL).await;
        assert!(r.status().is_success(), "{path}: {}", r.status());
        let h = r.headers();
        assert_eq!(h["access-control-allow-origin"], RETOOL, "{path}");
        let methods = h["access-control-allow-methods"].to_str().unwrap();
        assert!(
            methods.contains("POST") && methods.contains("GET"),
            "{methods}"
        );
        let headers = h["access-control-allow-headers"].to_str().unwrap();
        assert!(headers.contains("authorization"), "{headers}");
        assert!(h.contains_key("access-control-max-age"));
    }
    // Another origin gets no permission.
    let r = preflight(&app, "/graphql", "https://evil.example").await;
    assert!(!r.headers().contains_key("access-control-allow-origin"));

    // The actual request carries the header too.
    let token = app.admin_token().await;
    let r = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("origin", RETOOL)
        .bearer_auth(&token)
        .json(&json!({ "query": "{ me { email } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], RETOOL);
}

#[tokio::test]
async fn without_cors_origins_no_origin_is_allowed() {
    let app = TestApp::spawn().await;
    let r = preflight(&app, "/graphql", RETOOL).await;
    assert!(!r.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn unknown_paths_are_json_404s_and_the_ui_is_only_at_its_paths() {
    let app = TestApp::spawn().await;
    let url = |p: &str| format!("{}{p}", app.address);
    for (method, path) in [
        (reqwest::Method::POST, "/api/sync"),
        (reqwest::Method::GET, "/health"),
        (reqwest::Method::GET, "/api/sync/runs/5/events/x"),
        (reqwest::Method::GET, "/items"),
        (reqwest::Method::POST, "/"),
        (reqwest::Method::GET, "/nope.js"),
    ] {
        let r = app
            .client
            .request(method.clone(), url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{method} {path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{method} {path}"
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "NOT_FOUND", "{method} {path}");
    }
    for path in ["/", "/index.html", "/app.css", "/js/main.js"] {
        let r = app.client.get(url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn syntax_errors_are_parse_failures_with_a_clean_message() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let body = app.gql(Some(&token), "{ items { ", json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_PARSE_FAILED", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("Syntax Error: "), "{message}");
    assert!(
        !message.contains('\n') && !message.contains("-->"),
        "{message}"
    );
    assert_eq!(body["errors"][0]["locations"][0]["line"], 1, "{body}");
    assert!(body.get("data").is_none(), "{body}");

    // A valid document naming an unknown field is a validation failure instead.
    let body = app.gql(Some(&token), "{ nope }", json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");

    // Spec status codes under the GraphQL response media type.
    let r = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": "{" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn a_post_without_content_type_is_refused() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .post(format!("{}/graphql", app.address))
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_REQUEST");
}

#[tokio::test]
async fn an_error_in_a_non_null_root_field_nulls_data() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let body = app
        .gql(
            Some(&token),
            r#"{ me { email } item(id: "999999") { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["item"]), "{body}");
    assert!(body["data"].is_null(), "{body}");
    assert!(body.as_object().unwrap().contains_key("data"), "{body}");
}

#[tokio::test]
async fn an_execution_error_alone_keeps_a_null_data_and_status_200() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let r = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&token)
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": r#"{ item(id: "999999") { id } }"# }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    assert!(body.as_object().unwrap().contains_key("data"), "{body}");
    assert!(body["data"].is_null(), "{body}");
}

#[tokio::test]
async fn every_metric_has_help_and_process_metrics_are_exported() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.gql_ok(&token, "{ items(first: 1) { totalCount } }", json!({}))
        .await;
    let text = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let families: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for name in [
        "http_requests_total",
        "http_request_duration_seconds",
        "db_queries_total",
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "process_start_time_seconds",
    ] {
        assert!(families.contains(&name), "no {name} in\n{text}");
    }
    for name in families {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("# HELP {name} "))),
            "no # HELP for {name}"
        );
    }
}

#[tokio::test]
async fn event_source_follows_a_run_with_a_ticket_and_stops_after_finished() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let conn = app.sandbox_connection(&token, "sse", json!({})).await;
    let run = app
        .run_sync(conn, entity::enums::RunMode::Full, json!({}), false)
        .await;
    let d = app
        .gql_ok(
            &token,
            "mutation($r:ID!){ createRunEventsTicket(runId:$r) { ticket url expiresAt } }",
            json!({ "r": run.id.to_string() }),
        )
        .await;
    let url = d["createRunEventsTicket"]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        url.starts_with(&format!(
            "{}/api/sync/runs/{}/events?ticket=",
            app.address, run.id
        )),
        "{url}"
    );
    // No Authorization header: the ticket is the credential.
    let r = app.client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let body = r.text().await.unwrap();
    assert!(body.contains("retry: 3000"), "{body}");
    assert!(body.contains("event: finished"), "{body}");
    let last_id = body
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .next_back()
        .unwrap()
        .to_owned();
    // What EventSource does when the stream ends: reconnect with Last-Event-ID. 204 stops it.
    let r = app
        .client
        .get(&url)
        .header("last-event-id", &last_id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    // The ticket opens that run only, and is no session token.
    let other = app
        .client
        .get(url.replace(
            &format!("/runs/{}/", run.id),
            &format!("/runs/{}/", run.id + 1),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 403);
    let ticket = d["createRunEventsTicket"]["ticket"].as_str().unwrap();
    let r = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(ticket)
        .json(&json!({ "query": "{ me { email } }" }))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let r = app
        .client
        .get(format!(
            "{}/api/sync/runs/{}/events?ticket=forged",
            app.address, run.id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_post_of_another_media_type_is_refused() {
    let app = TestApp::spawn().await;
    for content_type in [
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
    ] {
        let r = app
            .client
            .post(format!("{}/graphql", app.address))
            .header("content-type", content_type)
            .body(r#"{"query":"{ __typename }"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 415, "{content_type}");
    }
}
