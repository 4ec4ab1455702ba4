//! The admin UI in a real headless Chromium, driven by `tests/ui/run.mjs` (playwright-core,
//! with axe-core checking accessibility on every scenario) against this real server and the
//! ServiceTitan emulator, each issue-17 scenario at 1280 and 375 px. Skipped only when
//! Chromium or the npm packages are missing and PRICEBOOK_REQUIRE_BROWSER is unset.

use crate::helpers::*;
use entity::enums::Role;
use pricebook_sync::sandbox::servicetitan::SeedSpec;
use serde_json::json;
use std::path::{Path, PathBuf};
use tokio::io::AsyncBufReadExt;

fn chromium() -> Option<PathBuf> {
    let candidates = [
        std::env::var("CHROMIUM_PATH").ok(),
        Some("/usr/bin/chromium".into()),
        Some("/usr/bin/chromium-browser".into()),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

#[tokio::test]
async fn admin_ui_in_a_real_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ui_tests = root.join("tests/ui");
    let ready = chromium().is_some()
        && ui_tests.join("node_modules/playwright-core").exists()
        && ui_tests.join("node_modules/axe-core").exists();
    if !ready {
        skip(
            "browser::admin_ui_in_a_real_browser",
            "no Chromium or tests/ui/node_modules (run `npm ci` in tests/ui)",
            "PRICEBOOK_REQUIRE_BROWSER",
        );
        return;
    }
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.emulator().seed(&SeedSpec {
        materials: 400,
        equipment: 40,
        services: 60,
        seed: 42,
    });
    // Like `demo`: the connection's first full sync has run before anyone signs in.
    let d = app.gql_ok(&token, r#"mutation{ createConnection(input:{ name:"demo", provider: SERVICETITAN, config:{ sandbox: true } }) { id } }"#, json!({})).await;
    let runs = app
        .gql_ok(
            &token,
            "query($c:ID){ syncRuns(connectionId:$c) { edges { node { id } } } }",
            json!({ "c": d["createConnection"]["id"] }),
        )
        .await;
    let first = app
        .wait_for_run(
            &token,
            runs["syncRuns"]["edges"][0]["node"]["id"].as_str().unwrap(),
        )
        .await;
    assert_eq!(first["status"], "SUCCEEDED");
    app.user_token("default", "viewer@a.test", Role::Viewer)
        .await;

    let screenshots = root.join("target/ui-screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    let output = tokio::process::Command::new("node")
        .arg(ui_tests.join("run.mjs"))
        .env("BASE_URL", &app.address)
        .env("ADMIN_EMAIL", ADMIN_EMAIL)
        .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("VIEWER_EMAIL", "viewer@a.test")
        .env("VIEWER_PASSWORD", "user-password-1")
        .env("CONNECTION_NAME", "demo")
        .env("SCREENSHOT_DIR", &screenshots)
        .env("CHROMIUM_PATH", chromium().unwrap())
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "browser scenarios failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("ok")),
        "no scenario ran:\n{stdout}"
    );
}

/// With every GraphQL execution slot held, the sign-in page's requests are refused `503
/// RATE_LIMITED`; the page waits the `Retry-After` and retries, and signs in once a slot
/// frees, showing no error (`tests/ui/busy.mjs`).
#[tokio::test]
async fn admin_ui_retries_when_the_server_is_busy() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ui_tests = root.join("tests/ui");
    if chromium().is_none() || !ui_tests.join("node_modules/playwright-core").exists() {
        skip(
            "browser::admin_ui_retries_when_the_server_is_busy",
            "no Chromium or tests/ui/node_modules (run `npm ci` in tests/ui)",
            "PRICEBOOK_REQUIRE_BROWSER",
        );
        return;
    }
    let app = TestApp::spawn_with(|s| {
        s.graphql_concurrency = 1;
        s.graphql_queue = 0;
    })
    .await;
    let slot = app.state.admission.enter().await.expect("a free slot");
    let mut script = tokio::process::Command::new("node")
        .arg(ui_tests.join("busy.mjs"))
        .env("BASE_URL", &app.address)
        .env("ADMIN_EMAIL", ADMIN_EMAIL)
        .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("CHROMIUM_PATH", chromium().unwrap())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut lines = tokio::io::BufReader::new(script.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    // The slot stays held until the page has been refused, then a little longer so the
    // page has to wait and retry at least once more.
    let first = tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line())
        .await
        .expect("the page made a request within 60 s")
        .unwrap();
    printed.extend(first.clone());
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    drop(slot);
    while let Some(line) = lines.next_line().await.unwrap() {
        printed.push(line);
    }
    let output = script.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = printed.join("\n");
    println!("{stdout}");
    assert_eq!(first.as_deref(), Some("refused"), "{stdout}\n{stderr}");
    assert!(
        output.status.success() && printed.iter().any(|l| l.starts_with("ok")),
        "the page did not ride out a busy server:\n{stdout}\n{stderr}"
    );
}
