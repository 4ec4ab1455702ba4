//! `bench --compare postgraphile`: the items page of `graphql_items_first_100` served by
//! PostGraphile 4 (`npx postgraphile`) over the same PostgreSQL database, under the same
//! load, so the two figures form a ratio measured in one run. Optional: where `npx` or
//! the package cannot be had, the scenario says so and carries on.

use std::time::{Duration, Instant};

/// What to compare the server with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Compare {
    /// PostGraphile 4 via `npx --yes postgraphile@4` (needs Node.js and the npm registry).
    Postgraphile,
}

/// The same page in PostGraphile's names: its relations come from the foreign keys.
pub const POSTGRAPHILE_ITEMS_PAGE: &str = "{ allItems(first: 100, orderBy: ID_ASC) { nodes { id code name cost price categoryByCategoryId { id name } itemLinksByItemId { nodes { remoteId syncStatus lastSyncedAt } } } pageInfo { hasNextPage endCursor } } }";

/// A PostGraphile process serving `database_url`, stopped when dropped.
pub struct PostGraphile {
    _process: tokio::process::Child,
    pub graphql_url: String,
}

impl PostGraphile {
    /// Starts it and waits (up to 3 minutes: the first `npx` downloads the package).
    pub async fn start(database_url: &str) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let process = tokio::process::Command::new("npx")
            .args(["--yes", "postgraphile@4", "--connection", database_url])
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "--schema",
                "public",
                "--disable-graphiql",
                "--disable-query-log",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| anyhow::anyhow!("npx is not available: {e}"))?;
        let graphql_url = format!("http://127.0.0.1:{port}/graphql");
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let answer = client
                .post(&graphql_url)
                .json(&serde_json::json!({ "query": "{ __typename }" }))
                .send()
                .await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                return Ok(PostGraphile {
                    _process: process,
                    graphql_url,
                });
            }
            if Instant::now() > deadline {
                anyhow::bail!("postgraphile did not answer within 3 minutes");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
