//! The server driven by the ecosystem's stock clients (`tests/ui/conformance.mjs`):
//! graphql-js introspection, the graphql-http audit, the graphql-ws client, a browser's
//! EventSource, CORS from a real browser, GraphiQL offline, a Prometheus parser. Runs on
//! whichever database the suite runs on. Skipped (with a printed line) only when node or
//! `tests/ui/node_modules` is missing and PRICEBOOK_REQUIRE_BROWSER is unset.

use crate::helpers::*;
use std::path::Path;

#[tokio::test]
async fn stock_clients_work_against_the_server() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ui_tests = root.join("tests/ui");
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node || !ui_tests.join("node_modules/graphql-ws").exists() {
        skip(
            "conformance::stock_clients_work_against_the_server",
            "no node or tests/ui/node_modules (run `npm ci` in tests/ui)",
            "PRICEBOOK_REQUIRE_BROWSER",
        );
        return;
    }
    // A port for the "other site" the browser check serves its page from.
    let origin_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = TestApp::spawn_with(|s| {
        s.cors_origins = vec![format!("http://127.0.0.1:{origin_port}")];
        s.ws_init_timeout_seconds = 2;
        s.ws_keepalive_seconds = 1;
    })
    .await;
    let token = app.admin_token().await;
    let conn = app
        .sandbox_connection(&token, "conformance", serde_json::json!({}))
        .await;
    let run = app
        .run_sync(
            conn,
            entity::enums::RunMode::Full,
            serde_json::json!({}),
            false,
        )
        .await;
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(ui_tests.join("conformance.mjs"))
        .env("BASE_URL", &app.address)
        .env("TOKEN", &token)
        .env("RUN_ID", run.id.to_string())
        .env("CORS_ORIGIN_PORT", origin_port.to_string())
        .env("INIT_TIMEOUT_S", "2")
        .env("KEEPALIVE_S", "1");
    if let Ok(path) = std::env::var("CHROMIUM_PATH") {
        cmd.env("CHROMIUM_PATH", path);
    }
    let output = cmd.output().await.expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "stock clients failed:\n{stdout}\n{stderr}"
    );
    let skipped: Vec<&str> = stdout.lines().filter(|l| l.starts_with("skip")).collect();
    if !skipped.is_empty() {
        skip(
            "conformance (browser checks)",
            &skipped.join("; "),
            "PRICEBOOK_REQUIRE_BROWSER",
        );
    }
}
