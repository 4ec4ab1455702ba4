//! Reports API 2021-06-30 and Fulfillment Inbound v0 shipment items: the data of FBA
//! recoveries. Model: `shared/upstreams/amazon-reports-2021-06-30.json` (Amazon's published
//! Swagger model; operations, shapes and usage plans below are taken from it), and
//! `fulfillmentInboundV0.json` of github.com/amzn/selling-partner-api-models for
//! `getShipmentItems`.
//!
//! One report of one window:
//! 1. `getReports` (`reportTypes`, `processingStatuses=DONE,IN_QUEUE,IN_PROGRESS`,
//!    `marketplaceIds`, `createdSince` = the window's end) — a report of the same type and
//!    exactly the same window, created after the window closed, is reused: a `DONE` one is
//!    downloaded straight away, a pending one (left by a run that stopped waiting) is polled.
//!    Amazon keeps reports 90 days; windows are aligned (config `reportAlignMinutes`,
//!    default 60) so that runs close together ask for the same window.
//! 2. else `createReport` `{reportType, marketplaceIds, dataStartTime, dataEndTime}` →
//!    `reportId`;
//! 3. `getReport` until `processingStatus` is `DONE`, `CANCELLED` (no data in the window:
//!    an empty document) or `FATAL` (the report is requested once more, then given up).
//!    Polls start after `reportPollMs` (default 500) and back off ×1.5 to 30 s; a report
//!    still `IN_QUEUE`/`IN_PROGRESS` after `reportWaitSeconds` (default 900) is left for
//!    the next run — the run's other stages go on;
//! 4. `getReportDocument` → a pre-signed `url` (valid 5 minutes) and optional
//!    `compressionAlgorithm: GZIP`; the URL is fetched without the access token. A URL
//!    refused as expired (HTTP 400/403 from the storage host) is replaced by asking for
//!    the document again (at most 3 times);
//! 5. the tab-separated text (gunzipped, at most [`MAX_DOCUMENT_BYTES`]) is parsed off the
//!    async runtime into rows ([`super::report_rows`]).
//!
//! Usage plans (rate per second / burst, from the model): `createReport` 0.0167 / 15,
//! `getReport` 2 / 15, `getReports` 0.0222 / 10, `getReportDocument` 0.0167 / 15,
//! `getShipmentItems` 2 / 30. Each has its own limiter, kept ~10 % under the plan like
//! the inventory and finances calls; a 429 waits at least one interval of the
//! `x-amzn-RateLimit-Limit` it carries (the shared client's rule).

use super::report_rows::{self, DateOrder};
use super::wire::{
    CreateReportResponse, CreateReportSpecification, GetReportsResponse, GetShipmentItemsResponse,
    ProcessingStatus, Report, ReportDocument,
};
use super::{AUTH, Amazon};
use crate::connectors::http::{AuthRule, UpstreamError};
use crate::connectors::recoveries::{
    InboundItem, InboundPage, RecoveryPlan, RecoverySource, ReportFetch, ReportKind, ReportRows,
    ReportStep,
};
use async_trait::async_trait;
use chrono::{DateTime, Duration as Span, SecondsFormat, Utc};
use std::io::Read;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Usage plans: (requests per second, burst).
pub const CREATE_REPORT_PLAN: (f64, u32) = (0.0167, 15);
pub const GET_REPORT_PLAN: (f64, u32) = (2.0, 15);
pub const GET_REPORTS_PLAN: (f64, u32) = (0.0222, 10);
pub const GET_DOCUMENT_PLAN: (f64, u32) = (0.0167, 15);
pub const SHIPMENT_ITEMS_PLAN: (f64, u32) = (2.0, 30);

/// Largest document (after decompression) a run reads; a larger one is refused.
pub const MAX_DOCUMENT_BYTES: u64 = 512 * 1024 * 1024;
/// `createReport` attempts per window when Amazon answers `FATAL`.
pub const MAX_REPORT_ATTEMPTS: u32 = 2;
/// Fresh document URLs asked for when one has expired.
pub const MAX_URL_REFRESHES: u32 = 3;
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(30);

/// The pre-signed document URL carries its own authorization: never send ours, and treat
/// every 4xx as "this URL is no good" rather than "refresh the access token".
const PRESIGNED: AuthRule = AuthRule {
    statuses: &[],
    body_codes: &[],
};

fn report_type(kind: ReportKind) -> &'static str {
    match kind {
        ReportKind::Reimbursements => report_rows::REIMBURSEMENTS,
        ReportKind::Ledger => report_rows::LEDGER,
    }
}

fn fmt(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn same_second(a: Option<DateTime<Utc>>, b: DateTime<Utc>) -> bool {
    a.is_some_and(|a| a.timestamp() == b.timestamp())
}

/// The report to reuse for a window: the newest `DONE` one with a document, else the
/// newest still pending; only reports created after the window closed qualify.
pub fn reusable<'a>(
    reports: &'a [Report],
    report_type: &str,
    marketplace: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Option<&'a Report> {
    let candidates = reports.iter().filter(|r| {
        r.report_type == report_type
            && same_second(r.data_start_time, start)
            && same_second(r.data_end_time, end)
            && r.created_time >= end
            && r.marketplace_ids
                .as_ref()
                .is_none_or(|m| m.iter().any(|id| id == marketplace))
    });
    let (done, pending): (Vec<&Report>, Vec<&Report>) = candidates
        .filter(|r| {
            matches!(
                r.processing_status,
                ProcessingStatus::Done | ProcessingStatus::InQueue | ProcessingStatus::InProgress
            )
        })
        .partition(|r| r.processing_status == ProcessingStatus::Done);
    done.into_iter()
        .filter(|r| r.report_document_id.is_some())
        .max_by_key(|r| r.created_time)
        .or_else(|| pending.into_iter().max_by_key(|r| r.created_time))
}

/// Gunzips (or copies) a document, refusing one over `limit` bytes.
pub fn inflate(body: Vec<u8>, gzip: bool, limit: u64) -> Result<Vec<u8>, String> {
    if !gzip {
        if body.len() as u64 > limit {
            return Err(format!("report document is larger than {limit} bytes"));
        }
        return Ok(body);
    }
    let mut out = Vec::with_capacity(body.len() * 4);
    flate2::read::GzDecoder::new(body.as_slice())
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("report document is not valid gzip: {e}"))?;
    if out.len() as u64 > limit {
        return Err(format!(
            "report document is larger than {limit} bytes uncompressed"
        ));
    }
    Ok(out)
}

/// What one pass of create-and-poll ended with.
enum Polled {
    Done(String),
    NoData,
    Fatal,
    TimedOut(&'static str),
    Cancelled,
}

impl Amazon {
    fn reports_url(&self, path: &str) -> String {
        self.url(&format!("/reports/2021-06-30{path}"))
    }

    async fn find_reusable(
        &self,
        kind: ReportKind,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Option<Report>, UpstreamError> {
        let url = self.reports_url("/reports");
        let query = [
            ("reportTypes", report_type(kind).to_owned()),
            ("processingStatuses", "DONE,IN_QUEUE,IN_PROGRESS".to_owned()),
            ("marketplaceIds", self.settings.marketplace_id.clone()),
            ("createdSince", fmt(end)),
            ("pageSize", "100".to_owned()),
        ];
        let list: GetReportsResponse = self
            .reports
            .list
            .json(Some(&self.token), AUTH, |c, token| {
                c.get(&url)
                    .query(&query)
                    .header("x-amz-access-token", token.unwrap_or_default())
            })
            .await?;
        Ok(reusable(
            &list.reports,
            report_type(kind),
            &self.settings.marketplace_id,
            start,
            end,
        )
        .cloned())
    }

    async fn create_report(
        &self,
        kind: ReportKind,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<String, UpstreamError> {
        let url = self.reports_url("/reports");
        let body = CreateReportSpecification {
            report_type: report_type(kind).to_owned(),
            marketplace_ids: vec![self.settings.marketplace_id.clone()],
            data_start_time: Some(start),
            data_end_time: Some(end),
        };
        let created: CreateReportResponse = self
            .reports
            .create
            .json(Some(&self.token), AUTH, |c, token| {
                c.post(&url)
                    .json(&body)
                    .header("x-amz-access-token", token.unwrap_or_default())
            })
            .await?;
        Ok(created.report_id)
    }

    async fn get_report(&self, report_id: &str) -> Result<Report, UpstreamError> {
        let url = self.reports_url(&format!("/reports/{report_id}"));
        self.reports
            .get
            .json(Some(&self.token), AUTH, |c, token| {
                c.get(&url)
                    .header("x-amz-access-token", token.unwrap_or_default())
            })
            .await
    }

    async fn get_document(&self, document_id: &str) -> Result<ReportDocument, UpstreamError> {
        let url = self.reports_url(&format!("/documents/{document_id}"));
        self.reports
            .document
            .json(Some(&self.token), AUTH, |c, token| {
                c.get(&url)
                    .header("x-amz-access-token", token.unwrap_or_default())
            })
            .await
    }

    /// Polls until the report ends or the wait bound passes.
    async fn poll(
        &self,
        report_id: &str,
        on_step: &(dyn Fn(ReportStep) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<Polled, UpstreamError> {
        let started = Instant::now();
        let bound = Duration::from_secs(self.settings.report_wait_seconds);
        let mut interval = Duration::from_millis(self.settings.report_poll_ms.max(1));
        loop {
            let report = self.get_report(report_id).await?;
            let status = match report.processing_status {
                ProcessingStatus::Done => {
                    return Ok(match report.report_document_id {
                        Some(doc) => Polled::Done(doc),
                        // DONE without a document: nothing to read (treated as no data).
                        None => Polled::NoData,
                    });
                }
                ProcessingStatus::Cancelled => return Ok(Polled::NoData),
                ProcessingStatus::Fatal => return Ok(Polled::Fatal),
                ProcessingStatus::InQueue => "IN_QUEUE",
                ProcessingStatus::InProgress => "IN_PROGRESS",
            };
            let waited = started.elapsed();
            if waited >= bound {
                return Ok(Polled::TimedOut(status));
            }
            on_step(ReportStep::Processing { status, waited });
            let pause = interval.min(bound.saturating_sub(waited));
            tokio::select! {
                _ = cancel.cancelled() => return Ok(Polled::Cancelled),
                _ = tokio::time::sleep(pause) => {}
            }
            interval = interval.mul_f64(1.5).min(MAX_POLL_INTERVAL);
        }
    }

    /// Downloads a document, replacing an expired URL; `Err(reason)` when it cannot.
    async fn download(
        &self,
        document_id: &str,
        notes: &mut Vec<String>,
    ) -> Result<Result<Vec<u8>, String>, UpstreamError> {
        let mut refreshes = 0;
        loop {
            let doc = self.get_document(document_id).await?;
            let gzip = match doc.compression_algorithm.as_deref() {
                None => false,
                Some("GZIP") => true,
                Some(other) => {
                    return Ok(Err(format!(
                        "report document compressed with unknown algorithm '{other}'"
                    )));
                }
            };
            let url = doc.url.clone();
            match self
                .reports
                .download
                .bytes(None, PRESIGNED, |c, _| c.get(&url))
                .await
            {
                Ok(body) => return Ok(inflate(body, gzip, MAX_DOCUMENT_BYTES)),
                Err(UpstreamError::Rejected {
                    status: 400 | 403, ..
                }) if refreshes < MAX_URL_REFRESHES => {
                    refreshes += 1;
                    notes.push(format!(
                        "document URL of {document_id} expired; asked for a fresh one"
                    ));
                    tracing::warn!(document_id, "report document URL expired; refreshing");
                }
                Err(UpstreamError::Rejected { status, .. }) => {
                    return Ok(Err(format!(
                        "report document {document_id} could not be downloaded (HTTP {status})"
                    )));
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn date_order(&self) -> DateOrder {
        self.settings.ledger_date_order
    }
}

/// Parses a document off the async runtime (CPU work).
async fn parse(kind: ReportKind, body: Vec<u8>, order: DateOrder) -> Result<ReportRows, String> {
    tokio::task::spawn_blocking(move || {
        let text = report_rows::decode(&body);
        drop(body);
        match kind {
            ReportKind::Reimbursements => {
                report_rows::parse_reimbursements(&text).map(ReportRows::Reimbursements)
            }
            ReportKind::Ledger => report_rows::parse_ledger(&text, order).map(ReportRows::Ledger),
        }
    })
    .await
    .map_err(|e| format!("parsing the report failed: {e}"))?
}

#[async_trait]
impl RecoverySource for Amazon {
    fn plan(&self) -> RecoveryPlan {
        let s = &self.settings;
        RecoveryPlan {
            lookback: Span::days(s.recoveries_lookback_days),
            overlap: Span::days(s.recoveries_overlap_days),
            align: (s.report_align_minutes > 0).then(|| Span::minutes(s.report_align_minutes)),
            inbound: s.inbound,
        }
    }

    async fn fetch_report(
        &self,
        kind: ReportKind,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        on_step: &(dyn Fn(ReportStep) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<ReportFetch, UpstreamError> {
        let mut notes = Vec::new();
        let mut attempts = 0;
        let mut current = match self.find_reusable(kind, start, end).await? {
            Some(r) => {
                on_step(ReportStep::Requested {
                    report_id: r.report_id.clone(),
                    reused: true,
                });
                Some(r)
            }
            None => None,
        };
        loop {
            let (report_id, reused, ready) = match current.take() {
                Some(r) if r.processing_status == ProcessingStatus::Done => {
                    (r.report_id, true, r.report_document_id)
                }
                Some(r) => (r.report_id, true, None),
                None => {
                    attempts += 1;
                    let id = self.create_report(kind, start, end).await?;
                    on_step(ReportStep::Requested {
                        report_id: id.clone(),
                        reused: false,
                    });
                    (id, false, None)
                }
            };
            let outcome = match ready {
                Some(doc) => Polled::Done(doc),
                None => self.poll(&report_id, on_step, cancel).await?,
            };
            let document = match outcome {
                Polled::Done(doc) => doc,
                Polled::NoData => {
                    return Ok(ReportFetch::Ready {
                        report_id,
                        reused,
                        no_data: true,
                        rows: ReportRows::empty(kind),
                        notes,
                    });
                }
                Polled::Fatal if attempts < MAX_REPORT_ATTEMPTS => {
                    notes.push(format!("report {report_id} ended FATAL; requested again"));
                    tracing::warn!(report_id, "{} report FATAL; retrying", kind.label());
                    continue;
                }
                Polled::Fatal => {
                    return Ok(ReportFetch::Unavailable {
                        report_id: Some(report_id),
                        reason: format!(
                            "Amazon could not produce the {} report (FATAL, {attempts} attempts)",
                            kind.label()
                        ),
                    });
                }
                Polled::TimedOut(status) => {
                    return Ok(ReportFetch::Unavailable {
                        reason: format!(
                            "{} report {report_id} still {status} after {} s; the next run picks it up",
                            kind.label(),
                            self.settings.report_wait_seconds
                        ),
                        report_id: Some(report_id),
                    });
                }
                Polled::Cancelled => {
                    return Ok(ReportFetch::Unavailable {
                        report_id: Some(report_id),
                        reason: "cancelled".into(),
                    });
                }
            };
            on_step(ReportStep::Downloading);
            let body = match self.download(&document, &mut notes).await? {
                Ok(body) => body,
                Err(reason) => {
                    return Ok(ReportFetch::Unavailable {
                        report_id: Some(report_id),
                        reason,
                    });
                }
            };
            return match parse(kind, body, self.date_order()).await {
                Ok(rows) => Ok(ReportFetch::Ready {
                    report_id,
                    reused,
                    no_data: false,
                    rows,
                    notes,
                }),
                // A document we cannot read is Amazon changing its format: fail loudly.
                Err(reason) => Err(UpstreamError::Malformed(reason)),
            };
        }
    }

    async fn inbound_items(
        &self,
        after: DateTime<Utc>,
        before: DateTime<Utc>,
        token: Option<&str>,
    ) -> Result<InboundPage, UpstreamError> {
        let url = self.url("/fba/inbound/v0/shipmentItems");
        let mut query = vec![("MarketplaceId", self.settings.marketplace_id.clone())];
        match token {
            Some(t) => {
                query.push(("QueryType", "NEXT_TOKEN".into()));
                query.push(("NextToken", t.to_owned()));
            }
            None => {
                query.push(("QueryType", "DATE_RANGE".into()));
                query.push(("LastUpdatedAfter", fmt(after)));
                query.push(("LastUpdatedBefore", fmt(before)));
            }
        }
        let resp: GetShipmentItemsResponse = self
            .reports
            .inbound
            .json(Some(&self.token), AUTH, |c, access| {
                c.get(&url)
                    .query(&query)
                    .header("x-amz-access-token", access.unwrap_or_default())
            })
            .await?;
        let payload = resp.payload.unwrap_or_default();
        let mut page = InboundPage {
            next_token: payload.next_token.filter(|t| !t.is_empty()),
            ..Default::default()
        };
        for item in payload.item_data.unwrap_or_default() {
            match item.shipment_id.filter(|s| !s.is_empty()) {
                Some(shipment_id) => page.items.push(InboundItem {
                    shipment_id,
                    sku: item.seller_sku,
                    fnsku: item.fulfillment_network_sku,
                    shipped: item.quantity_shipped,
                    received: item.quantity_received.unwrap_or(0),
                }),
                None => page.problems.push(format!(
                    "inbound item {} without ShipmentId; skipped",
                    item.seller_sku
                )),
            }
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(id: &str, status: ProcessingStatus, created: i64, start: i64, end: i64) -> Report {
        let t = |s: i64| DateTime::from_timestamp(s, 0).unwrap();
        Report {
            report_id: id.into(),
            report_type: report_rows::LEDGER.into(),
            marketplace_ids: Some(vec!["M".into()]),
            data_start_time: Some(t(start)),
            data_end_time: Some(t(end)),
            report_schedule_id: None,
            created_time: t(created),
            processing_status: status,
            processing_start_time: None,
            processing_end_time: None,
            report_document_id: (status == ProcessingStatus::Done).then(|| format!("doc-{id}")),
        }
    }

    #[test]
    fn reuse_needs_the_same_window_created_after_it_closed() {
        use ProcessingStatus::*;
        let t = |s: i64| DateTime::from_timestamp(s, 0).unwrap();
        let reports = vec![
            report("early", Done, 500, 0, 1000), // made before the window closed
            report("other", Done, 2000, 10, 1000), // another window
            report("fatal", Fatal, 3000, 0, 1000),
            report("pending", InQueue, 2500, 0, 1000),
            report("old", Done, 1500, 0, 1000),
            report("new", Done, 1800, 0, 1000),
        ];
        let pick = reusable(&reports, report_rows::LEDGER, "M", t(0), t(1000)).unwrap();
        assert_eq!(pick.report_id, "new", "DONE beats pending, newest first");
        let only_pending: Vec<Report> = reports
            .iter()
            .filter(|r| r.processing_status != Done)
            .cloned()
            .collect();
        assert_eq!(
            reusable(&only_pending, report_rows::LEDGER, "M", t(0), t(1000))
                .unwrap()
                .report_id,
            "pending"
        );
        assert!(reusable(&reports, report_rows::LEDGER, "OTHER", t(0), t(1000)).is_none());
        assert!(reusable(&reports, report_rows::REIMBURSEMENTS, "M", t(0), t(1000)).is_none());
    }

    #[test]
    fn gzip_documents_inflate_within_the_limit() {
        use flate2::Compression;
        use flate2::write::GzEncoder;
        use std::io::Write;
        let text = "a\tb\n".repeat(1000);
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(text.as_bytes()).unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(inflate(gz.clone(), true, 1 << 20).unwrap(), text.as_bytes());
        assert!(inflate(gz, true, 100).unwrap_err().contains("larger"));
        assert!(inflate(b"not gzip".to_vec(), true, 1 << 20).is_err());
        assert!(inflate(vec![0; 10], false, 5).is_err());
    }
}
