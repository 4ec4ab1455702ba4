//! The admin UI in a real headless Chromium, driven by `tests/ui/run.mjs` (playwright-core,
//! with axe-core checking accessibility on every scenario) against this real server and the
//! ServiceTitan emulator, each issue-17 scenario at 1280 and 375 px. Skipped only when
//! Chromium or the npm packages are missing and PRICEBOOK_REQUIRE_BROWSER is unset.

use crate::helpers::*;
use entity::enums::Role;
use pricebook_sync::sandbox::servicetitan::SeedSpec;
use serde_json::json;
use std::path::{Path, PathBuf};

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
