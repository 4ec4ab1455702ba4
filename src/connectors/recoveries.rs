//! What a provider offers for FBA recoveries besides its price book — Amazon's reimbursement
//! and inventory-ledger reports and its inbound shipment items. The engine pulls them as a
//! stage of a run (`sync::recoveries`) and detects claims over what it stored; connectors
//! only speak the wire format and hand back typed rows.

use super::amazon::report_rows::{LedgerRow, Parsed, ReimbursementRow};
use super::http::UpstreamError;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportKind {
    Reimbursements,
    Ledger,
}

impl ReportKind {
    pub fn label(self) -> &'static str {
        match self {
            ReportKind::Reimbursements => "reimbursements",
            ReportKind::Ledger => "inventory ledger",
        }
    }
}

/// Where a report has got to, for the run's stage and percent.
#[derive(Debug, Clone, PartialEq)]
pub enum ReportStep {
    /// Created (or an earlier report of the same window found and reused).
    Requested {
        report_id: String,
        reused: bool,
    },
    /// Still `IN_QUEUE` or `IN_PROGRESS` upstream after `waited`.
    Processing {
        status: &'static str,
        waited: std::time::Duration,
    },
    Downloading,
}

/// A report document's rows.
#[derive(Debug, Clone)]
pub enum ReportRows {
    Reimbursements(Parsed<ReimbursementRow>),
    Ledger(Parsed<LedgerRow>),
}

impl ReportRows {
    pub fn empty(kind: ReportKind) -> ReportRows {
        match kind {
            ReportKind::Reimbursements => ReportRows::Reimbursements(Parsed::default()),
            ReportKind::Ledger => ReportRows::Ledger(Parsed::default()),
        }
    }
}

#[derive(Debug, Clone)]
pub enum ReportFetch {
    /// The document's rows (none when Amazon cancelled the report for lack of data).
    Ready {
        report_id: String,
        reused: bool,
        /// `CANCELLED` upstream: the window had no data.
        no_data: bool,
        rows: ReportRows,
        /// Expired download URLs replaced, FATAL reports requested again, …
        notes: Vec<String>,
    },
    /// No document this time (still queued past the wait bound, failed twice, or the run
    /// was cancelled): the run's other stages go on, the next run tries again.
    Unavailable {
        report_id: Option<String>,
        reason: String,
    },
}

/// One SKU of one inbound shipment.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundItem {
    pub shipment_id: String,
    pub sku: String,
    pub fnsku: Option<String>,
    pub shipped: i32,
    pub received: i32,
}

#[derive(Debug, Clone, Default)]
pub struct InboundPage {
    pub items: Vec<InboundItem>,
    /// Items without a shipment id (recorded on the run, skipped).
    pub problems: Vec<String>,
    pub next_token: Option<String>,
}

/// The provider's windows: how far back a first or full run reads, how much an
/// incremental run re-reads before the last watermark, and how report windows are aligned
/// (so that runs close together ask for the same window and can reuse one report).
#[derive(Debug, Clone, Copy)]
pub struct RecoveryPlan {
    pub lookback: Duration,
    pub overlap: Duration,
    /// Window ends are rounded down to a multiple of this (none: the window ends now).
    pub align: Option<Duration>,
    /// Whether inbound shipment items are listed.
    pub inbound: bool,
}

impl RecoveryPlan {
    /// The window end for a run starting at `now`.
    pub fn window_end(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self.align.map(|a| a.num_seconds()).filter(|s| *s > 0) {
            Some(step) => {
                let t = now.timestamp();
                DateTime::from_timestamp(t - t.rem_euclid(step), 0).unwrap_or(now)
            }
            None => now,
        }
    }
}

#[async_trait]
pub trait RecoverySource: Send + Sync {
    fn plan(&self) -> RecoveryPlan;

    /// The rows of one report over `[start, end)`: reuses a report of the same window when
    /// Amazon still has one, else requests, polls and downloads a new one.
    async fn fetch_report(
        &self,
        kind: ReportKind,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        on_step: &(dyn Fn(ReportStep) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<ReportFetch, UpstreamError>;

    /// Inbound shipment items updated in `[after, before]`, continued by `token`.
    async fn inbound_items(
        &self,
        after: DateTime<Utc>,
        before: DateTime<Utc>,
        token: Option<&str>,
    ) -> Result<InboundPage, UpstreamError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_windows_end_on_the_step() {
        let plan = RecoveryPlan {
            lookback: Duration::days(1),
            overlap: Duration::days(1),
            align: Some(Duration::minutes(60)),
            inbound: false,
        };
        let now = DateTime::parse_from_rfc3339("2026-10-01T10:59:59Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            plan.window_end(now).to_rfc3339(),
            "2026-10-01T10:00:00+00:00"
        );
        let none = RecoveryPlan {
            align: None,
            ..plan
        };
        assert_eq!(none.window_end(now), now);
    }
}
