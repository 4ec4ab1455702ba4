//! A vendor price feed run: download the feed's file with a conditional GET (ETag /
//! Last-Modified), then apply it as a vendor-price CSV import — the same entry point as
//! `uploadCsv`, with its per-line errors — and record how the check ended on the feed.
//!
//! An unchanged file (HTTP 304, or a `file://` whose size and modification time match)
//! writes no price and no import run; the feed run alone records that it looked.

use super::csv::import::{self, ImportRequest, MAX_FILE_BYTES};
use super::csv::parse::{Mapping, Target};
use super::engine::Outcome;
use super::progress::{Counters, Reporter};
use crate::auth::secrets::SecretBox;
use crate::error::{AppError, AppResult};
use crate::store::vendor_feeds::{self, Checked, FeedSecret};
use crate::store::{self, Db};
use entity::enums::RunStatus;
use entity::{sync_run, vendor_feed};
use reqwest::Url;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Default schedule: daily at 03:00 in the connection's time zone.
pub const DEFAULT_SCHEDULE: &str = "0 3 * * *";
const TIMEOUT: Duration = Duration::from_secs(120);
const MAX_REDIRECTS: usize = 5;

/// Checks a feed URL: HTTPS, or — when the server allows it (tests, local setups) — plain
/// HTTP and `file://`.
pub fn check_url(text: &str, allow_insecure: bool) -> AppResult<Url> {
    let url = Url::parse(text.trim())
        .map_err(|_| AppError::bad_input("url: not a valid absolute URL"))?;
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" | "file" if allow_insecure => Ok(url),
        "http" | "file" => Err(AppError::bad_input(format!(
            "url: {}:// feeds are off on this server (HTTPS only; see PRICEBOOK_INSECURE_FEED_URLS)",
            url.scheme()
        ))),
        other => Err(AppError::bad_input(format!(
            "url: unsupported scheme '{other}' (use https://)"
        ))),
    }
}

/// The URL as users see it: no user info, query values masked (they often hold tokens).
pub fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_fragment(None);
    let masked: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, _)| (k.into_owned(), "***".to_owned()))
        .collect();
    if masked.is_empty() {
        shown.set_query(None);
    } else {
        shown.query_pairs_mut().clear().extend_pairs(masked);
    }
    shown.to_string()
}

/// Request headers from the API: names must be valid header names, values printable.
pub fn check_headers(
    headers: Option<&serde_json::Value>,
) -> AppResult<std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    let Some(v) = headers.filter(|v| !v.is_null()) else {
        return Ok(out);
    };
    let obj = v.as_object().ok_or_else(|| {
        AppError::bad_input(r#"headers must be an object like {"Authorization": "Bearer …"}"#)
    })?;
    for (k, v) in obj {
        let value = v
            .as_str()
            .ok_or_else(|| AppError::bad_input(format!("headers.{k} must be a string")))?;
        reqwest::header::HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| AppError::bad_input(format!("headers: '{k}' is not a header name")))?;
        reqwest::header::HeaderValue::from_str(value)
            .map_err(|_| AppError::bad_input(format!("headers.{k}: not a valid header value")))?;
        out.insert(k.clone(), value.to_owned());
    }
    Ok(out)
}

/// The import mapping of a feed: its columns, with the feed's vendor for every row.
pub fn import_mapping(mapping: &serde_json::Value, vendor: &str) -> AppResult<serde_json::Value> {
    let mut m = match mapping {
        serde_json::Value::Null => serde_json::Map::new(),
        serde_json::Value::Object(o) => o.clone(),
        _ => return Err(AppError::bad_input("mapping must be a JSON object")),
    };
    if m.keys().any(|k| k == "vendorName" || k == "vendor") {
        return Err(AppError::bad_input(
            "mapping: the feed's vendor names the vendor; leave vendor and vendorName out",
        ));
    }
    m.insert("vendorName".into(), vendor.into());
    let value = serde_json::Value::Object(m);
    Mapping::from_json(Some(&value))?;
    Ok(value)
}

/// What a download found.
#[derive(Debug, PartialEq)]
pub enum Download {
    NotModified,
    Body {
        bytes: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// Downloads the feed unless it is unchanged since `etag` / `last_modified`.
pub async fn download(
    secret: &FeedSecret,
    etag: Option<&str>,
    last_modified: Option<&str>,
    cancel: &CancellationToken,
) -> AppResult<Download> {
    let url = Url::parse(&secret.url).map_err(|_| AppError::bad_input("url: not valid"))?;
    let shown = display_url(&url);
    if url.scheme() == "file" {
        return read_file(&url, &shown, etag).await;
    }
    let original_scheme = url.scheme().to_owned();
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if original_scheme == "https" && attempt.url().scheme() != "https" {
                attempt.error("redirect away from HTTPS")
            } else {
                attempt.follow()
            }
        }))
        .build()
        .map_err(AppError::internal)?;
    let mut req = client.get(url);
    for (k, v) in &secret.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    if let Some(e) = etag {
        req = req.header(reqwest::header::IF_NONE_MATCH, e);
    }
    if let Some(t) = last_modified {
        req = req.header(reqwest::header::IF_MODIFIED_SINCE, t);
    }
    // reqwest errors name the URL, which may carry credentials: never show them.
    let failed = |e: reqwest::Error| AppError::Upstream(format!("{shown}: {}", e.without_url()));
    let mut res = tokio::select! {
        r = req.send() => r.map_err(failed)?,
        _ = cancel.cancelled() => return Err(AppError::Cancelled("cancelled".into())),
    };
    if res.status() == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(Download::NotModified);
    }
    if !res.status().is_success() {
        return Err(AppError::Upstream(format!(
            "{shown} answered HTTP {}",
            res.status().as_u16()
        )));
    }
    let header = |name| {
        res.headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let (etag, last_modified) = (
        header(reqwest::header::ETAG),
        header(reqwest::header::LAST_MODIFIED),
    );
    if res
        .content_length()
        .is_some_and(|n| n as usize > MAX_FILE_BYTES)
    {
        return Err(too_large(&shown));
    }
    let mut bytes = Vec::new();
    loop {
        let chunk = tokio::select! {
            c = res.chunk() => c.map_err(failed)?,
            _ = cancel.cancelled() => return Err(AppError::Cancelled("cancelled".into())),
        };
        let Some(chunk) = chunk else { break };
        if bytes.len() + chunk.len() > MAX_FILE_BYTES {
            return Err(too_large(&shown));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Download::Body {
        bytes,
        etag,
        last_modified,
    })
}

fn too_large(shown: &str) -> AppError {
    AppError::bad_input(format!(
        "{shown}: the file is larger than {} MB",
        MAX_FILE_BYTES / 1024 / 1024
    ))
}

/// A local file: its size and modification time stand in for an ETag.
async fn read_file(url: &Url, shown: &str, etag: Option<&str>) -> AppResult<Download> {
    let path = url
        .to_file_path()
        .map_err(|_| AppError::bad_input(format!("{shown}: not a local file path")))?;
    let unreadable = |e: std::io::Error| AppError::Upstream(format!("{shown}: {e}"));
    let meta = tokio::fs::metadata(&path).await.map_err(unreadable)?;
    if meta.len() as usize > MAX_FILE_BYTES {
        return Err(too_large(shown));
    }
    let modified = meta
        .modified()
        .map(|t| chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339())
        .unwrap_or_default();
    let tag = format!("\"{}-{modified}\"", meta.len());
    if etag == Some(tag.as_str()) {
        return Ok(Download::NotModified);
    }
    let bytes = tokio::fs::read(&path).await.map_err(unreadable)?;
    Ok(Download::Body {
        bytes,
        etag: Some(tag),
        last_modified: Some(modified),
    })
}

/// What a feed run keeps in `sync_runs.params`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedParams {
    pub feed_id: i64,
}

type Failure = (AppError, Counters);

/// Executes a `vendor_feed` run (called by the run executor for that mode).
pub async fn run(
    db: &Db,
    secrets: &SecretBox,
    run: &sync_run::Model,
    reporter: &dyn Reporter,
    cancel: &CancellationToken,
) -> Result<Outcome, Failure> {
    let fail = |e: AppError| (e, Counters::default());
    let params: FeedParams = serde_json::from_value(run.params.clone())
        .map_err(|_| fail(AppError::bad_input("vendor feed run without a feedId")))?;
    let feed = vendor_feeds::get(db, run.account_id, params.feed_id)
        .await
        .map_err(fail)?;
    let result = check(db, secrets, run, &feed, reporter, cancel).await;
    let (status, error, validators) = match &result {
        Ok((_, Some(v))) => ("applied", None, Some(v.clone())),
        Ok((_, None)) => ("not_modified", None, None),
        Err((e, _)) => ("failed", Some(e.public_message()), None),
    };
    let checked = Checked {
        run_id: run.id,
        status,
        error,
        validators,
    };
    if let Err(e) = vendor_feeds::record_check(db, feed.id, checked).await {
        tracing::warn!(
            feed_id = feed.id,
            "recording the feed check failed: {}",
            e.public_message()
        );
    }
    result.map(|(outcome, _)| outcome)
}

type Validators = (Option<String>, Option<String>);

/// Downloads and applies; the validators to store when something was applied.
async fn check(
    db: &Db,
    secrets: &SecretBox,
    run: &sync_run::Model,
    feed: &vendor_feed::Model,
    reporter: &dyn Reporter,
    cancel: &CancellationToken,
) -> Result<(Outcome, Option<Validators>), Failure> {
    let fail = |e: AppError| (e, Counters::default());
    let secret = vendor_feeds::open_secret(secrets, feed).map_err(fail)?;
    let none = Counters::default();
    reporter.progress(&format!("downloading {}", feed.url_display), 5, &none);
    let got = download(
        &secret,
        feed.etag.as_deref(),
        feed.last_modified.as_deref(),
        cancel,
    )
    .await
    .map_err(fail)?;
    let summary = |extra: serde_json::Value| {
        let mut s = serde_json::json!({ "feed": {
            "id": feed.id.to_string(), "vendor": feed.vendor, "url": feed.url_display,
        } });
        if let (Some(target), Some(extra)) = (s["feed"].as_object_mut(), extra.as_object()) {
            target.extend(extra.clone());
        }
        s
    };
    let (bytes, etag, last_modified) = match got {
        Download::NotModified => {
            return Ok((
                Outcome {
                    counters: none,
                    summary: summary(serde_json::json!({ "notModified": true })),
                },
                None,
            ));
        }
        Download::Body {
            bytes,
            etag,
            last_modified,
        } => (bytes, etag, last_modified),
    };
    if cancel.is_cancelled() {
        return Err(fail(AppError::Cancelled("cancelled".into())));
    }
    let size = bytes.len();
    reporter.progress(&format!("importing {size} bytes"), 50, &none);
    let request = ImportRequest {
        account_id: run.account_id,
        user_id: run.requested_by,
        actor: format!("vendor feed {}", feed.id),
        connection_id: Some(feed.connection_id),
        target: Target::VendorPrices,
        mapping: Some(import_mapping(&feed.mapping, &feed.vendor).map_err(fail)?),
        dry_run: false,
        trigger: run.trigger,
        push_status: RunStatus::Succeeded,
        file_name: Some(feed.url_display.clone()),
    };
    let report = import::import(db, bytes, request).await.map_err(fail)?;
    let import_run = report.run.as_ref();
    let counters = import_run.map(Counters::from).unwrap_or_default();
    reporter.progress("imported", 99, &counters);
    Ok((
        Outcome {
            counters,
            summary: summary(serde_json::json!({
                "notModified": false,
                "bytes": size,
                "importRunId": import_run.map(|r| r.id.to_string()),
                "rows": report.rows,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "skusNotFound": report.skus_not_found.len(),
                "errors": report.errors.len(),
            })),
        },
        Some((etag, last_modified)),
    ))
}

/// The feed run to queue for `feed`.
pub fn new_run(
    feed: &vendor_feed::Model,
    trigger: entity::enums::RunTrigger,
    requested_by: Option<i64>,
) -> store::runs::NewRun {
    store::runs::NewRun {
        account_id: feed.account_id,
        connection_id: feed.connection_id,
        mode: entity::enums::RunMode::VendorFeed,
        trigger,
        dry_run: false,
        params: serde_json::json!({ "feedId": feed.id }),
        requested_by,
        status: RunStatus::Queued,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_unless_insecure_urls_are_allowed() {
        assert!(check_url("https://vendor.test/prices.csv", false).is_ok());
        assert!(check_url("http://vendor.test/prices.csv", false).is_err());
        assert!(check_url("file:///srv/prices.csv", false).is_err());
        assert!(check_url("http://127.0.0.1:9/prices.csv", true).is_ok());
        assert!(check_url("file:///srv/prices.csv", true).is_ok());
        assert!(check_url("ftp://vendor.test/prices.csv", true).is_err());
        assert!(check_url("prices.csv", true).is_err());
    }

    #[test]
    fn shown_urls_hide_credentials_and_query_values() {
        let url = Url::parse("https://bob:s3cret@vendor.test/p.csv?token=abc&fmt=csv#x").unwrap();
        assert_eq!(
            display_url(&url),
            "https://vendor.test/p.csv?token=***&fmt=***"
        );
        let plain = Url::parse("https://vendor.test/p.csv").unwrap();
        assert_eq!(display_url(&plain), "https://vendor.test/p.csv");
    }

    #[test]
    fn the_feed_vendor_names_every_row() {
        let m = import_mapping(&serde_json::json!({ "sku": "Part" }), "CED").unwrap();
        assert_eq!(m, serde_json::json!({ "sku": "Part", "vendorName": "CED" }));
        assert!(import_mapping(&serde_json::json!({ "vendorName": "X" }), "CED").is_err());
        assert!(import_mapping(&serde_json::json!({ "nonsense": "X" }), "CED").is_err());
        assert!(import_mapping(&serde_json::json!([]), "CED").is_err());
    }

    #[test]
    fn headers_are_checked() {
        let ok = check_headers(Some(&serde_json::json!({ "Authorization": "Bearer t" }))).unwrap();
        assert_eq!(ok["Authorization"], "Bearer t");
        assert!(check_headers(Some(&serde_json::json!({ "bad name": "x" }))).is_err());
        assert!(check_headers(Some(&serde_json::json!({ "X": 1 }))).is_err());
        assert!(check_headers(None).unwrap().is_empty());
    }
}
