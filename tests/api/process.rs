//! Starting the real binary as a separate process (crash and multi-instance tests).

use crate::helpers::*;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    /// The operating-system process id (to read its memory figures).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start(dir: &std::path::Path, database_url: Option<&str>, workers: usize) -> Server {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pricebook-sync"));
    cmd.arg("serve")
        .arg("--sandbox")
        .env("PRICEBOOK_BIND", format!("127.0.0.1:{port}"))
        .env("PRICEBOOK_DATA_DIR", dir)
        .env("PRICEBOOK_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("PRICEBOOK_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("PRICEBOOK_LEASE_SECONDS", "3")
        .env("PRICEBOOK_WORKERS", workers.to_string())
        .env(
            "PRICEBOOK_SANDBOX_SEED",
            r#"{"materials": 3000, "equipment": 0, "services": 0, "seed": 9}"#,
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(if std::env::var("TEST_SERVER_LOGS").is_ok() {
            Stdio::inherit()
        } else {
            Stdio::null()
        });
    match database_url {
        Some(url) => cmd.env("DATABASE_URL", url),
        None => cmd.env_remove("DATABASE_URL"),
    };
    Server {
        child: cmd.spawn().expect("start the binary"),
        base: format!("http://127.0.0.1:{port}"),
    }
}

pub async fn ready(client: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {base} did not become ready");
}

pub async fn gql(
    client: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut req = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let body: Value = req.send().await.unwrap().json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}
