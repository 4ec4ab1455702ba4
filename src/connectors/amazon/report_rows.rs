//! The two report documents of Amazon FBA recoveries — tab-separated text — as typed rows,
//! each with a deterministic key. Pure: no I/O. The emulator writes its documents with the
//! same column lists, so parser and emulator cannot drift apart.
//!
//! # Columns (and where they come from)
//!
//! `GET_FBA_REIMBURSEMENTS_DATA` — Amazon's SP-API documentation page "FBA Payments reports
//! attributes" (developer-docs.amazon.com/sp-api/docs/fba-payments-reports-attributes) lists
//! `approval-date`, `reimbursement-id`, `case-id`, `amazon-order-id`, `reason`, `sku`,
//! `fnsku`, `asin`, `product-name`, `condition`, `currency-unit`, `amount-per-unit`,
//! `amount-total`, `quantity-reimbursed-cash`, `quantity-reimbursed-inventory`,
//! `quantity-reimbursed-total`, `original-reimbursement-id`, `original-reimbursement-type`;
//! Seller Central help page 200732720 ("Reimbursements report") describes them (the header
//! is spelled `Sku` in some marketplaces: headers are matched case-insensitively).
//! `approval-date` is read as ISO 8601 with an offset (`2026-05-12T09:59:13+00:00`, the
//! form seen in published parsers) or a plain `YYYY-MM-DD`.
//!
//! `GET_LEDGER_DETAIL_VIEW_DATA` — "FBA Inventory reports attributes"
//! (developer-docs.amazon.com/sp-api/docs/fba-inventory-reports-attributes) lists `Date`,
//! `FNSKU`, `ASIN`, `MSKU`, `Title`, `EventType`, `ReferenceID`, `Quantity`,
//! `FulfillmentCenter`, `Disposition`, `Reason`, `Country`, `ReconciledQuantity`,
//! `UnreconciledQuantity`; downloaded files spell them with spaces (`Event Type`,
//! `Reference ID`, …) and newer ones add `Date and Time` (Airbyte's published schema of this
//! report). Headers are matched with spaces, dashes, underscores and case ignored, so both
//! spellings read. `Date` is `MM/DD/YYYY` in US files (Airbyte's fixture) or ISO; a
//! document whose slash dates show day-first (a first part over 12) is read day-first, one
//! that shows both orders is refused, and one that cannot tell uses the caller's default.
//! Event types: `Shipments`, `Receipts`, `CustomerReturns`, `Adjustments`,
//! `WhseTransfers`, `VendorReturns` (the list; Seller Central names the same six).
//!
//! Adjustment reason codes — Seller Central help page 200453260 ("Inventory adjustments"):
//! `M` inventory misplaced, `5` unrecoverable inventory (both: lost), `F` inventory found,
//! `N` transferred into the seller's account (both: units back); `E` damaged at an Amazon
//! fulfillment center, `6` damaged by the inbound carrier, `7` damage to an expired unit,
//! `H` damaged customer return, `K` damaged by an item defect, `U` distributor damaged —
//! each followed by a `P` disposition-change increase; `D` destroyed/disposed, `O`
//! inventory correction out, `Q` disposition change. Which of them make a claim is decided
//! by the claim rules (`sync::recoveries::rules`), not here.
//!
//! Not verified against a live seller account: the exact date formats of non-US
//! marketplaces, whether every marketplace emits `Date and Time`, and the values of
//! `original-reimbursement-type` (read as the original's reason). Documents are UTF-8 or,
//! failing that, Windows-1252; Japanese Shift_JIS documents are not handled.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::str::FromStr;

/// Report types, as `createReport` names them.
pub const REIMBURSEMENTS: &str = "GET_FBA_REIMBURSEMENTS_DATA";
pub const LEDGER: &str = "GET_LEDGER_DETAIL_VIEW_DATA";

/// Column headers in the order the emulator writes them.
pub const REIMBURSEMENT_COLUMNS: [&str; 18] = [
    "approval-date",
    "reimbursement-id",
    "case-id",
    "amazon-order-id",
    "reason",
    "sku",
    "fnsku",
    "asin",
    "product-name",
    "condition",
    "currency-unit",
    "amount-per-unit",
    "amount-total",
    "quantity-reimbursed-cash",
    "quantity-reimbursed-inventory",
    "quantity-reimbursed-total",
    "original-reimbursement-id",
    "original-reimbursement-type",
];

pub const LEDGER_COLUMNS: [&str; 14] = [
    "Date",
    "FNSKU",
    "ASIN",
    "MSKU",
    "Title",
    "Event Type",
    "Reference ID",
    "Quantity",
    "Fulfillment Center",
    "Disposition",
    "Reason",
    "Country",
    "Reconciled Quantity",
    "Unreconciled Quantity",
];

/// One reimbursement line.
#[derive(Debug, Clone, PartialEq)]
pub struct ReimbursementRow {
    pub key: String,
    pub approved_at: DateTime<Utc>,
    pub reimbursement_id: String,
    pub case_id: Option<String>,
    pub order_id: Option<String>,
    pub reason: String,
    pub sku: Option<String>,
    pub fnsku: Option<String>,
    pub asin: Option<String>,
    pub product_name: Option<String>,
    pub condition: Option<String>,
    pub currency: String,
    pub amount_per_unit: Decimal,
    pub amount_total: Decimal,
    pub quantity_cash: i32,
    pub quantity_inventory: i32,
    pub quantity_total: i32,
    pub original_reimbursement_id: Option<String>,
    pub original_reimbursement_type: Option<String>,
}

/// One inventory-ledger row.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerRow {
    pub key: String,
    pub date: NaiveDate,
    pub fnsku: Option<String>,
    pub asin: Option<String>,
    pub msku: Option<String>,
    pub title: Option<String>,
    pub event_type: String,
    pub reference_id: Option<String>,
    pub quantity: i32,
    pub fulfillment_center: Option<String>,
    pub disposition: Option<String>,
    pub reason: Option<String>,
    pub country: Option<String>,
    pub reconciled_quantity: Option<i32>,
    pub unreconciled_quantity: Option<i32>,
}

/// A row that could not be read; the rest of the document still is.
#[derive(Debug, Clone, PartialEq)]
pub struct RowProblem {
    /// Physical line of the document (the header is line 1).
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Parsed<T> {
    pub rows: Vec<T>,
    pub problems: Vec<RowProblem>,
}

impl<T> Default for Parsed<T> {
    fn default() -> Self {
        Parsed {
            rows: Vec::new(),
            problems: Vec::new(),
        }
    }
}

/// How `MM/DD/YYYY`-looking dates are read when the document itself does not tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateOrder {
    #[default]
    MonthFirst,
    DayFirst,
}

/// Spaces, dashes, underscores and case ignored: `Event Type` = `EventType` = `event-type`.
fn normalise(header: &str) -> String {
    header
        .trim()
        .trim_matches('"')
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Column positions by normalised header.
struct Header(HashMap<String, usize>);

impl Header {
    fn of(record: &csv::StringRecord) -> Header {
        let mut map = HashMap::new();
        for (i, h) in record.iter().enumerate() {
            // The first of duplicated headers wins (none are expected).
            map.entry(normalise(h)).or_insert(i);
        }
        Header(map)
    }

    /// Positions of `names`; the document is refused when a required one is missing.
    fn require(&self, report: &str, names: &[&str]) -> Result<Vec<usize>, String> {
        names
            .iter()
            .map(|n| {
                self.0.get(&normalise(n)).copied().ok_or_else(|| {
                    format!("{report} document has no '{n}' column; its format is not the one documented")
                })
            })
            .collect()
    }

    fn optional(&self, name: &str) -> Option<usize> {
        self.0.get(&normalise(name)).copied()
    }
}

fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes())
}

fn cell(r: &csv::StringRecord, i: usize) -> &str {
    r.get(i).map(str::trim).unwrap_or("")
}

fn opt(r: &csv::StringRecord, i: Option<usize>) -> Option<String> {
    i.map(|i| cell(r, i))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Whole numbers, signed, with thousands separators tolerated; blank is `None`.
fn int(text: &str, what: &str) -> Result<Option<i32>, String> {
    let t = text.replace(',', "");
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<i32>()
        .map(Some)
        .map_err(|_| format!("{what} '{text}' is not a whole number"))
}

fn money(text: &str, what: &str) -> Result<Decimal, String> {
    let t = text.replace(',', "");
    if t.is_empty() {
        return Ok(Decimal::ZERO);
    }
    Decimal::from_str(&t).map_err(|_| format!("{what} '{text}' is not an amount"))
}

/// Stable identity of a row from the fields that locate it, plus its repeat count among
/// identical ones in the document.
struct Keys {
    seen: HashMap<[u8; 16], u32>,
}

impl Keys {
    fn new() -> Self {
        Keys {
            seen: HashMap::new(),
        }
    }

    fn key(&mut self, parts: &[&str]) -> String {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p.as_bytes());
            h.update([0x1f]);
        }
        let mut base = [0u8; 16];
        base.copy_from_slice(&h.finalize()[..16]);
        let n = self.seen.entry(base).or_insert(0);
        *n += 1;
        if *n == 1 {
            hex::encode(base)
        } else {
            let mut h = Sha256::new();
            h.update(base);
            h.update(n.to_le_bytes());
            hex::encode(&h.finalize()[..16])
        }
    }
}

fn approval_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.to_utc());
    }
    // `2026-05-12T09:59:13+0000` and `2026-05-12 09:59:13 UTC` variants.
    for fmt in ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z"] {
        if let Ok(t) = DateTime::parse_from_str(text, fmt) {
            return Ok(t.to_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    Err(format!("approval-date '{text}' is not an ISO 8601 date"))
}

/// Reads a reimbursements document.
pub fn parse_reimbursements(text: &str) -> Result<Parsed<ReimbursementRow>, String> {
    let mut rdr = reader(text);
    let header = Header::of(rdr.headers().map_err(|e| e.to_string())?);
    let need = header.require(
        REIMBURSEMENTS,
        &[
            "approval-date",
            "reimbursement-id",
            "reason",
            "currency-unit",
            "amount-total",
            "quantity-reimbursed-total",
        ],
    )?;
    let [date, id, reason, currency, total, qty_total] = need[..] else {
        return Err("unreachable: six columns required".into());
    };
    let col = |n: &str| header.optional(n);
    let (case, order, sku, fnsku, asin, name, condition) = (
        col("case-id"),
        col("amazon-order-id"),
        col("sku"),
        col("fnsku"),
        col("asin"),
        col("product-name"),
        col("condition"),
    );
    let (per_unit, qty_cash, qty_inv, orig_id, orig_type) = (
        col("amount-per-unit"),
        col("quantity-reimbursed-cash"),
        col("quantity-reimbursed-inventory"),
        col("original-reimbursement-id"),
        col("original-reimbursement-type"),
    );
    let mut keys = Keys::new();
    let mut out = Parsed::default();
    for (i, record) in rdr.records().enumerate() {
        let line = i + 2;
        let r = match record {
            Ok(r) => r,
            Err(e) => {
                out.problems.push(RowProblem {
                    line,
                    message: e.to_string(),
                });
                continue;
            }
        };
        if r.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let row = (|| -> Result<ReimbursementRow, String> {
            let reimbursement_id = cell(&r, id).to_owned();
            if reimbursement_id.is_empty() {
                return Err("reimbursement-id is empty".into());
            }
            let currency = cell(&r, currency).to_uppercase();
            if currency.len() != 3 {
                return Err(format!("currency-unit '{currency}' is not a currency code"));
            }
            let total_qty = int(cell(&r, qty_total), "quantity-reimbursed-total")?.unwrap_or(0);
            let cash = match qty_cash {
                Some(c) => int(cell(&r, c), "quantity-reimbursed-cash")?.unwrap_or(0),
                None => 0,
            };
            let inventory = match qty_inv {
                Some(c) => int(cell(&r, c), "quantity-reimbursed-inventory")?.unwrap_or(0),
                None => 0,
            };
            let mut row = ReimbursementRow {
                key: String::new(),
                approved_at: approval_time(cell(&r, date))?,
                reimbursement_id,
                case_id: opt(&r, case),
                order_id: opt(&r, order),
                reason: cell(&r, reason).to_owned(),
                sku: opt(&r, sku),
                fnsku: opt(&r, fnsku),
                asin: opt(&r, asin),
                product_name: opt(&r, name),
                condition: opt(&r, condition),
                currency,
                amount_per_unit: match per_unit {
                    Some(c) => money(cell(&r, c), "amount-per-unit")?,
                    None => Decimal::ZERO,
                },
                amount_total: money(cell(&r, total), "amount-total")?,
                quantity_cash: cash,
                quantity_inventory: inventory,
                quantity_total: total_qty,
                original_reimbursement_id: opt(&r, orig_id),
                original_reimbursement_type: opt(&r, orig_type),
            };
            row.key = keys.key(&[
                &row.reimbursement_id,
                row.sku.as_deref().unwrap_or(""),
                row.fnsku.as_deref().unwrap_or(""),
                &row.reason,
                row.order_id.as_deref().unwrap_or(""),
                row.original_reimbursement_id.as_deref().unwrap_or(""),
                row.condition.as_deref().unwrap_or(""),
            ]);
            Ok(row)
        })();
        match row {
            Ok(row) => out.rows.push(row),
            Err(message) => out.problems.push(RowProblem { line, message }),
        }
    }
    Ok(out)
}

/// A slash date's two leading parts, for deciding the document's order.
fn slash_parts(text: &str) -> Option<(u32, u32)> {
    let mut it = text.split('/');
    let a = it.next()?.trim().parse().ok()?;
    let b = it.next()?.trim().parse().ok()?;
    Some((a, b))
}

/// What a document's slash dates say about their order.
#[derive(Default)]
struct OrderSeen {
    day_first: bool,
    month_first: bool,
}

impl OrderSeen {
    fn note(&mut self, date: &str) {
        if let Some((a, b)) = slash_parts(date) {
            self.day_first |= a > 12 && b <= 12;
            self.month_first |= b > 12 && a <= 12;
        }
    }

    /// Month-first or day-first from the document's own dates; `Err` when it shows both.
    fn decide(&self, default: DateOrder) -> Result<DateOrder, String> {
        match (self.day_first, self.month_first) {
            (true, true) => Err(
                "ledger dates are both day-first and month-first; the document is ambiguous".into(),
            ),
            (true, false) => Ok(DateOrder::DayFirst),
            (false, true) => Ok(DateOrder::MonthFirst),
            (false, false) => Ok(default),
        }
    }
}

fn ledger_date(text: &str, order: DateOrder) -> Result<NaiveDate, String> {
    let t = text.trim();
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.date_naive());
    }
    let fmt = match order {
        DateOrder::MonthFirst => "%m/%d/%Y",
        DateOrder::DayFirst => "%d/%m/%Y",
    };
    NaiveDate::parse_from_str(t, fmt).map_err(|_| format!("Date '{text}' is not a date"))
}

/// Reads an inventory-ledger document. `Date and Time`, when present, dates each row;
/// otherwise `Date` does (see the module docs for slash dates).
pub fn parse_ledger(text: &str, default_order: DateOrder) -> Result<Parsed<LedgerRow>, String> {
    let mut rdr = reader(text);
    let header = Header::of(rdr.headers().map_err(|e| e.to_string())?);
    let need = header.require(LEDGER, &["Date", "Event Type", "Quantity"])?;
    let [date, event_type, quantity] = need[..] else {
        return Err("unreachable: three columns required".into());
    };
    let col = |n: &str| header.optional(n);
    let date_time = col("Date and Time");
    let (fnsku, asin, msku, title, reference) = (
        col("FNSKU"),
        col("ASIN"),
        col("MSKU"),
        col("Title"),
        col("Reference ID"),
    );
    let (fc, disposition, reason, country, reconciled, unreconciled) = (
        col("Fulfillment Center"),
        col("Disposition"),
        col("Reason"),
        col("Country"),
        col("Reconciled Quantity"),
        col("Unreconciled Quantity"),
    );
    // One pass over the records (none kept): rows with their raw date text, and what the
    // slash dates say about the document's order; then dates and keys.
    let mut order_seen = OrderSeen::default();
    let mut pending: Vec<(usize, String, LedgerRow)> = Vec::new();
    let mut out = Parsed::default();
    let mut record = csv::StringRecord::new();
    let mut line = 1;
    loop {
        line += 1;
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                out.problems.push(RowProblem {
                    line,
                    message: e.to_string(),
                });
                continue;
            }
        }
        let r = &record;
        if r.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        order_seen.note(cell(r, date));
        let row = (|| -> Result<(String, LedgerRow), String> {
            let raw_date = match date_time.map(|c| cell(r, c)).filter(|s| !s.is_empty()) {
                Some(dt) => dt.to_owned(),
                None => cell(r, date).to_owned(),
            };
            let event_type = cell(r, event_type).to_owned();
            if event_type.is_empty() {
                return Err("Event Type is empty".into());
            }
            let quantity = int(cell(r, quantity), "Quantity")?
                .ok_or_else(|| "Quantity is empty".to_owned())?;
            let num = |c: Option<usize>, what: &str| match c {
                Some(c) => int(cell(r, c), what),
                None => Ok(None),
            };
            let row = LedgerRow {
                key: String::new(),
                date: NaiveDate::MIN,
                fnsku: opt(r, fnsku),
                asin: opt(r, asin),
                msku: opt(r, msku),
                title: opt(r, title),
                event_type,
                reference_id: opt(r, reference),
                quantity,
                fulfillment_center: opt(r, fc),
                disposition: opt(r, disposition),
                reason: opt(r, reason),
                country: opt(r, country),
                reconciled_quantity: num(reconciled, "Reconciled Quantity")?,
                unreconciled_quantity: num(unreconciled, "Unreconciled Quantity")?,
            };
            Ok((raw_date, row))
        })();
        match row {
            Ok((raw, row)) => pending.push((line, raw, row)),
            Err(message) => out.problems.push(RowProblem { line, message }),
        }
    }
    let order = order_seen.decide(default_order)?;
    let mut keys = Keys::new();
    out.rows.reserve(pending.len());
    for (line, raw, mut row) in pending {
        let day = DateTime::parse_from_rfc3339(&raw)
            .map(|t| t.date_naive())
            .or_else(|_| ledger_date(&raw, order));
        row.date = match day {
            Ok(d) => d,
            Err(message) => {
                out.problems.push(RowProblem { line, message });
                continue;
            }
        };
        let day = row.date.to_string();
        let qty = row.quantity.to_string();
        row.key = keys.key(&[
            &day,
            row.fnsku.as_deref().unwrap_or(""),
            row.msku.as_deref().unwrap_or(""),
            &row.event_type,
            row.reference_id.as_deref().unwrap_or(""),
            &qty,
            row.fulfillment_center.as_deref().unwrap_or(""),
            row.disposition.as_deref().unwrap_or(""),
            row.reason.as_deref().unwrap_or(""),
            row.country.as_deref().unwrap_or(""),
        ]);
        out.rows.push(row);
    }
    out.problems.sort_by_key(|p| p.line);
    Ok(out)
}

/// Text of a document: UTF-8 (BOM stripped), else Windows-1252.
pub fn decode(bytes: &[u8]) -> String {
    crate::sync::csv::parse::decode(bytes).0
}

/// A tab-separated document of `columns` and `rows` (the emulator's writer; tabs and line
/// breaks inside values become spaces, as Amazon's flat files have none).
pub fn write_tsv<'a>(columns: &[&str], rows: impl Iterator<Item = Vec<String>> + 'a) -> String {
    let mut out = columns.join("\t");
    out.push('\n');
    for row in rows {
        let cleaned: Vec<String> = row
            .into_iter()
            .map(|v| v.replace(['\t', '\n', '\r'], " "))
            .collect();
        out.push_str(&cleaned.join("\t"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const REIMB: &str = "approval-date\treimbursement-id\tcase-id\tamazon-order-id\treason\tSku\tfnsku\tasin\tproduct-name\tcondition\tcurrency-unit\tamount-per-unit\tamount-total\tquantity-reimbursed-cash\tquantity-reimbursed-inventory\tquantity-reimbursed-total\toriginal-reimbursement-id\toriginal-reimbursement-type\n\
2026-05-12T09:59:13+00:00\tR1\tC1\t111-1\tCustomerReturn\tSKU1\tX001\tB001\tMug\tNewItem\tUSD\t12.34\t24.68\t2\t0\t2\t\t\n\
2026-05-13\tR2\t\t\tLost_Warehouse\tSKU1\tX001\tB001\tMug\tNewItem\tusd\t12.34\t12.34\t1\t0\t1\t\t\n\
2026-05-13\tR2\t\t\tLost_Warehouse\tSKU1\tX001\tB001\tMug\tNewItem\tusd\t12.34\t12.34\t1\t0\t1\t\t\n\
2026-06-01\tR3\t\t\tReimbursement_Reversal\tSKU1\tX001\tB001\tMug\tNewItem\tUSD\t-12.34\t-12.34\t-1\t0\t-1\tR2\tLost_Warehouse\n\
2026-06-02\tR4\t\t\tLost_Warehouse\tSKU2\tX002\tB002\tCup\tNewItem\tUSD\tabc\t1.00\t1\t0\t1\t\t\n";

    #[test]
    fn reimbursements_read_exactly_with_stable_distinct_keys() {
        let p = parse_reimbursements(REIMB).unwrap();
        assert_eq!(p.rows.len(), 4);
        assert_eq!(p.problems.len(), 1, "the row with a bad amount");
        assert_eq!(p.problems[0].line, 6);
        let r = &p.rows[0];
        assert_eq!(r.approved_at.to_rfc3339(), "2026-05-12T09:59:13+00:00");
        assert_eq!(r.amount_total, Decimal::new(2468, 2));
        assert_eq!(
            (r.quantity_cash, r.quantity_inventory, r.quantity_total),
            (2, 0, 2)
        );
        assert_eq!(r.sku.as_deref(), Some("SKU1"), "`Sku` header read as sku");
        assert_eq!(p.rows[1].currency, "USD");
        let reversal = &p.rows[3];
        assert_eq!(reversal.quantity_total, -1);
        assert_eq!(reversal.original_reimbursement_id.as_deref(), Some("R2"));
        let keys: std::collections::HashSet<&str> = p.rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys.len(), 4, "identical lines get distinct keys");
        let again = parse_reimbursements(REIMB).unwrap();
        assert_eq!(again.rows, p.rows, "keys are deterministic");
    }

    #[test]
    fn a_document_without_a_required_column_is_refused() {
        let err = parse_reimbursements("approval-date\treason\n2026-01-01\tX\n").unwrap_err();
        assert!(err.contains("reimbursement-id"), "{err}");
        assert!(parse_ledger("Foo\tBar\n", DateOrder::MonthFirst).is_err());
    }

    const LEDGER_US: &str = "\"Date\"\t\"FNSKU\"\t\"ASIN\"\t\"MSKU\"\t\"Title\"\t\"Event Type\"\t\"Reference ID\"\t\"Quantity\"\t\"Fulfillment Center\"\t\"Disposition\"\t\"Reason\"\t\"Country\"\t\"Reconciled Quantity\"\t\"Unreconciled Quantity\"\n\
\"11/21/2023\"\t\"X001\"\t\"B001\"\t\"SKU1\"\t\"Mug 12\"\" tall\"\t\"Adjustments\"\t\"555\"\t\"-2\"\t\"PHX7\"\t\"SELLABLE\"\t\"M\"\t\"US\"\t\"0\"\t\"2\"\n\
\"11/22/2023\"\t\"X001\"\t\"B001\"\t\"SKU1\"\t\"Mug\"\t\"Adjustments\"\t\"556\"\t\"1\"\t\"PHX7\"\t\"SELLABLE\"\t\"F\"\t\"US\"\t\t\n\
\"11/22/2023\"\t\"X001\"\t\"B001\"\t\"SKU1\"\t\"Mug\"\t\"Shipments\"\t\"\"\t\"1,200\"\t\"PHX7\"\t\"SELLABLE\"\t\"\"\t\"US\"\t\t\n\
\"11/22/2023\"\t\"X001\"\t\"B001\"\t\"SKU1\"\t\"Mug\"\t\"Shipments\"\t\"\"\t\"x\"\t\"PHX7\"\t\"SELLABLE\"\t\"\"\t\"US\"\t\t\n";

    #[test]
    fn ledger_rows_read_with_either_header_spelling() {
        let p = parse_ledger(LEDGER_US, DateOrder::DayFirst).unwrap();
        assert_eq!(p.rows.len(), 3);
        assert_eq!(p.problems.len(), 1);
        let lost = &p.rows[0];
        assert_eq!(lost.date, NaiveDate::from_ymd_opt(2023, 11, 21).unwrap());
        assert_eq!(lost.quantity, -2);
        assert_eq!(lost.reason.as_deref(), Some("M"));
        assert_eq!(lost.title.as_deref(), Some("Mug 12\" tall"));
        assert_eq!(lost.unreconciled_quantity, Some(2));
        assert_eq!(p.rows[2].quantity, 1200);
        let compact = "Date\tFNSKU\tMSKU\tEventType\tReferenceID\tQuantity\tReason\n2026-10-01\tX1\tS1\tAdjustments\t9\t-1\tE\n";
        let c = parse_ledger(compact, DateOrder::MonthFirst).unwrap();
        assert_eq!(c.rows[0].event_type, "Adjustments");
        assert_eq!(c.rows[0].reference_id.as_deref(), Some("9"));
    }

    #[test]
    fn slash_dates_follow_the_document_and_refuse_ambiguity() {
        let doc = |dates: &[&str]| {
            let mut s = String::from("Date\tEvent Type\tQuantity\n");
            for d in dates {
                s.push_str(&format!("{d}\tReceipts\t1\n"));
            }
            s
        };
        let day_first =
            parse_ledger(&doc(&["25/03/2026", "04/03/2026"]), DateOrder::MonthFirst).unwrap();
        assert_eq!(
            day_first.rows[1].date,
            NaiveDate::from_ymd_opt(2026, 3, 4).unwrap()
        );
        let unknown = parse_ledger(&doc(&["04/03/2026"]), DateOrder::MonthFirst).unwrap();
        assert_eq!(
            unknown.rows[0].date,
            NaiveDate::from_ymd_opt(2026, 4, 3).unwrap()
        );
        assert!(parse_ledger(&doc(&["25/03/2026", "03/25/2026"]), DateOrder::MonthFirst).is_err());
    }

    #[test]
    fn the_writer_round_trips_through_the_parser() {
        let text = write_tsv(
            &LEDGER_COLUMNS,
            std::iter::once(vec![
                "2026-10-01".into(),
                "X1".into(),
                "B1".into(),
                "S1".into(),
                "Tab\there".into(),
                "Receipts".into(),
                "FBA15".into(),
                "10".into(),
                "PHX7".into(),
                "SELLABLE".into(),
                "".into(),
                "US".into(),
                "".into(),
                "".into(),
            ]),
        );
        let p = parse_ledger(&text, DateOrder::MonthFirst).unwrap();
        assert_eq!(p.rows[0].title.as_deref(), Some("Tab here"));
        assert_eq!(p.rows[0].quantity, 10);
    }
}
