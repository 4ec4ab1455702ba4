//! Fault injection shared by every emulator: queued faults consumed one per API request.

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    TooManyRequests {
        retry_after: Option<u64>,
    },
    ServerError,
    Unauthorized,
    Malformed,
    Drop,
    Latency(u64),
    /// A 400 whose body echoes the request's headers, credentials included — as some
    /// gateways do. Tests that secrets never travel from an upstream answer onwards.
    EchoHeaders,
}

/// `POST /_control/faults` body: `{"kind": "429", "count": 3, "ms": 200, "retryAfter": 1}`,
/// or `{"kind": "invalid", "ids": [12]}` where writes are validated.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRequest {
    pub kind: String,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub ms: Option<u64>,
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Let this many requests through untouched first (to fail mid-listing).
    #[serde(default)]
    pub after: u32,
    /// For `invalid`: every write to these records is refused until faults are cleared.
    #[serde(default)]
    pub ids: Vec<i64>,
}

fn one() -> u32 {
    1
}

impl FaultRequest {
    pub fn parse(&self) -> Result<FaultKind, String> {
        Ok(match self.kind.as_str() {
            "429" => FaultKind::TooManyRequests {
                retry_after: self.retry_after,
            },
            "500" | "5xx" => FaultKind::ServerError,
            "401" | "403" => FaultKind::Unauthorized,
            "malformed" => FaultKind::Malformed,
            "drop" => FaultKind::Drop,
            "latency" => FaultKind::Latency(self.ms.unwrap_or(200)),
            "echo" => FaultKind::EchoHeaders,
            other => {
                return Err(format!(
                    "unknown fault kind '{other}' (429, 500, 401, malformed, drop, latency, echo)"
                ));
            }
        })
    }
}

#[derive(Default)]
pub struct Faults {
    queue: Mutex<VecDeque<(FaultKind, u32)>>,
    /// Writes still to refuse: counted apart, so reads in between do not use them up.
    refused_writes: AtomicU32,
    /// Records whose writes are refused until faults are cleared.
    refused_records: Mutex<HashSet<i64>>,
}

impl Faults {
    pub fn push(&self, kind: FaultKind, count: u32) -> usize {
        if let Ok(mut q) = self.queue.lock()
            && count > 0
        {
            q.push_back((kind, count));
        }
        self.queued()
    }

    /// Queues a request, including `invalid` (the next `count` writes are refused with a
    /// validation error, one record failing while the run goes on), which only emulators
    /// that validate writes accept.
    pub fn add_with_invalid_writes(&self, req: &FaultRequest) -> Result<usize, String> {
        if req.kind == "invalid" {
            if req.ids.is_empty() {
                self.refused_writes.fetch_add(req.count, Ordering::Relaxed);
            } else if let Ok(mut records) = self.refused_records.lock() {
                records.extend(&req.ids);
            }
            return Ok(self.queued());
        }
        Ok(self.push(req.parse()?, req.count))
    }

    fn queued(&self) -> usize {
        let queued = self
            .queue
            .lock()
            .map_or(0, |q| q.iter().map(|(_, n)| *n as usize).sum());
        let aimed = self.refused_records.lock().map_or(0, |r| r.len());
        queued + aimed + self.refused_writes.load(Ordering::Relaxed) as usize
    }

    pub fn clear(&self) {
        if let Ok(mut q) = self.queue.lock() {
            q.clear();
        }
        self.refused_writes.store(0, Ordering::Relaxed);
        if let Ok(mut r) = self.refused_records.lock() {
            r.clear();
        }
    }

    /// Whether this write to record `id` is to be refused (an aimed `invalid` fault, or
    /// one use of a counted one).
    pub fn refuse_write(&self, id: i64) -> bool {
        if self
            .refused_records
            .lock()
            .is_ok_and(|records| records.contains(&id))
        {
            return true;
        }
        self.refused_writes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// The fault for this request, if any is queued.
    pub fn next(&self) -> Option<FaultKind> {
        let mut q = self.queue.lock().ok()?;
        let (kind, left) = q.front_mut()?;
        let kind = *kind;
        *left -= 1;
        if *left == 0 {
            q.pop_front();
        }
        Some(kind)
    }
}

/// A 200 whose body dies after the headers: the client sees a dropped connection.
pub fn dropped() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other(
            "connection dropped by fault injection",
        ))
    });
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// A 400 echoing the request's headers, the credential-bearing ones first.
pub fn echo_headers(headers: &axum::http::HeaderMap) -> Response {
    let sensitive =
        |name: &str| name == "authorization" || name.contains("key") || name.contains("token");
    let mut lines: Vec<(bool, String)> = headers
        .iter()
        .map(|(k, v)| {
            let name = k.as_str();
            (
                !sensitive(name),
                format!("{name}: {}", String::from_utf8_lossy(v.as_bytes())),
            )
        })
        .collect();
    lines.sort();
    let echoed: Vec<String> = lines.into_iter().map(|(_, l)| l).collect();
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({
            "title": "Bad Request",
            "detail": format!("rejected request with headers {}", echoed.join("; ")),
        })
        .to_string(),
    )
        .into_response()
}

pub fn malformed() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        "{\"hasMore\": true, \"data\": [{\"id\": 1, \"code\": ",
    )
        .into_response()
}

pub fn too_many(retry_after: Option<u64>, body: String) -> Response {
    let mut r = (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    if let Some(s) = retry_after
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}
