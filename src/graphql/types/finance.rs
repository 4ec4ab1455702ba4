//! Financial event lines and their per-SKU, per-period totals (Amazon Finances).

use async_graphql::{Enum, ID, SimpleObject};
use entity::financial_event::{self as fe, FinanceKind as StoredKind};
use rust_decimal::Decimal;

/// What a financial line is.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "StoredKind")]
pub enum FinanceKind {
    /// Revenue: principal, tax and shipping charged to the buyer.
    Sale,
    /// Amazon's fees (negative) and fees returned on refunds.
    Fee,
    /// Money returned to the buyer (negative).
    Refund,
    /// Promotional discounts.
    Promotion,
    /// Account adjustments (`AdjustmentEventList`): FBA inventory reimbursements (positive),
    /// their reversals (negative), postage and the like; `component` is the adjustment type.
    Adjustment,
}

/// How summary rows are grouped in time.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum FinancePeriod {
    /// Per UTC day.
    #[default]
    Day,
    /// Per calendar month (UTC).
    Month,
}

/// One money component of one upstream financial event.
#[derive(SimpleObject, Clone)]
pub struct FinancialEvent {
    /// The line id.
    pub id: ID,
    /// The Amazon connection.
    pub connection_id: ID,
    /// When Amazon posted the event.
    pub posted_at: chrono::DateTime<chrono::Utc>,
    /// The UTC day of `postedAt`.
    pub period: chrono::NaiveDate,
    /// Seller SKU, when the line is about one.
    pub sku: Option<String>,
    /// Amazon order id, when the line is about an order.
    pub order_id: Option<String>,
    /// The upstream event list: `Shipment`, `Refund`, `ServiceFee`.
    pub event_type: String,
    /// Sale, fee, refund or promotion.
    pub kind: FinanceKind,
    /// Charge, fee or promotion type, e.g. `Principal`, `Commission`.
    pub component: String,
    /// ISO 4217 currency code, e.g. `USD`.
    pub currency: String,
    /// Exact decimal, signed as Amazon reports it (fees and refunds are negative).
    pub amount: Decimal,
    /// Units, when Amazon reports them.
    pub quantity: Option<i32>,
}

impl From<fe::Model> for FinancialEvent {
    fn from(m: fe::Model) -> Self {
        FinancialEvent {
            id: m.id.into(),
            connection_id: m.connection_id.into(),
            posted_at: m.posted_at,
            period: m.period,
            sku: m.sku,
            order_id: m.order_id,
            event_type: m.event_type,
            kind: m.kind.into(),
            component: m.component,
            currency: m.currency,
            amount: m.amount.display_amount(),
            quantity: m.quantity,
        }
    }
}

/// Totals of one SKU, period, kind and currency.
#[derive(SimpleObject, Clone, Debug, PartialEq)]
pub struct FinanceSummary {
    /// Seller SKU (null for lines without one).
    pub sku: Option<String>,
    /// `YYYY-MM-DD` for days, `YYYY-MM` for months.
    pub period: String,
    /// Sale, fee, refund or promotion.
    pub kind: FinanceKind,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Exact sum of the lines' amounts.
    pub amount: Decimal,
    /// Number of lines summed.
    pub lines: i64,
}
