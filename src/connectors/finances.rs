//! Financial events (sales, fees, refunds per SKU) a provider can list besides its price
//! book — Amazon's Finances API today. The engine pulls them as an extra stage of a run
//! and stores them for dashboards; connectors only translate the wire format.

use super::http::UpstreamError;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use entity::financial_event::FinanceKind;
use rust_decimal::Decimal;

/// One money component of one event (a charge, fee or promotion of one order item).
#[derive(Debug, Clone, PartialEq)]
pub struct FinanceLine {
    /// Deterministic identity of this component, so a re-listed event upserts in place.
    pub key: String,
    pub posted_at: DateTime<Utc>,
    pub sku: Option<String>,
    pub order_id: Option<String>,
    /// The provider's event list, e.g. `Shipment`, `Refund`, `ServiceFee`.
    pub event_type: String,
    pub kind: FinanceKind,
    /// Charge, fee or promotion type, e.g. `Principal`, `Commission`.
    pub component: String,
    pub currency: String,
    pub amount: Decimal,
    pub quantity: Option<i32>,
    /// The provider gave no date: `posted_at` is inferred from the page, so the first
    /// sighting's date is kept when the line is seen again.
    pub dated_by_page: bool,
}

/// A component that could not be read (recorded on the run, the rest goes on).
#[derive(Debug, Clone, PartialEq)]
pub struct FinanceProblem {
    pub sku: Option<String>,
    pub order_id: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct FinancePage {
    pub lines: Vec<FinanceLine>,
    pub problems: Vec<FinanceProblem>,
    /// Events on the page (before splitting into lines), for progress and summaries.
    pub events: usize,
    /// The newest posting date on the page, for progress through the window.
    pub latest_posted: Option<DateTime<Utc>>,
    pub next_token: Option<String>,
}

/// One call's answer: a page, or "the continuation token expired" (the caller restarts
/// the window; re-listed events upsert onto the same rows).
#[derive(Debug, Clone)]
pub enum FinanceListing {
    Page(FinancePage),
    TokenExpired,
}

/// How far back a first sync looks, how much later syncs overlap, and the provider's
/// rules about windows.
#[derive(Debug, Clone, Copy)]
pub struct FinanceWindows {
    pub lookback: Duration,
    /// Events can post late (Amazon: orders of the last 48 h may be missing): re-read
    /// this much before the last watermark.
    pub overlap: Duration,
    /// Longest window one listing may cover (Amazon: 180 days).
    pub max_window: Duration,
    /// Newest time a listing may ask for, relative to now (Amazon: 2 minutes ago).
    pub settle: Duration,
}

#[async_trait]
pub trait FinanceSource: Send + Sync {
    fn windows(&self) -> FinanceWindows;
    /// Events posted in `[after, before)`, continued by `token`.
    async fn list_events(
        &self,
        after: DateTime<Utc>,
        before: DateTime<Utc>,
        token: Option<&str>,
    ) -> Result<FinanceListing, UpstreamError>;
}

/// Splits `[from, to)` into windows of at most `max` (oldest first).
pub fn windows(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    max: Duration,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    let mut start = from;
    while start < to {
        let end = (start + max).min(to);
        out.push((start, end));
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_range_without_gaps() {
        let from = DateTime::<Utc>::from_timestamp(0, 0).unwrap();
        let to = from + Duration::days(400);
        let w = windows(from, to, Duration::days(180));
        assert_eq!(w.len(), 3);
        assert_eq!(w[0].0, from);
        assert_eq!(w[1].0, w[0].1);
        assert_eq!(w[2].1, to);
        assert!(windows(to, from, Duration::days(1)).is_empty());
    }
}
