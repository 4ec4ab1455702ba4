//! What a new user meets first: the command line's help and errors, the emulators alone,
//! and errors that name what failed.

use crate::helpers::*;
use clap::CommandFactory;
use pricebook_sync::cli::Cli;
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::Duration;

fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pricebook-sync"));
    for var in ["DATABASE_URL", "PRICEBOOK_BIND", "PRICEBOOK_DATA_DIR"] {
        cmd.env_remove(var);
    }
    cmd
}

#[test]
fn a_busy_port_names_the_address_and_writes_nothing() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = busy.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = binary()
        .args(["serve", "--bind", &address])
        .env("PRICEBOOK_DATA_DIR", &data)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&address), "{stderr}");
    assert!(stderr.contains("--bind"), "{stderr}");
    assert!(
        !data.exists(),
        "the data dir was created before the port was bound"
    );
}

#[test]
fn subcommand_help_lists_only_its_own_options_and_every_option_is_explained() {
    let cli = Cli::command();
    let options = |name: &str| -> Vec<String> {
        cli.find_subcommand(name)
            .unwrap_or_else(|| panic!("no subcommand {name}"))
            .get_arguments()
            .filter(|a| !a.is_hide_set())
            .map(|a| a.get_id().to_string())
            .collect()
    };
    for server_only in ["workers", "lease_seconds", "admin_password", "cors_origins"] {
        for cmd in ["export-schema", "sandbox", "sync", "import-csv", "migrate"] {
            assert!(
                !options(cmd).contains(&server_only.to_owned()),
                "`{cmd} --help` lists --{server_only}"
            );
        }
        assert!(options("serve").contains(&server_only.to_owned()));
    }
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            if arg
                .get_help()
                .is_none_or(|h| h.to_string().trim().is_empty())
            {
                missing.push(format!("{path} --{id}"));
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    let mut missing = Vec::new();
    walk(&cli, "pricebook-sync", &mut missing);
    assert!(missing.is_empty(), "options without help: {missing:?}");
}

#[tokio::test]
async fn the_sandbox_command_serves_every_emulator_with_health() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pricebook-sync"))
        .args([
            "sandbox",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--materials",
            "10",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut healthy = false;
    for _ in 0..100 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            healthy = r.status() == 200;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(healthy, "no /healthz");
    for provider in ["servicetitan", "jobber", "amazon", "fulfil", "shiphero"] {
        let r = client
            .get(format!("{base}/sandbox/{provider}/_control/stats"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{provider}");
    }
    child.kill().await.unwrap();
}

#[tokio::test]
async fn an_unreachable_token_endpoint_is_named_in_the_run_error() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let auth_url = format!("http://127.0.0.1:{closed}/connect/token");
    let conn = app
        .sandbox_connection(
            &token,
            "unreachable",
            json!({ "authUrl": auth_url, "maxRetries": 0 }),
        )
        .await;
    let run = app
        .run_sync(conn, entity::enums::RunMode::Full, json!({}), false)
        .await;
    let error = run.error.unwrap_or_default();
    assert!(error.contains(&auth_url), "{error}");
}

/// Starts `serve` with `format`, returns its first log line (written to a pipe; logs go to
/// stderr, so stdout stays free for what commands print for scripts).
async fn first_log_line(format: &str) -> String {
    use tokio::io::AsyncBufReadExt;
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pricebook-sync"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("PRICEBOOK_DATA_DIR", dir.path())
        .env("PRICEBOOK_LOG_FORMAT", format)
        .env("PRICEBOOK_ADMIN_PASSWORD", "admin-password-1")
        .env("RUST_LOG", "info")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("a log line within 30 s")
        .unwrap()
        .expect("a log line");
    child.kill().await.unwrap();
    line
}

#[tokio::test]
async fn logs_are_json_lines_on_request_and_never_coloured_in_a_pipe() {
    let json_line = first_log_line("json").await;
    let parsed: serde_json::Value =
        serde_json::from_str(&json_line).unwrap_or_else(|e| panic!("not JSON ({e}): {json_line}"));
    assert!(
        parsed["level"].is_string() && parsed["message"].is_string(),
        "{parsed}"
    );
    let text_line = first_log_line("text").await;
    assert!(
        !text_line.contains('\x1b'),
        "ANSI escapes in a pipe: {text_line:?}"
    );
    assert!(text_line.contains("INFO"), "{text_line}");
}
