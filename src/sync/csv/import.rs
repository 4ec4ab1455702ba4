//! One CSV import from upload to committed transaction: parse off the async runtime,
//! match keys to items (code exact, then name exact, then trimmed case-insensitive name —
//! the Jobber `Part_Num` = product name flow), then either preview (dry run: nothing
//! written) or apply atomically and record a `csv_import` run.
//!
//! Item costs: costs change locally, the links on the connection become `pending_push`
//! and a queued `csv_import` run pushes them (the job system runs it with per-item events
//! and retries; a failed push leaves the links pending, never lost). Vendor prices: local
//! only, upserted, and the run is recorded as already finished.

use super::parse::{self, Mapping, Options, Parsed, Problem, Row, Target};
use crate::error::{AppError, AppResult};
use crate::store::{self, Db, csv_import as q, runs::NewRun};
use crate::sync::progress::{Counters, RunEvent};
use entity::enums::{RunMode, RunStatus, RunTrigger};
use entity::{Money, sync_run};
use std::collections::{HashMap, HashSet};

/// Largest file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;
/// Preview entries returned at most (counts stay exact).
const MAX_PREVIEW: usize = 5_000;
/// Row errors also stored as run events at most.
const MAX_ERROR_EVENTS: usize = 1_000;

pub struct ImportRequest {
    pub account_id: i64,
    pub user_id: Option<i64>,
    /// Who, for the audit log (an email, or "cli").
    pub actor: String,
    pub connection_id: Option<i64>,
    pub target: Target,
    pub mapping: Option<serde_json::Value>,
    pub dry_run: bool,
    pub trigger: RunTrigger,
    /// `Queued` for the job system (the server), `Running` when the caller executes the
    /// push itself (the CLI).
    pub push_status: RunStatus,
    pub file_name: Option<String>,
}

/// One change an import makes (or would make, in a dry run).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Change {
    pub key: String,
    pub item_id: i64,
    pub code: String,
    pub field: &'static str,
    pub old: Option<String>,
    pub new: String,
}

#[derive(Debug)]
pub struct ImportReport {
    /// The recorded run (absent for a dry run).
    pub run: Option<sync_run::Model>,
    pub connection_id: i64,
    pub rows: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skus_not_found: Vec<String>,
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
    pub preview: Vec<Change>,
    /// Whether the run still has a push to do (item costs that changed).
    pub push_queued: bool,
    /// Costs changed but the connection must be reconnected first (NOT_CONNECTED or
    /// NEEDS_REAUTH): the items stay pending and the first run after reconnecting
    /// pushes them.
    pub push_waiting: bool,
}

impl ImportReport {
    /// The summary stored on the run; the run's counters come from it too.
    fn summary(&self, target: Target) -> serde_json::Value {
        serde_json::json!({
            "import": {
                "target": match target { Target::ItemCosts => "item_costs", Target::VendorPrices => "vendor_prices" },
                "rows": self.rows,
                "updated": self.updated,
                "unchanged": self.unchanged,
                "skusNotFound": self.skus_not_found.len(),
                "skusNotFoundSample": self.skus_not_found.iter().take(50).collect::<Vec<_>>(),
                "errors": self.errors.len(),
                "warnings": self.warnings.len(),
                "counters": self.counters(),
            }
        })
    }

    fn counters(&self) -> Counters {
        Counters {
            fetched: self.rows as i64,
            updated: self.updated as i64,
            skipped: (self.unchanged + self.skus_not_found.len()) as i64,
            errors: self.errors.len() as i64,
            ..Default::default()
        }
    }
}

/// The counters an import recorded on its run (the push adds its own to them).
pub fn import_counters(summary: &serde_json::Value) -> Counters {
    serde_json::from_value(summary["import"]["counters"].clone()).unwrap_or_default()
}

/// Parses, matches and — unless a dry run — applies one file.
pub async fn import(db: &Db, bytes: Vec<u8>, req: ImportRequest) -> AppResult<ImportReport> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let connection = resolve_connection(db, req.account_id, req.connection_id).await?;
    let options = Options {
        target: req.target,
        mapping: Mapping::from_json(req.mapping.as_ref())?,
        today: chrono::Utc::now().date_naive(),
    };
    // CPU work: off the async runtime.
    let parsed = tokio::task::spawn_blocking(move || parse::parse(&bytes, &options))
        .await
        .map_err(AppError::internal)??;
    let scope = req.connection_id.map(|_| connection.id);
    let candidates = q::candidates(db, req.account_id, scope).await?;
    let index = KeyIndex::new(&candidates);
    let mut report = ImportReport {
        run: None,
        connection_id: connection.id,
        rows: parsed.data_rows,
        updated: 0,
        unchanged: 0,
        skus_not_found: Vec::new(),
        errors: parsed.errors.clone(),
        warnings: parsed.warnings.clone(),
        preview: Vec::new(),
        push_queued: false,
        push_waiting: false,
    };
    let matched = match_rows(&parsed, &index, &mut report);
    match req.target {
        Target::ItemCosts => apply_costs(db, &req, &connection, &candidates, matched, report).await,
        Target::VendorPrices => {
            apply_vendor_prices(db, &req, &connection, &candidates, matched, report).await
        }
    }
}

fn too_large() -> AppError {
    AppError::bad_input(format!(
        "the file is larger than {} MB",
        MAX_FILE_BYTES / 1024 / 1024
    ))
}

/// The given connection, or the account's only one.
async fn resolve_connection(
    db: &Db,
    account_id: i64,
    connection_id: Option<i64>,
) -> AppResult<entity::connection::Model> {
    if let Some(id) = connection_id {
        return store::connections::get(db, account_id, id).await;
    }
    let all = store::connections::list(
        db,
        account_id,
        &store::page::PageArgs {
            first: Some(2),
            ..Default::default()
        },
    )
    .await?;
    match all.rows.as_slice() {
        [(_, only)] => Ok(only.clone()),
        [] => Err(AppError::bad_input(
            "no connection to import into: connect a system first",
        )),
        _ => Err(AppError::bad_input(
            "connectionId is required: the account has several connections",
        )),
    }
}

/// Items by code, by exact name and by trimmed lowercase name (several per key when
/// ambiguous).
struct KeyIndex<'a> {
    by_code: HashMap<&'a str, Vec<usize>>,
    by_name: HashMap<&'a str, Vec<usize>>,
    by_loose_name: HashMap<String, Vec<usize>>,
}

impl<'a> KeyIndex<'a> {
    fn new(items: &'a [q::Candidate]) -> Self {
        let mut ix = KeyIndex {
            by_code: HashMap::with_capacity(items.len()),
            by_name: HashMap::with_capacity(items.len()),
            by_loose_name: HashMap::with_capacity(items.len()),
        };
        for (i, it) in items.iter().enumerate() {
            ix.by_code.entry(it.code.as_str()).or_default().push(i);
            ix.by_name.entry(it.name.as_str()).or_default().push(i);
            ix.by_loose_name
                .entry(it.name.trim().to_lowercase())
                .or_default()
                .push(i);
        }
        ix
    }

    /// The first tier that knows the key decides; several items there is ambiguous.
    fn find(&self, key: &str) -> Result<Option<usize>, usize> {
        let tiers = [
            self.by_code.get(key),
            self.by_name.get(key),
            self.by_loose_name.get(key.trim().to_lowercase().as_str()),
        ];
        match tiers.into_iter().flatten().next() {
            None => Ok(None),
            Some(v) if v.len() == 1 => Ok(Some(v[0])),
            Some(v) => Err(v.len()),
        }
    }
}

/// Valid rows with the item each one matched (index into the candidates).
fn match_rows<'p>(
    parsed: &'p Parsed,
    index: &KeyIndex<'_>,
    report: &mut ImportReport,
) -> Vec<(&'p Row, usize)> {
    let mut not_found = HashSet::new();
    let mut matched = Vec::with_capacity(parsed.rows.len());
    for row in &parsed.rows {
        match index.find(&row.key) {
            Ok(Some(i)) => matched.push((row, i)),
            Ok(None) => {
                if not_found.insert(row.key.as_str()) {
                    report.skus_not_found.push(row.key.clone());
                }
            }
            Err(n) => report.errors.push(Problem {
                line: Some(row.line),
                column: Some(parsed.key_column),
                message: format!(
                    "'{}' matches {n} items (by code or name); use a unique code",
                    row.key
                ),
            }),
        }
    }
    report.errors.sort_by_key(|p| (p.line, p.column));
    matched
}

async fn apply_costs(
    db: &Db,
    req: &ImportRequest,
    connection: &entity::connection::Model,
    candidates: &[q::Candidate],
    matched: Vec<(&Row, usize)>,
    mut report: ImportReport,
) -> AppResult<ImportReport> {
    // Different keys (a code and a name) may reach one item: the last row wins.
    let mut by_item: HashMap<usize, &Row> = HashMap::new();
    let mut order = Vec::new();
    for (row, i) in matched {
        if let Some(earlier) = by_item.insert(i, row) {
            report.warnings.push(Problem {
                line: Some(row.line),
                column: None,
                message: format!(
                    "lines {} and {} both set the cost of {}: line {} wins",
                    earlier.line, row.line, candidates[i].code, row.line
                ),
            });
        } else {
            order.push(i);
        }
    }
    let mut costs: Vec<(i64, Money)> = Vec::new();
    let cost_owned = crate::sync::policy::refuses_edits_anywhere(&connection.sync_policy, "cost");
    for i in order {
        let row = by_item[&i];
        let item = &candidates[i];
        let new = Money::new(row.amount);
        if item.cost == Some(new) {
            report.unchanged += 1;
            continue;
        }
        if cost_owned {
            report.errors.push(Problem {
                line: Some(row.line),
                column: None,
                message: format!(
                    "cost of {} is owned by connection \"{}\" (sync policy REMOTE_OWNS): not imported",
                    item.code, connection.name
                ),
            });
            continue;
        }
        report.updated += 1;
        costs.push((item.id, new));
        if report.preview.len() < MAX_PREVIEW {
            report.preview.push(Change {
                key: row.key.clone(),
                item_id: item.id,
                code: item.code.clone(),
                field: "cost",
                old: item.cost.map(|m| m.display_amount().to_string()),
                new: new.display_amount().to_string(),
            });
        }
    }
    if req.dry_run {
        return Ok(report);
    }
    let now = chrono::Utc::now();
    let txn = store::db::begin_write(db).await?;
    q::set_costs(&txn, req.account_id, &costs, now).await?;
    let ids: Vec<i64> = costs.iter().map(|(id, _)| *id).collect();
    let owing = q::mark_pending_push(&txn, connection.id, &ids, now).await?;
    // Nothing to push, or nobody to push to yet: the run is history only and ends at once.
    let waiting = owing > 0 && connection.health.needs_connecting();
    let status = if owing > 0 && !waiting {
        if let Some(active) = store::runs::active_for_connection(&txn, connection.id).await? {
            return Err(AppError::SyncInProgress { run_id: active.id });
        }
        req.push_status
    } else {
        RunStatus::Succeeded
    };
    let run = record_run(&txn, req, connection.id, status, &report).await?;
    txn.commit().await?;
    report.push_queued = owing > 0 && !waiting;
    report.push_waiting = waiting;
    report.run = Some(run);
    Ok(report)
}

async fn apply_vendor_prices(
    db: &Db,
    req: &ImportRequest,
    connection: &entity::connection::Model,
    candidates: &[q::Candidate],
    matched: Vec<(&Row, usize)>,
    mut report: ImportReport,
) -> AppResult<ImportReport> {
    let vendors: Vec<String> = matched
        .iter()
        .map(|(r, _)| r.vendor.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let existing: HashMap<q::VendorPriceKey, Money> =
        q::vendor_prices_of_vendors(db, req.account_id, &vendors)
            .await?
            .into_iter()
            .collect();
    // Keyed by the stored identity: two keys reaching one item and vendor SKU, last wins.
    let mut upserts: Vec<(q::VendorPriceKey, Money, usize, &Row)> =
        Vec::with_capacity(matched.len());
    let mut at: HashMap<q::VendorPriceKey, (usize, u64)> = HashMap::new();
    for (row, i) in matched {
        let item = &candidates[i];
        let key = (
            item.id,
            row.vendor.clone(),
            row.vendor_sku.clone(),
            row.effective_date,
        );
        let price = Money::new(row.amount);
        if let Some(&(pos, earlier)) = at.get(&key) {
            report.warnings.push(Problem {
                line: Some(row.line),
                column: None,
                message: format!(
                    "lines {earlier} and {} both price {} from {}: line {} wins",
                    row.line, item.code, row.vendor, row.line
                ),
            });
            upserts[pos].1 = price;
            upserts[pos].3 = row;
            continue;
        }
        at.insert(key.clone(), (upserts.len(), row.line));
        upserts.push((key, price, i, row));
    }
    let mut changed = Vec::with_capacity(upserts.len());
    for (key, price, i, row) in upserts {
        let old = existing.get(&key).copied();
        if old == Some(price) {
            report.unchanged += 1;
            continue;
        }
        report.updated += 1;
        if report.preview.len() < MAX_PREVIEW {
            report.preview.push(Change {
                key: row.key.clone(),
                item_id: key.0,
                code: candidates[i].code.clone(),
                field: "vendorPrice",
                old: old.map(|m| m.display_amount().to_string()),
                new: price.display_amount().to_string(),
            });
        }
        changed.push((key, price));
    }
    if req.dry_run {
        return Ok(report);
    }
    let txn = store::db::begin_write(db).await?;
    let run = record_run(&txn, req, connection.id, RunStatus::Succeeded, &report).await?;
    q::upsert_vendor_prices(
        &txn,
        req.account_id,
        Some(run.id),
        &changed,
        chrono::Utc::now(),
    )
    .await?;
    txn.commit().await?;
    report.run = Some(run);
    Ok(report)
}

/// The `csv_import` run, its row errors as events, and the audit entry — inside the
/// import's transaction. A run that has nothing to push is recorded as finished.
async fn record_run(
    txn: &sea_orm::DatabaseTransaction,
    req: &ImportRequest,
    connection_id: i64,
    status: RunStatus,
    report: &ImportReport,
) -> AppResult<sync_run::Model> {
    let summary = report.summary(req.target);
    let run = store::runs::create(
        txn,
        NewRun {
            account_id: req.account_id,
            connection_id,
            mode: RunMode::CsvImport,
            trigger: req.trigger,
            dry_run: false,
            params: serde_json::json!({ "fileName": req.file_name, "target": summary["import"]["target"] }),
            requested_by: req.user_id,
            status,
        },
    )
    .await?;
    store::runs::save_checkpoint(txn, run.id, serde_json::json!({})).await?;
    let events: Vec<RunEvent> = report
        .errors
        .iter()
        .take(MAX_ERROR_EVENTS)
        .map(|p| {
            let mut e = RunEvent::error("csv_row_error", p.message.clone());
            e.details = serde_json::json!({ "line": p.line, "column": p.column });
            e
        })
        .collect();
    store::sync_state::insert_events(txn, req.account_id, connection_id, run.id, events).await?;
    let counters = report.counters();
    let run = if status == RunStatus::Succeeded {
        store::runs::finish(
            txn,
            run.id,
            store::runs::Finish {
                status,
                stage: "imported",
                counters,
                summary: summary.clone(),
                error: None,
            },
        )
        .await?
    } else {
        store::runs::save_progress(txn, run.id, "imported; push queued", 0, &counters).await?;
        store::runs::save_summary(txn, run.id, summary.clone()).await?;
        store::runs::get(txn, req.account_id, run.id).await?
    };
    store::audit::record_raw(
        txn,
        req.account_id,
        req.user_id,
        &req.actor,
        "csv.import",
        Some(("sync_run", run.id.to_string())),
        serde_json::json!({ "fileName": req.file_name, "summary": summary["import"] }),
    )
    .await?;
    Ok(run)
}
