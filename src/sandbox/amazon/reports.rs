//! The emulated Reports API 2021-06-30 and Fulfillment Inbound `getShipmentItems`.
//!
//! `createReport` snapshots the matching rows into a document at once; the report then
//! stays `IN_QUEUE` for `reportQueueMs` and `IN_PROGRESS` for `reportProcessingMs`, and
//! ends `DONE` (a document), `CANCELLED` (the window had no rows — Amazon's behaviour for
//! empty windows) or `FATAL` (fault `report-fatal`); fault `report-stuck` keeps one
//! `IN_QUEUE` for good. `getReportDocument` answers a pre-signed URL on this server
//! (`/_documents/{id}?expires=…&signature=…`, HMAC-signed, valid `documentUrlTtlMs`;
//! fault `expired-url` issues one already expired) and `compressionAlgorithm: GZIP` unless
//! `reportGzip` is off. An expired or forged URL answers 403 with S3's XML error body.

use super::Inner;
use super::recoveries;
use crate::connectors::amazon::report_rows;
use crate::connectors::amazon::wire::{
    CreateReportResponse, CreateReportSpecification, GetReportsResponse, GetShipmentItemsResponse,
    GetShipmentItemsResult, ProcessingStatus, Report, ReportDocument,
};
use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration as Span, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

type S = State<Arc<Inner>>;

/// How a report ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Done,
    NoData,
    Fatal,
    Stuck,
}

pub struct EmulatedReport {
    report: Report,
    created: Instant,
    fate: Fate,
    document_id: Option<String>,
}

pub struct EmulatedDocument {
    body: Vec<u8>,
    gzip: bool,
}

/// Takes one from a fault counter, if any is left.
fn take(counter: &std::sync::atomic::AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
}

impl EmulatedReport {
    /// The report as `getReport` shows it now.
    fn current(&self, queue: Duration, processing: Duration) -> Report {
        let elapsed = self.created.elapsed();
        let mut r = self.report.clone();
        let started = r.created_time + Span::from_std(queue).unwrap_or_default();
        let ended = started + Span::from_std(processing).unwrap_or_default();
        r.processing_status = if self.fate == Fate::Stuck || elapsed < queue {
            ProcessingStatus::InQueue
        } else if elapsed < queue + processing {
            r.processing_start_time = Some(started);
            ProcessingStatus::InProgress
        } else {
            r.processing_start_time = Some(started);
            r.processing_end_time = Some(ended);
            match self.fate {
                Fate::Done => {
                    r.report_document_id = self.document_id.clone();
                    ProcessingStatus::Done
                }
                Fate::NoData => ProcessingStatus::Cancelled,
                Fate::Fatal | Fate::Stuck => ProcessingStatus::Fatal,
            }
        };
        r
    }
}

fn delays(inner: &Inner) -> (Duration, Duration) {
    let c = inner.config();
    (
        Duration::from_millis(c.report_queue_ms),
        Duration::from_millis(c.report_processing_ms),
    )
}

pub(super) fn list_all(inner: &Inner) -> Vec<Report> {
    let (queue, processing) = delays(inner);
    let Ok(data) = inner.data.read() else {
        return Vec::new();
    };
    let mut all: Vec<Report> = data
        .reports
        .values()
        .map(|r| r.current(queue, processing))
        .collect();
    all.sort_by_key(|r| std::cmp::Reverse(r.created_time));
    all
}

fn invalid(message: &str) -> Response {
    super::routes::invalid(message)
}

fn not_found(what: &str) -> Response {
    super::routes::amazon_error(StatusCode::NOT_FOUND, "NotFound", what)
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(body);
    enc.finish().unwrap_or_default()
}

pub(super) async fn create_report(
    State(inner): S,
    headers: HeaderMap,
    Json(spec): Json<CreateReportSpecification>,
) -> Response {
    let rate = match super::routes::guard(&inner, &headers, super::routes::Operation::CreateReport)
        .await
    {
        Ok(r) => r,
        Err(r) => return r,
    };
    inner.stats.create_report.fetch_add(1, Ordering::Relaxed);
    let config = inner.config();
    if ![report_rows::REIMBURSEMENTS, report_rows::LEDGER].contains(&spec.report_type.as_str()) {
        return invalid(&format!(
            "Report type {} is not supported by this emulator",
            spec.report_type
        ));
    }
    if !spec.marketplace_ids.contains(&config.marketplace_id) {
        return invalid("marketplaceIds must include the seller's marketplace");
    }
    let now = Utc::now();
    let end = spec.data_end_time.unwrap_or(now);
    let start = spec.data_start_time.unwrap_or(end - Span::days(30));
    if end > now || start > end {
        return invalid("dataStartTime must not be after dataEndTime, nor either in the future");
    }
    let Ok(mut data) = inner.data.write() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let report_id = format!("{}", 50_000_000_000u64 + data.reports.len() as u64 + 1);
    let document = recoveries::document(&data.recoveries, &spec.report_type, start, end);
    let fate = if take(&inner.stuck_next) {
        Fate::Stuck
    } else if take(&inner.fatal_next) {
        Fate::Fatal
    } else if document.is_some() {
        Fate::Done
    } else {
        Fate::NoData
    };
    let document_id = document.map(|text| {
        let id = format!("amzn1.spdoc.1.4.na.{}", uuid::Uuid::new_v4().simple());
        let body = if config.report_gzip {
            gzip(text.as_bytes())
        } else {
            text.into_bytes()
        };
        data.documents.insert(
            id.clone(),
            EmulatedDocument {
                body,
                gzip: config.report_gzip,
            },
        );
        id
    });
    data.reports.insert(
        report_id.clone(),
        EmulatedReport {
            report: Report {
                report_id: report_id.clone(),
                report_type: spec.report_type.clone(),
                marketplace_ids: Some(spec.marketplace_ids.clone()),
                data_start_time: Some(start),
                data_end_time: Some(end),
                report_schedule_id: None,
                created_time: now,
                processing_status: ProcessingStatus::InQueue,
                processing_start_time: None,
                processing_end_time: None,
                report_document_id: None,
            },
            created: Instant::now(),
            fate,
            document_id,
        },
    );
    let r = (
        StatusCode::ACCEPTED,
        Json(CreateReportResponse { report_id }),
    )
        .into_response();
    super::routes::with_rate(r, rate)
}

pub(super) async fn get_report(
    State(inner): S,
    Path(report_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let rate =
        match super::routes::guard(&inner, &headers, super::routes::Operation::GetReport).await {
            Ok(r) => r,
            Err(r) => return r,
        };
    inner.stats.get_report.fetch_add(1, Ordering::Relaxed);
    let (queue, processing) = delays(&inner);
    let found = inner.data.read().ok().and_then(|d| {
        d.reports
            .get(&report_id)
            .map(|r| r.current(queue, processing))
    });
    let r = match found {
        Some(report) => Json(report).into_response(),
        None => not_found(&format!("Report {report_id} not found")),
    };
    super::routes::with_rate(r, rate)
}

pub(super) async fn get_reports(
    State(inner): S,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let rate =
        match super::routes::guard(&inner, &headers, super::routes::Operation::GetReports).await {
            Ok(r) => r,
            Err(r) => return r,
        };
    inner.stats.get_reports.fetch_add(1, Ordering::Relaxed);
    let list = |k: &str| -> Option<Vec<String>> {
        q.get(k)
            .filter(|s| !s.is_empty())
            .map(|s| s.split(',').map(str::to_owned).collect())
    };
    let Some(types) = list("reportTypes") else {
        return invalid("reportTypes or nextToken is required");
    };
    let statuses = list("processingStatuses");
    let marketplaces = list("marketplaceIds");
    let time = |k: &str| -> Result<Option<DateTime<Utc>>, String> {
        match q.get(k).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(t) => DateTime::parse_from_rfc3339(t)
                .map(|t| Some(t.to_utc()))
                .map_err(|_| format!("{k} must be an ISO 8601 date-time")),
        }
    };
    let (since, until) = match (time("createdSince"), time("createdUntil")) {
        (Ok(a), Ok(b)) => (
            a.unwrap_or_else(|| Utc::now() - Span::days(90)),
            b.unwrap_or_else(Utc::now),
        ),
        (Err(e), _) | (_, Err(e)) => return invalid(&e),
    };
    let size = match q.get("pageSize").map(|s| s.parse::<usize>()) {
        None => 10,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return invalid("pageSize must be between 1 and 100"),
    };
    let status_name = |s: ProcessingStatus| {
        serde_json::to_value(s)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let reports: Vec<Report> = list_all(&inner)
        .into_iter()
        .filter(|r| {
            types.contains(&r.report_type)
                && r.created_time >= since
                && r.created_time <= until
                && statuses
                    .as_ref()
                    .is_none_or(|s| s.contains(&status_name(r.processing_status)))
                && marketplaces.as_ref().is_none_or(|m| {
                    r.marketplace_ids
                        .as_ref()
                        .is_some_and(|ids| ids.iter().any(|id| m.contains(id)))
                })
        })
        .take(size)
        .collect();
    let r = Json(GetReportsResponse {
        reports,
        next_token: None,
    })
    .into_response();
    super::routes::with_rate(r, rate)
}

fn sign(inner: &Inner, document_id: &str, expires: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(inner.url_secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(format!("{document_id}|{expires}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub(super) async fn get_document(
    State(inner): S,
    Path(document_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let rate =
        match super::routes::guard(&inner, &headers, super::routes::Operation::GetDocument).await {
            Ok(r) => r,
            Err(r) => return r,
        };
    inner.stats.get_document.fetch_add(1, Ordering::Relaxed);
    let gzip = match inner
        .data
        .read()
        .ok()
        .and_then(|d| d.documents.get(&document_id).map(|doc| doc.gzip))
    {
        Some(g) => g,
        None => return not_found(&format!("Report document {document_id} not found")),
    };
    // The URL points back at this emulator, wherever it is mounted.
    let path = uri.path();
    let mount = path.find("/reports/2021-06-30/").map_or("", |i| &path[..i]);
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let ttl = inner.config().document_url_ttl_ms as i64;
    let expires = if take(&inner.expired_urls_next) {
        Utc::now().timestamp_millis() - 1
    } else {
        Utc::now().timestamp_millis() + ttl
    };
    let url = format!(
        "http://{host}{mount}/_documents/{document_id}?expires={expires}&signature={}",
        sign(&inner, &document_id, expires)
    );
    let r = Json(ReportDocument {
        report_document_id: document_id,
        url,
        compression_algorithm: gzip.then(|| "GZIP".to_owned()),
    })
    .into_response();
    super::routes::with_rate(r, rate)
}

fn s3_denied(message: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "application/xml")],
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>{message}</Message></Error>"
        ),
    )
        .into_response()
}

/// The pre-signed download: no access token, no usage plan (as on S3).
pub(super) async fn download(
    State(inner): S,
    Path(document_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    inner.stats.downloads.fetch_add(1, Ordering::Relaxed);
    let expires = q.get("expires").and_then(|e| e.parse::<i64>().ok());
    let signature = q.get("signature").map(String::as_str).unwrap_or("");
    let Some(expires) = expires.filter(|e| sign(&inner, &document_id, *e) == signature) else {
        return s3_denied("Request signature does not match");
    };
    if Utc::now().timestamp_millis() > expires {
        inner.stats.expired_urls.fetch_add(1, Ordering::Relaxed);
        return s3_denied("Request has expired");
    }
    let body = inner
        .data
        .read()
        .ok()
        .and_then(|d| d.documents.get(&document_id).map(|doc| doc.body.clone()));
    match body {
        Some(b) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=UTF-8")],
            b,
        )
            .into_response(),
        None => s3_denied("The specified key does not exist."),
    }
}

pub(super) async fn shipment_items(
    State(inner): S,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let rate = match super::routes::guard(&inner, &headers, super::routes::Operation::ShipmentItems)
        .await
    {
        Ok(r) => r,
        Err(r) => return r,
    };
    inner.stats.shipment_items.fetch_add(1, Ordering::Relaxed);
    let config = inner.config();
    if q.get("MarketplaceId") != Some(&config.marketplace_id) {
        return invalid("MarketplaceId must name the seller's marketplace");
    }
    let (after, before, offset, fingerprint) = match q.get("QueryType").map(String::as_str) {
        Some("DATE_RANGE") => {
            let time = |k: &str| {
                q.get(k)
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.to_utc())
            };
            let (Some(a), Some(b)) = (time("LastUpdatedAfter"), time("LastUpdatedBefore")) else {
                return invalid("DATE_RANGE needs LastUpdatedAfter and LastUpdatedBefore");
            };
            let fp = format!("inb|{}|{}", a.timestamp(), b.timestamp());
            (a, b, 0, fp)
        }
        Some("NEXT_TOKEN") => {
            let Some(token) = q.get("NextToken") else {
                return invalid("NEXT_TOKEN needs NextToken");
            };
            match super::routes::redeem_any_token(&inner, token, "inb|") {
                Ok((offset, fp)) => {
                    let mut parts = fp.split('|').skip(1).map(|s| s.parse::<i64>());
                    let (Some(Ok(a)), Some(Ok(b))) = (parts.next(), parts.next()) else {
                        return invalid("Invalid NextToken");
                    };
                    let at = |s| DateTime::from_timestamp(s, 0).unwrap_or_default();
                    (at(a), at(b), offset, fp)
                }
                Err(r) => return *r,
            }
        }
        _ => return invalid("QueryType must be DATE_RANGE or NEXT_TOKEN"),
    };
    let Ok(data) = inner.data.read() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let matching: Vec<_> = data
        .recoveries
        .inbound
        .iter()
        .filter(|i| i.last_updated >= after && i.last_updated <= before)
        .collect();
    const PAGE: usize = 50;
    let page: Vec<_> = matching
        .iter()
        .skip(offset)
        .take(PAGE)
        .map(|i| i.item.clone())
        .collect();
    let next = (offset + PAGE < matching.len())
        .then(|| super::routes::issue_page_token(offset + PAGE, &fingerprint));
    let r = Json(GetShipmentItemsResponse {
        payload: Some(GetShipmentItemsResult {
            item_data: Some(page),
            next_token: next,
        }),
        errors: None,
    })
    .into_response();
    super::routes::with_rate(r, rate)
}
