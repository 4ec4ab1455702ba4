//! What `uploadCsv` answers.

use crate::sync::csv::import::{Change, ImportReport};
use crate::sync::csv::parse::{Problem, Target};
use async_graphql::{Enum, ID, SimpleObject};

/// What a CSV file holds.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum CsvTarget {
    /// Update item unit costs (code/SKU or product name) and push them upstream.
    ItemCosts,
    /// Local vendor price list (vendor, vendor SKU, price, effective date); never pushed.
    VendorPrices,
}

/// How a CSV file writes decimals. Without it the file's cells decide (`12,5` shows a
/// decimal comma); a cell that could be read either way (`1.500`, `1,500`) is then an
/// error on its line.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum DecimalSeparator {
    /// `1,234.50`
    Point,
    /// `1.234,50`
    Comma,
}

impl DecimalSeparator {
    /// As the mapping JSON's `decimalSeparator` writes it.
    pub fn as_mapping_value(self) -> &'static str {
        match self {
            Self::Point => ".",
            Self::Comma => ",",
        }
    }
}

impl From<CsvTarget> for Target {
    fn from(t: CsvTarget) -> Self {
        match t {
            CsvTarget::ItemCosts => Target::ItemCosts,
            CsvTarget::VendorPrices => Target::VendorPrices,
        }
    }
}

/// A problem with one row (or, without a line, with the whole file).
#[derive(SimpleObject, Clone)]
pub struct CsvRowProblem {
    /// Physical line of the file; the header is line 1.
    pub line: Option<i64>,
    /// 1-based column.
    pub column: Option<i32>,
    /// What is wrong, e.g. `not a number: "12,5x"`.
    pub message: String,
}

impl From<Problem> for CsvRowProblem {
    fn from(p: Problem) -> Self {
        CsvRowProblem {
            line: p.line.map(|l| l as i64),
            column: p.column.map(|c| c as i32),
            message: p.message,
        }
    }
}

/// One change (made, or that a dry run would make).
#[derive(SimpleObject, Clone)]
pub struct CsvChange {
    /// The key as the file wrote it (code, SKU or product name).
    pub key: String,
    /// The matched item.
    pub item_id: ID,
    /// The matched item's code.
    pub code: String,
    /// `cost` or `vendorPrice`.
    pub field: String,
    /// Decimal strings; `old` is null when there was none.
    pub old: Option<String>,
    /// The new value (decimal string).
    pub new: String,
}

impl From<Change> for CsvChange {
    fn from(c: Change) -> Self {
        CsvChange {
            key: c.key,
            item_id: c.item_id.into(),
            code: c.code,
            field: c.field.to_owned(),
            old: c.old,
            new: c.new,
        }
    }
}

/// What a CSV import did (or would do, in a dry run).
#[derive(SimpleObject, Clone)]
pub struct CsvImportResult {
    /// The `csv_import` run recording the import (and pushing item costs); null for a dry run.
    pub run_id: Option<ID>,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// The connection the import was for.
    pub connection_id: ID,
    /// Non-blank data rows read.
    pub rows: i64,
    /// Items (or vendor prices) changed — or that would change, in a dry run.
    pub updated: i64,
    /// Rows whose value was already stored.
    pub unchanged: i64,
    /// Keys that matched no item, once each, in file order (the first 1,000).
    pub skus_not_found: Vec<String>,
    /// How many keys matched no item (`skusNotFound` lists the first 1,000).
    pub skus_not_found_count: i64,
    /// Rows skipped with the reason; the rest were imported. The first 1,000, in file
    /// order; `errorCount` has them all.
    pub errors: Vec<CsvRowProblem>,
    /// How many rows were skipped with an error.
    pub error_count: i64,
    /// Rows imported with a remark — a duplicate key (the last row wins), encoding, mixed
    /// decimal separators: the first 1,000; `warningCount` has them all.
    pub warnings: Vec<CsvRowProblem>,
    /// How many rows were imported with a remark.
    pub warning_count: i64,
    /// What changes, old → new: the first 5,000 changes; `updated` counts them all.
    pub preview: Vec<CsvChange>,
    /// Whether more changed than `preview` lists.
    pub preview_capped: bool,
    /// Whether a push of the changed costs was queued as the run.
    pub push_queued: bool,
    /// Costs changed locally, but the connection must be reconnected before anything can
    /// be pushed (health NOT_CONNECTED or NEEDS_REAUTH): the items stay PENDING_PUSH and
    /// the first run after reconnecting pushes them.
    pub push_waiting: bool,
}

impl From<ImportReport> for CsvImportResult {
    fn from(r: ImportReport) -> Self {
        CsvImportResult {
            run_id: r.run.as_ref().map(|run| run.id.into()),
            dry_run: r.run.is_none(),
            connection_id: r.connection_id.into(),
            rows: r.rows as i64,
            updated: r.updated as i64,
            unchanged: r.unchanged as i64,
            skus_not_found: r.skus_not_found,
            skus_not_found_count: r.skus_not_found_count as i64,
            errors: r.errors.into_iter().map(Into::into).collect(),
            error_count: r.error_count as i64,
            warnings: r.warnings.into_iter().map(Into::into).collect(),
            warning_count: r.warning_count as i64,
            preview: r.preview.into_iter().map(Into::into).collect(),
            preview_capped: r.preview_capped,
            push_queued: r.push_queued,
            push_waiting: r.push_waiting,
        }
    }
}
