//! One CSV import from upload to committed transaction, streamed: the file is parsed off
//! the async runtime in batches of rows, each batch matched (code exact, then name exact,
//! then trimmed case-insensitive name — the Jobber `Part_Num` = product name flow) and
//! applied or previewed before the next is parsed, so memory follows the database's items
//! and one batch, not the file's rows. Lists in the report are capped (their counts stay
//! exact): errors, warnings, unknown keys, and the preview of changes.
//!
//! Item costs: what each item ends up with is kept per item, then costs change locally in
//! one short transaction, the links on the connection become `pending_push` and a queued
//! `csv_import` run pushes them (the job system runs it with per-item events and retries; a
//! failed push leaves the links pending, never lost). Vendor prices: local only, upserted
//! batch by batch inside one transaction that also records the (finished) run.

use super::parse::{self, FileInfo, Mapping, Options, Problem, Row, Target};
use crate::error::{AppError, AppResult};
use crate::store::{self, Db, csv_import as q, runs::NewRun};
use crate::sync::progress::{Counters, RunEvent};
use entity::enums::{RunMode, RunStatus, RunTrigger};
use entity::{Money, sync_run};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash, RandomState};

/// Largest file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;
/// Preview entries returned at most (counts stay exact; `preview_capped` says so).
pub const MAX_PREVIEW: usize = 5_000;
/// Errors, warnings and unknown keys listed at most (their counts stay exact).
pub const MAX_LISTED: usize = 1_000;
/// Row errors also stored as run events at most.
const MAX_ERROR_EVENTS: usize = 1_000;
/// Rows parsed, matched and applied at a time.
const BATCH_ROWS: usize = 2_000;

pub struct ImportRequest {
    pub account_id: i64,
    pub user_id: Option<i64>,
    /// Who, for the audit log (an email, or "cli").
    pub actor: String,
    pub connection_id: Option<i64>,
    pub target: Target,
    /// The header mapping JSON (may also carry `decimalSeparator`).
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

#[derive(Debug, Default)]
pub struct ImportReport {
    /// The recorded run (absent for a dry run).
    pub run: Option<sync_run::Model>,
    pub connection_id: i64,
    pub rows: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Keys that matched no item, once each, in file order: the first [`MAX_LISTED`].
    pub skus_not_found: Vec<String>,
    pub skus_not_found_count: usize,
    /// The first [`MAX_LISTED`] row errors, in file order.
    pub errors: Vec<Problem>,
    pub error_count: usize,
    pub warnings: Vec<Problem>,
    pub warning_count: usize,
    /// The first [`MAX_PREVIEW`] changes.
    pub preview: Vec<Change>,
    /// Whether more changed than `preview` lists.
    pub preview_capped: bool,
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
                "skusNotFound": self.skus_not_found_count,
                "skusNotFoundSample": self.skus_not_found.iter().take(50).collect::<Vec<_>>(),
                "errors": self.error_count,
                "warnings": self.warning_count,
                "counters": self.counters(),
            }
        })
    }

    fn counters(&self) -> Counters {
        Counters {
            fetched: self.rows as i64,
            updated: self.updated as i64,
            skipped: (self.unchanged + self.skus_not_found_count) as i64,
            errors: self.error_count as i64,
            ..Default::default()
        }
    }

    fn error(&mut self, p: Problem) {
        self.error_count += 1;
        if self.errors.len() < MAX_LISTED {
            self.errors.push(p);
        }
    }

    fn warning(&mut self, p: Problem) {
        self.warning_count += 1;
        if self.warnings.len() < MAX_LISTED {
            self.warnings.push(p);
        }
    }

    /// Adds a change to the preview; its index there, unless the preview is full.
    fn preview(&mut self, change: Change) -> Option<usize> {
        (self.preview.len() < MAX_PREVIEW).then(|| {
            self.preview.push(change);
            self.preview.len() - 1
        })
    }
}

/// `mapping` with `decimalSeparator` set (`"."` or `","`), for callers that take the
/// separator as its own option. A mapping that already names a different one is refused.
pub fn mapping_with_decimal_separator(
    mapping: Option<serde_json::Value>,
    separator: Option<&str>,
) -> AppResult<Option<serde_json::Value>> {
    let Some(sep) = separator else {
        return Ok(mapping);
    };
    let mut value = mapping
        .filter(|m| !m.is_null())
        .unwrap_or_else(|| serde_json::json!({}));
    let Some(obj) = value.as_object_mut() else {
        // Mapping::from_json explains what a mapping must look like.
        return Ok(Some(value));
    };
    match obj.get("decimalSeparator").and_then(|v| v.as_str()) {
        Some(given)
            if crate::money::DecimalSeparator::parse(given)
                != crate::money::DecimalSeparator::parse(sep) =>
        {
            return Err(AppError::bad_input(format!(
                "decimalSeparator '{sep}' contradicts mapping.decimalSeparator '{given}'"
            )));
        }
        _ => {
            obj.insert("decimalSeparator".into(), sep.into());
        }
    }
    Ok(Some(value))
}

/// The counters an import recorded on its run (the push adds its own to them).
pub fn import_counters(summary: &serde_json::Value) -> Counters {
    serde_json::from_value(summary["import"]["counters"].clone()).unwrap_or_default()
}

/// What the parser hands over: first the file's header facts, then batches of rows.
enum Parsing {
    Opened(FileInfo),
    Batch(parse::Batch),
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
    let scope = req.connection_id.map(|_| connection.id);
    let candidates = q::candidates(db, req.account_id, scope).await?;
    // CPU work off the async runtime, one batch ahead of the matching and writing.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Parsing>(1);
    let parser = tokio::task::spawn_blocking(move || -> AppResult<()> {
        let (text, encoding) = parse::decode_owned(bytes);
        let mut stream = parse::RowStream::open(&text, encoding, &options)?;
        if tx
            .blocking_send(Parsing::Opened(stream.info().clone()))
            .is_err()
        {
            return Ok(());
        }
        while let Some(batch) = stream.next_batch(BATCH_ROWS) {
            if tx.blocking_send(Parsing::Batch(batch)).is_err() {
                break;
            }
        }
        Ok(())
    });
    let Some(Parsing::Opened(info)) = rx.recv().await else {
        // The parser stopped before the header was understood: its error says why.
        parser.await.map_err(AppError::internal)??;
        return Err(AppError::internal("the CSV parser stopped early"));
    };
    let batches = Batches { rx: &mut rx };
    let mut m = Matcher {
        target: req.target,
        index: KeyIndex::new(&candidates),
        candidates: &candidates,
        info: &info,
        hasher: WideHasher::default(),
        unmatched: HashMap::new(),
        listed_keys: HashSet::new(),
        report: ImportReport {
            connection_id: connection.id,
            rows: info.data_rows,
            ..Default::default()
        },
    };
    let report = match req.target {
        Target::ItemCosts => apply_costs(db, &req, &connection, batches, &mut m).await,
        Target::VendorPrices => apply_vendor_prices(db, &req, &connection, batches, &mut m).await,
    };
    drop(rx);
    parser.await.map_err(AppError::internal)??;
    report
}

/// The parser's batches, in file order.
struct Batches<'a> {
    rx: &'a mut tokio::sync::mpsc::Receiver<Parsing>,
}

impl Batches<'_> {
    async fn next(&mut self) -> Option<parse::Batch> {
        loop {
            match self.rx.recv().await? {
                Parsing::Batch(b) => return Some(b),
                Parsing::Opened(_) => continue,
            }
        }
    }
}

/// 128 bits of a value, for telling rows apart without keeping their text (two different
/// keys meeting is a 2^-128 chance).
type Fingerprint = (u64, u64);

struct WideHasher(RandomState, RandomState);

impl Default for WideHasher {
    fn default() -> Self {
        WideHasher(RandomState::new(), RandomState::new())
    }
}

impl WideHasher {
    fn of(&self, value: impl Hash + Copy) -> Fingerprint {
        (self.0.hash_one(value), self.1.hash_one(value))
    }
}

/// Matches each batch's rows to items and keeps the report's lists.
struct Matcher<'a> {
    target: Target,
    index: KeyIndex<'a>,
    candidates: &'a [q::Candidate],
    info: &'a FileInfo,
    hasher: WideHasher,
    /// Rows that matched no item: where each (key, vendor, vendor SKU, date) was last seen.
    unmatched: HashMap<Fingerprint, u32>,
    /// Unknown keys already listed (vendor prices; for item costs a key is the identity).
    listed_keys: HashSet<Fingerprint>,
    report: ImportReport,
}

/// Where a row went.
enum Matched<'r> {
    Item(&'r Row, usize),
    /// Not an item (unknown or ambiguous key); already reported.
    None,
}

impl<'a> Matcher<'a> {
    /// The rows of one batch with the item each one matched; unknown and ambiguous keys
    /// are reported here.
    fn match_batch<'r>(
        &mut self,
        rows: &'r [Row],
        errors: &mut Vec<Problem>,
        warnings: &mut Vec<Problem>,
    ) -> Vec<Matched<'r>> {
        let mut matched = Vec::with_capacity(rows.len());
        for row in rows {
            match self.index.find(&row.key) {
                Ok(Some(i)) => matched.push(Matched::Item(row, i)),
                Ok(None) => {
                    let key = self.hasher.of(row.key.as_str());
                    let identity = match self.target {
                        Target::ItemCosts => key,
                        Target::VendorPrices => self.hasher.of((
                            row.key.as_str(),
                            row.vendor.as_str(),
                            row.vendor_sku.as_str(),
                            row.effective_date,
                        )),
                    };
                    let earlier = self.unmatched.insert(identity, line_u32(row.line));
                    if let Some(earlier) = earlier {
                        warnings.push(parse::duplicate_warning(
                            self.info,
                            &row.key,
                            u64::from(earlier),
                            row.line,
                        ));
                    }
                    let new_key = match self.target {
                        Target::ItemCosts => earlier.is_none(),
                        Target::VendorPrices => self.listed_keys.insert(key),
                    };
                    if new_key {
                        self.report.skus_not_found_count += 1;
                        if self.report.skus_not_found.len() < MAX_LISTED {
                            self.report.skus_not_found.push(row.key.clone());
                        }
                    }
                    matched.push(Matched::None);
                }
                Err(n) => {
                    errors.push(Problem::at(
                        row.line,
                        Some(self.info.key_column),
                        format!(
                            "'{}' matches {n} items (by code or name); use a unique code",
                            row.key
                        ),
                    ));
                    matched.push(Matched::None);
                }
            }
        }
        matched
    }

    /// Hands a batch's problems to the report, in line order.
    fn report_problems(&mut self, errors: &mut Vec<Problem>, warnings: &mut Vec<Problem>) {
        errors.sort_by_key(|p| (p.line, p.column));
        warnings.sort_by_key(|p| (p.line, p.column));
        for p in errors.drain(..) {
            self.report.error(p);
        }
        for p in warnings.drain(..) {
            self.report.warning(p);
        }
    }

    /// The warning for a later row replacing an earlier one on the same target.
    fn replaced(
        &self,
        key: &str,
        same_key: bool,
        earlier: u64,
        line: u64,
        what: String,
    ) -> Problem {
        if same_key {
            parse::duplicate_warning(self.info, key, earlier, line)
        } else {
            Problem {
                line: Some(line),
                column: None,
                message: format!("lines {earlier} and {line} both {what}: line {line} wins"),
            }
        }
    }
}

/// Line numbers as kept per row of a large file (a 16 MB file has fewer than 2^32 lines).
fn line_u32(line: u64) -> u32 {
    u32::try_from(line).unwrap_or(u32::MAX)
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

/// What one item's cost ends up as: the last row that set it.
struct CostPick {
    line: u64,
    key: String,
    amount: Money,
}

async fn apply_costs(
    db: &Db,
    req: &ImportRequest,
    connection: &entity::connection::Model,
    mut batches: Batches<'_>,
    m: &mut Matcher<'_>,
) -> AppResult<ImportReport> {
    // Bounded by the account's items, whatever the file holds.
    let mut picks: HashMap<usize, CostPick> = HashMap::new();
    let mut order = Vec::new();
    while let Some(mut batch) = batches.next().await {
        let matched = m.match_batch(&batch.rows, &mut batch.errors, &mut batch.warnings);
        for entry in matched {
            let Matched::Item(row, i) = entry else {
                continue;
            };
            let pick = CostPick {
                line: row.line,
                key: row.key.clone(),
                amount: Money::new(row.amount),
            };
            match picks.insert(i, pick) {
                Some(earlier) => batch.warnings.push(m.replaced(
                    &row.key,
                    earlier.key == row.key,
                    earlier.line,
                    row.line,
                    format!("set the cost of {}", m.candidates[i].code),
                )),
                None => order.push(i),
            }
        }
        m.report_problems(&mut batch.errors, &mut batch.warnings);
    }
    let report = &mut m.report;
    let mut costs: Vec<(i64, Money)> = Vec::new();
    let cost_owned = crate::sync::policy::refuses_edits_anywhere(&connection.sync_policy, "cost");
    for i in order {
        let pick = &picks[&i];
        let item = &m.candidates[i];
        if item.cost == Some(pick.amount) {
            report.unchanged += 1;
            continue;
        }
        if cost_owned {
            report.error(Problem::at(
                pick.line,
                None,
                format!(
                    "cost of {} is owned by connection \"{}\" (sync policy REMOTE_OWNS): not imported",
                    item.code, connection.name
                ),
            ));
            continue;
        }
        report.updated += 1;
        costs.push((item.id, pick.amount));
        report.preview(Change {
            key: pick.key.clone(),
            item_id: item.id,
            code: item.code.clone(),
            field: "cost",
            old: item.cost.map(|c| c.display_amount().to_string()),
            new: pick.amount.display_amount().to_string(),
        });
    }
    let mut report = std::mem::take(report);
    report.preview_capped = report.updated > report.preview.len();
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
    let run = open_run(&txn, req, connection.id, status).await?;
    let run = close_run(&txn, req, run, &report).await?;
    txn.commit().await?;
    report.push_queued = owing > 0 && !waiting;
    report.push_waiting = waiting;
    report.run = Some(run);
    Ok(report)
}

/// A vendor price the file sets: what was stored before the import and the last row's
/// price. Kept per price the file names (up to one per row), so it stays small: 64 bytes
/// with its fingerprint.
struct PriceState {
    original: Option<Money>,
    last: Money,
    line: u32,
    /// The low half of the row key's fingerprint (only picks a warning's wording).
    key: u32,
    /// 1 + its index in the preview, when it is listed there.
    preview: Option<std::num::NonZeroU32>,
}

impl PriceState {
    fn preview_index(&self) -> Option<usize> {
        self.preview.map(|p| p.get() as usize - 1)
    }
}

fn preview_slot(index: Option<usize>) -> Option<std::num::NonZeroU32> {
    index.and_then(|i| std::num::NonZeroU32::new(u32::try_from(i + 1).ok()?))
}

async fn apply_vendor_prices(
    db: &Db,
    req: &ImportRequest,
    connection: &entity::connection::Model,
    mut batches: Batches<'_>,
    m: &mut Matcher<'_>,
) -> AppResult<ImportReport> {
    // One transaction for the whole file (atomic), written batch by batch; the run is
    // recorded in it first so the prices can name it.
    let txn = if req.dry_run {
        None
    } else {
        Some(store::db::begin_write(db).await?)
    };
    let run = match &txn {
        Some(t) => Some(open_run(t, req, connection.id, RunStatus::Succeeded).await?),
        None => None,
    };
    // Sized once for every row: growing a large table briefly holds the old and the new.
    let mut states: HashMap<Fingerprint, PriceState> = HashMap::with_capacity(m.info.data_rows);
    while let Some(mut batch) = batches.next().await {
        let matched = m.match_batch(&batch.rows, &mut batch.errors, &mut batch.warnings);
        let rows: Vec<(&Row, usize)> = matched
            .into_iter()
            .filter_map(|e| match e {
                Matched::Item(row, i) => Some((row, i)),
                Matched::None => None,
            })
            .collect();
        let candidates = m.candidates;
        let key_of = |row: &Row, i: usize| -> q::VendorPriceKey {
            (
                candidates[i].id,
                row.vendor.clone(),
                row.vendor_sku.clone(),
                row.effective_date,
            )
        };
        // What is stored for the prices this batch meets for the first time.
        let fresh: Vec<q::VendorPriceKey> = rows
            .iter()
            .map(|(row, i)| key_of(row, *i))
            .filter(|k| !states.contains_key(&m.hasher.of(k)))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let stored: HashMap<q::VendorPriceKey, Money> = match &txn {
            Some(t) => q::vendor_prices_at(t, req.account_id, &fresh).await?,
            None => q::vendor_prices_at(db, req.account_id, &fresh).await?,
        }
        .into_iter()
        .collect();
        // In file order (so ids follow the file); a later row of the batch replaces.
        let mut writes: Vec<(q::VendorPriceKey, Money)> = Vec::new();
        let mut written: HashMap<q::VendorPriceKey, usize> = HashMap::new();
        for (row, i) in rows {
            let key = key_of(row, i);
            let identity = m.hasher.of(&key);
            let price = Money::new(row.amount);
            let key_hash = m.hasher.of(row.key.as_str()).0 as u32;
            let before = match states.get_mut(&identity) {
                Some(state) => {
                    let before = state.last;
                    let same_key = state.key == key_hash;
                    let earlier = u64::from(state.line);
                    state.line = line_u32(row.line);
                    state.key = key_hash;
                    state.last = price;
                    match state.preview_index() {
                        Some(p) => m.report.preview[p].new = price.display_amount().to_string(),
                        None if state.original != Some(price) => {
                            state.preview = preview_slot(m.report.preview(Change {
                                key: row.key.clone(),
                                item_id: key.0,
                                code: candidates[i].code.clone(),
                                field: "vendorPrice",
                                old: state.original.map(|o| o.display_amount().to_string()),
                                new: price.display_amount().to_string(),
                            }));
                        }
                        None => {}
                    }
                    batch.warnings.push(m.replaced(
                        &row.key,
                        same_key,
                        earlier,
                        row.line,
                        format!("price {} from {}", candidates[i].code, row.vendor),
                    ));
                    Some(before)
                }
                None => {
                    let original = stored.get(&key).copied();
                    let preview = (original != Some(price))
                        .then(|| {
                            m.report.preview(Change {
                                key: row.key.clone(),
                                item_id: key.0,
                                code: candidates[i].code.clone(),
                                field: "vendorPrice",
                                old: original.map(|o| o.display_amount().to_string()),
                                new: price.display_amount().to_string(),
                            })
                        })
                        .flatten();
                    states.insert(
                        identity,
                        PriceState {
                            original,
                            last: price,
                            line: line_u32(row.line),
                            key: key_hash,
                            preview: preview_slot(preview),
                        },
                    );
                    original
                }
            };
            // Written when it differs from what the transaction holds now.
            if before != Some(price) {
                match written.get(&key) {
                    Some(&at) => writes[at].1 = price,
                    None => {
                        written.insert(key.clone(), writes.len());
                        writes.push((key, price));
                    }
                }
            }
        }
        if let (Some(t), Some(run)) = (&txn, &run) {
            q::upsert_vendor_prices(t, req.account_id, Some(run.id), &writes, chrono::Utc::now())
                .await?;
        }
        m.report_problems(&mut batch.errors, &mut batch.warnings);
    }
    let mut report = std::mem::take(&mut m.report);
    let mut reverted = HashSet::new();
    for state in states.values() {
        if state.original == Some(state.last) {
            report.unchanged += 1;
            reverted.extend(state.preview_index());
        } else {
            report.updated += 1;
        }
    }
    if !reverted.is_empty() {
        let mut at = 0;
        report.preview.retain(|_| {
            at += 1;
            !reverted.contains(&(at - 1))
        });
    }
    report.preview_capped = report.updated > report.preview.len();
    if let (Some(t), Some(run)) = (txn, run) {
        let run = close_run(&t, req, run, &report).await?;
        t.commit().await?;
        report.run = Some(run);
    }
    Ok(report)
}

/// The `csv_import` run of an applied import, inside its transaction.
async fn open_run(
    txn: &sea_orm::DatabaseTransaction,
    req: &ImportRequest,
    connection_id: i64,
    status: RunStatus,
) -> AppResult<sync_run::Model> {
    let run = store::runs::create(
        txn,
        NewRun {
            account_id: req.account_id,
            connection_id,
            mode: RunMode::CsvImport,
            trigger: req.trigger,
            dry_run: false,
            params: serde_json::json!({
                "fileName": req.file_name,
                "target": match req.target { Target::ItemCosts => "item_costs", Target::VendorPrices => "vendor_prices" },
            }),
            requested_by: req.user_id,
            status,
        },
    )
    .await?;
    store::runs::save_checkpoint(txn, run.id, serde_json::json!({})).await?;
    Ok(run)
}

/// The run's row errors as events, its figures, and the audit entry. A run that has
/// nothing to push is recorded as finished.
async fn close_run(
    txn: &sea_orm::DatabaseTransaction,
    req: &ImportRequest,
    run: sync_run::Model,
    report: &ImportReport,
) -> AppResult<sync_run::Model> {
    let summary = report.summary(req.target);
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
    store::sync_state::insert_events(txn, req.account_id, run.connection_id, run.id, events)
        .await?;
    let counters = report.counters();
    let run = if run.status == RunStatus::Succeeded {
        store::runs::finish(
            txn,
            run.id,
            store::runs::Finish {
                status: RunStatus::Succeeded,
                stage: "imported",
                counters,
                summary: summary.clone(),
                error: None,
            },
        )
        .await?
    } else {
        let stage = "imported; push queued";
        if run.status == RunStatus::Queued {
            store::runs::save_queued_figures(txn, run.id, stage, &counters).await?;
        } else {
            store::runs::save_progress(txn, run.id, None, stage, 0, &counters).await?;
        }
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
