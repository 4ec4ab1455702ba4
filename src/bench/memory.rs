//! `read_load_memory`: the resident memory of a real `serve` process (its own process, so
//! the emulator and the load generator are not counted) before, under and after the read
//! load of `full_sync_under_read_load`, over a database of 52k items.

use super::load::{LoadChild, LoadReport};
use std::path::Path;
use std::time::{Duration, Instant};

/// What one server process did with its memory.
pub struct MemoryFigures {
    pub before: Rss,
    pub peak_mb: f64,
    /// The largest anonymous and file-backed parts seen (sampled every 100 ms).
    pub peak: Rss,
    pub idle_after: Rss,
    pub report: LoadReport,
}

/// Resident memory in MB: in all, and its anonymous (heap) and file-backed (mapped
/// database, binary) parts.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Rss {
    pub total_mb: f64,
    pub anon_mb: f64,
    pub file_mb: f64,
}

impl Rss {
    fn read(pid: u32) -> anyhow::Result<Rss> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        Ok(Rss {
            total_mb: mb(&status, "VmRSS:")?,
            anon_mb: mb(&status, "RssAnon:")?,
            file_mb: mb(&status, "RssFile:")? + mb(&status, "RssShmem:")?,
        })
    }

    fn max(self, other: Rss) -> Rss {
        Rss {
            total_mb: self.total_mb.max(other.total_mb),
            anon_mb: self.anon_mb.max(other.anon_mb),
            file_mb: self.file_mb.max(other.file_mb),
        }
    }
}

/// A `serve` child over `data_dir` (and `database_url`, for PostgreSQL), read by
/// `clients` readers and `subscribers` subscribers for `duration`, then left idle for
/// `idle` before its memory is read again.
pub async fn measure(
    data_dir: &Path,
    database_url: Option<&str>,
    (email, password): (&str, &str),
    query: &str,
    (clients, subscribers): (usize, usize),
    duration: Duration,
    idle: Duration,
) -> anyhow::Result<MemoryFigures> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut cmd = tokio::process::Command::new(std::env::current_exe()?);
    cmd.arg("serve")
        .arg("--bind")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--scheduler")
        .arg("false")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true);
    if let Some(url) = database_url {
        cmd.arg("--database-url").arg(url);
    }
    let mut server = cmd.spawn()?;
    let pid = server
        .id()
        .ok_or_else(|| anyhow::anyhow!("the server exited at once"))?;
    let url = format!("http://127.0.0.1:{port}");
    wait_until_up(&url).await?;
    let token = login(&url, email, password).await?;
    // Settled: the pools have connected and the first requests are behind it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = Rss::read(pid)?;
    let load = LoadChild::start(&url, &token, query, clients, subscribers).await?;
    let mut peak = before;
    let until = Instant::now() + duration;
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
        peak = peak.max(Rss::read(pid)?);
    }
    let report = load.finish().await?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let peak_mb = mb(&status, "VmHWM:")?;
    tokio::time::sleep(idle).await;
    let idle_after = Rss::read(pid)?;
    server.kill().await?;
    Ok(MemoryFigures {
        before,
        peak_mb,
        peak,
        idle_after,
        report,
    })
}

async fn wait_until_up(url: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = reqwest::get(format!("{url}/readyz")).await
            && r.status().is_success()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            anyhow::bail!("the server at {url} was not ready within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Signs in at the server at `url`; its bearer token.
pub(super) async fn login(url: &str, email: &str, password: &str) -> anyhow::Result<String> {
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("{url}/graphql"))
        .json(&serde_json::json!({
            "query": "mutation($e:String!,$p:String!){ login(email:$e,password:$p){ token } }",
            "variables": { "e": email, "p": password },
        }))
        .send()
        .await?
        .json()
        .await?;
    body["data"]["login"]["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("login failed: {body}"))
}

/// A memory line of a `/proc/…/status` (`VmRSS:` now, `VmHWM:` the peak), in MB.
pub(super) fn mb(status: &str, line: &str) -> anyhow::Result<f64> {
    status
        .lines()
        .find(|l| l.starts_with(line))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map(|kb| (kb / 1024.0 * 10.0).round() / 10.0)
        .ok_or_else(|| anyhow::anyhow!("no {line} in the process status"))
}
