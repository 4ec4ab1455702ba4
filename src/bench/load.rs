//! The read load of `full_sync_under_read_load`, run in a child process
//! (`pricebook-sync bench-load`, hidden) so its CPU is not the server's: `clients`
//! closed-loop GraphQL readers of an items page and `subscribers` WebSockets subscribed to
//! `syncEvents`. The child prints `ready N` once the subscribers are connected, reads until
//! its stdin closes, then prints one JSON line of [`LoadReport`].

use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// The bearer token reaches the child through this variable, not its command line.
pub const TOKEN_ENV: &str = "PRICEBOOK_BENCH_TOKEN";

/// What the child measured.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct LoadReport {
    /// Answered page requests.
    pub reads: u64,
    pub read_p50_ms: f64,
    pub read_p99_ms: f64,
    /// Requests that failed other than by admission control.
    pub errors: u64,
    /// `503` answers of admission control (the reader waits its `Retry-After`).
    pub refused_503: u64,
    pub subscribers_connected: u64,
    pub seconds: f64,
}

/// Longest a reader honours a `Retry-After`, so a stop is never delayed long.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// The child: `bench-load --url … --clients … --subscribers …`.
pub async fn child(
    url: String,
    query: String,
    clients: usize,
    subscribers: usize,
) -> anyhow::Result<()> {
    let token = std::env::var(TOKEN_ENV).map_err(|_| anyhow::anyhow!("{TOKEN_ENV} is not set"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let connected = Arc::new(AtomicU64::new(0));
    let ws_url = format!("{}/graphql/ws", url.replacen("http", "ws", 1));
    let sockets: Vec<_> = (0..subscribers)
        .map(|_| {
            let (ws_url, token, stop, connected) = (
                ws_url.clone(),
                token.clone(),
                stop.clone(),
                connected.clone(),
            );
            tokio::spawn(async move { subscribe(ws_url, token, stop, connected).await })
        })
        .collect();
    // Wait (bounded) for the subscribers to be connected before reporting ready.
    let deadline = Instant::now() + Duration::from_secs(60);
    while (connected.load(Ordering::Relaxed) as usize) < subscribers && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let started = Instant::now();
    let readers = readers(&url, &token, &query, clients, stop.clone())?;
    let mut out = tokio::io::stdout();
    out.write_all(format!("ready {}\n", connected.load(Ordering::Relaxed)).as_bytes())
        .await?;
    out.flush().await?;
    // Until the parent closes our stdin (or says anything).
    let mut line = String::new();
    let _ = BufReader::new(tokio::io::stdin())
        .read_line(&mut line)
        .await;
    stop.store(true, Ordering::Relaxed);
    let seconds = started.elapsed().as_secs_f64();
    let mut hist = Histogram::<u64>::new(3)?;
    let (mut errors, mut refused) = (0, 0);
    for r in readers {
        let (h, e, f) = r.await?;
        hist.add(h)?;
        errors += e;
        refused += f;
    }
    for s in sockets {
        s.abort();
    }
    let report = LoadReport {
        reads: hist.len(),
        read_p50_ms: super::scenarios::ms(&hist, 0.5),
        read_p99_ms: super::scenarios::ms(&hist, 0.99),
        errors,
        refused_503: refused,
        subscribers_connected: connected.load(Ordering::Relaxed),
        seconds,
    };
    out.write_all(format!("{}\n", serde_json::to_string(&report)?).as_bytes())
        .await?;
    out.flush().await?;
    Ok(())
}

type ReaderResult = (Histogram<u64>, u64, u64);

fn readers(
    url: &str,
    token: &str,
    query: &str,
    clients: usize,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<ReaderResult>>> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let url = format!("{url}/graphql");
    let body = json!({ "query": query }).to_string();
    Ok((0..clients)
        .map(|_| {
            let (client, url, body, token, stop) = (
                client.clone(),
                url.clone(),
                body.clone(),
                token.to_owned(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let mut hist = Histogram::<u64>::new(3).expect("valid histogram");
                let (mut errors, mut refused) = (0u64, 0u64);
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let sent = client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await;
                    let Ok(response) = sent else {
                        errors += 1;
                        continue;
                    };
                    if response.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE {
                        refused += 1;
                        let wait = response
                            .headers()
                            .get(reqwest::header::RETRY_AFTER)
                            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                            .map(Duration::from_secs)
                            .unwrap_or(MAX_BACKOFF)
                            .min(MAX_BACKOFF);
                        let _ = response.bytes().await;
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    let ok = response.status().is_success();
                    match response.bytes().await {
                        Ok(b)
                            if ok
                                && b.starts_with(b"{\"data\"")
                                && !contains(&b, b"\"errors\":") =>
                        {
                            let _ = hist.record(t.elapsed().as_micros() as u64);
                        }
                        _ => errors += 1,
                    }
                }
                (hist, errors, refused)
            })
        })
        .collect())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// One `syncEvents` subscriber, held open (reading what arrives) until `stop`.
async fn subscribe(
    ws_url: String,
    token: String,
    stop: Arc<AtomicBool>,
    connected: Arc<AtomicU64>,
) -> Option<()> {
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
    let mut req = ws_url.into_client_request().ok()?;
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().ok()?,
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.ok()?;
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    ws.send(Message::text(init.to_string())).await.ok()?;
    ws.next().await?.ok()?;
    let sub = json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { syncEvents { id status progress } }" } });
    ws.send(Message::text(sub.to_string())).await.ok()?;
    connected.fetch_add(1, Ordering::Relaxed);
    while !stop.load(Ordering::Relaxed) {
        match tokio::time::timeout(Duration::from_millis(500), ws.next()).await {
            Ok(Some(Ok(Message::Ping(p)))) => {
                let _ = ws.send(Message::Pong(p)).await;
            }
            Ok(Some(Ok(_))) | Err(_) => {}
            Ok(_) => break,
        }
    }
    Some(())
}

/// The parent's side: the child process, started and reporting `ready`.
pub struct LoadChild {
    child: tokio::process::Child,
    stdout: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    pub subscribers_connected: u64,
}

impl LoadChild {
    pub async fn start(
        url: &str,
        token: &str,
        query: &str,
        clients: usize,
        subscribers: usize,
    ) -> anyhow::Result<Self> {
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .arg("bench-load")
            .arg("--url")
            .arg(url)
            .arg("--query")
            .arg(query)
            .arg("--clients")
            .arg(clients.to_string())
            .arg("--subscribers")
            .arg(subscribers.to_string())
            .env(TOKEN_ENV, token)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout of bench-load"))?;
        let mut stdout = BufReader::new(stdout).lines();
        let ready = stdout
            .next_line()
            .await?
            .ok_or_else(|| anyhow::anyhow!("bench-load ended before it was ready"))?;
        let subscribers_connected = ready
            .strip_prefix("ready ")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("bench-load said '{ready}'"))?;
        Ok(LoadChild {
            child,
            stdout,
            subscribers_connected,
        })
    }

    /// Stops the load (closes the child's stdin) and reads its report.
    pub async fn finish(mut self) -> anyhow::Result<LoadReport> {
        drop(self.child.stdin.take());
        let line = self
            .stdout
            .next_line()
            .await?
            .ok_or_else(|| anyhow::anyhow!("bench-load ended without a report"))?;
        let report = serde_json::from_str(&line)?;
        self.child.wait().await?;
        Ok(report)
    }
}
