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
    /// Keys that matched no item, once each, in file order.
    pub skus_not_found: Vec<String>,
    /// Rows skipped with the reason; the rest were imported.
    pub errors: Vec<CsvRowProblem>,
    /// Rows imported with a remark, e.g. a duplicate key (the last row wins).
    pub warnings: Vec<CsvRowProblem>,
    /// What changes, old → new (at most 5,000 entries; counts stay exact).
    pub preview: Vec<CsvChange>,
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
            errors: r.errors.into_iter().map(Into::into).collect(),
            warnings: r.warnings.into_iter().map(Into::into).collect(),
            preview: r.preview.into_iter().map(Into::into).collect(),
            push_queued: r.push_queued,
            push_waiting: r.push_waiting,
        }
    }
}
