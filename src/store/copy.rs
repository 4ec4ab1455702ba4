//! Moving a database to PostgreSQL: every table read in one consistent snapshot, written
//! in one target transaction with ids kept and sequences moved past them, then verified —
//! per table, the row count and a checksum of every value, computed the same way on both
//! sides.
//!
//! Values travel as text and are cast to the target column's type. Checksums compare
//! values, not spellings: a boolean is `1` in SQLite and `true` in PostgreSQL, a
//! timestamp has nanoseconds in SQLite and microseconds in PostgreSQL (so timestamps are
//! rounded to microseconds before they are written, and before they are summed).

use crate::error::{AppError, AppResult};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseTransaction, QueryResult, Statement,
    TransactionTrait, Value,
};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Rows read per statement.
const READ_BATCH: usize = 1_000;
/// Bound parameters per INSERT (PostgreSQL allows 65,535).
const MAX_PARAMS: usize = 30_000;
/// Bookkeeping of the migrator: the target writes its own.
const MIGRATIONS_TABLE: &str = "seaql_migrations";
/// Derived from `items` and `item_links` by triggers (one row per scope on SQLite, deltas
/// on PostgreSQL): not copied, but counted again on the target once the rows are there.
const DERIVED_TABLE: &str = "item_counts";

/// How a column's values compare across databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Float,
    Bool,
    Timestamp,
    Date,
    Json,
    Text,
}

impl Kind {
    /// From a declared type (SQLite `timestamp_with_timezone_text`, PostgreSQL `timestamptz`…).
    pub fn of_declared(declared: &str) -> AppResult<Kind> {
        let t = declared.to_lowercase();
        Ok(if t.contains("bool") {
            Kind::Bool
        } else if t.contains("timestamp") {
            Kind::Timestamp
        } else if t.starts_with("date") {
            Kind::Date
        } else if t.contains("json") {
            Kind::Json
        } else if t.contains("int") {
            Kind::Int
        } else if ["real", "float", "double", "numeric", "decimal"]
            .iter()
            .any(|k| t.contains(k))
        {
            Kind::Float
        } else if t.contains("blob") || t.contains("bytea") {
            return Err(AppError::bad_input(format!(
                "columns of type {declared} cannot be copied"
            )));
        } else {
            Kind::Text
        })
    }
}

/// One value in the form both databases agree on (None: SQL NULL).
pub fn canonical(kind: Kind, text: Option<&str>) -> AppResult<Option<String>> {
    let Some(t) = text else { return Ok(None) };
    let bad = || AppError::Internal(format!("unreadable {kind:?} value '{t}'"));
    Ok(Some(match kind {
        Kind::Bool => match t.to_lowercase().as_str() {
            "1" | "t" | "true" => "true".into(),
            "0" | "f" | "false" => "false".into(),
            _ => return Err(bad()),
        },
        Kind::Timestamp => {
            use chrono::SubsecRound;
            let at = chrono::DateTime::parse_from_rfc3339(t)
                .or_else(|_| chrono::DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f%#z"))
                .map_err(|_| bad())?;
            at.with_timezone(&chrono::Utc)
                .round_subsecs(6)
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        }
        Kind::Json => serde_json::from_str::<serde_json::Value>(t)
            .map_err(|_| bad())?
            .to_string(),
        Kind::Int => t.parse::<i64>().map_err(|_| bad())?.to_string(),
        Kind::Float => t.parse::<f64>().map_err(|_| bad())?.to_string(),
        Kind::Date | Kind::Text => t.to_owned(),
    }))
}

fn canonical_row(columns: &[Column], values: &[Option<String>]) -> AppResult<Vec<Option<String>>> {
    columns
        .iter()
        .zip(values)
        .map(|(c, v)| canonical(c.kind, v.as_deref()))
        .collect()
}

/// The value to write: timestamps rounded to what PostgreSQL keeps, the rest as read.
fn writable(kind: Kind, text: Option<String>) -> AppResult<Option<String>> {
    match kind {
        Kind::Timestamp | Kind::Bool => canonical(kind, text.as_deref()),
        _ => Ok(text),
    }
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
    /// The PostgreSQL type to cast to (target side only).
    cast: String,
}

type Schema = BTreeMap<String, Vec<Column>>;

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

async fn schema(db: &impl ConnectionTrait) -> AppResult<Schema> {
    let backend = db.get_database_backend();
    let (tables_sql, columns_sql) = match backend {
        DatabaseBackend::Postgres => (
            "SELECT table_name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
            "SELECT column_name, udt_name FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        ),
        _ => (
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            "SELECT name, type FROM pragma_table_info(?) ORDER BY cid",
        ),
    };
    let mut out = Schema::new();
    for row in db
        .query_all_raw(Statement::from_string(backend, tables_sql))
        .await?
    {
        let table: String = row.try_get_by_index(0)?;
        if table == MIGRATIONS_TABLE || table == DERIVED_TABLE {
            continue;
        }
        let mut columns = Vec::new();
        for c in db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                columns_sql,
                [table.clone().into()],
            ))
            .await?
        {
            let name: String = c.try_get_by_index(0)?;
            let declared: String = c.try_get_by_index(1)?;
            columns.push(Column {
                kind: Kind::of_declared(&declared)?,
                cast: declared,
                name,
            });
        }
        out.insert(table, columns);
    }
    Ok(out)
}

/// Rows of one table after `after_id`, every column as text, in id order.
async fn read_batch(
    db: &impl ConnectionTrait,
    table: &str,
    columns: &[Column],
    after_id: i64,
) -> AppResult<Vec<QueryResult>> {
    let backend = db.get_database_backend();
    // Aliased: PostgreSQL would otherwise name `CAST("id" AS TEXT)` "id", and ORDER BY
    // would sort the text.
    let select = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("CAST(t.{} AS TEXT) AS c{i}", quote(&c.name)))
        .collect::<Vec<_>>()
        .join(", ");
    let placeholder = if backend == DatabaseBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let sql = format!(
        "SELECT {select} FROM {} AS t WHERE t.\"id\" > {placeholder} ORDER BY t.\"id\" LIMIT {READ_BATCH}",
        quote(table)
    );
    Ok(db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [after_id.into()],
        ))
        .await?)
}

/// Folds rows into a table's checksum.
struct Summer {
    hash: Sha256,
    rows: u64,
}

impl Summer {
    fn new() -> Self {
        Summer {
            hash: Sha256::new(),
            rows: 0,
        }
    }

    fn add(&mut self, values: &[Option<String>]) {
        for v in values {
            match v {
                Some(s) => self.hash.update(format!("{}:{s};", s.len())),
                None => self.hash.update(b"N;"),
            }
        }
        self.hash.update(b"\n");
        self.rows += 1;
    }

    fn finish(self) -> (u64, String) {
        (self.rows, hex::encode(self.hash.finalize()))
    }
}

fn texts(row: &QueryResult, n: usize) -> AppResult<Vec<Option<String>>> {
    (0..n)
        .map(|i| Ok(row.try_get_by_index::<Option<String>>(i)?))
        .collect()
}

fn id_of(values: &[Option<String>], id_at: usize) -> AppResult<i64> {
    values[id_at]
        .as_deref()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| AppError::Internal("a row without an id".into()))
}

fn id_column(table: &str, columns: &[Column]) -> AppResult<usize> {
    columns
        .iter()
        .position(|c| c.name == "id" && c.kind == Kind::Int)
        .ok_or_else(|| AppError::bad_input(format!("table {table} has no integer id column")))
}

/// Count and checksum of every table (`seaql_migrations` and `item_counts` aside), read in
/// one snapshot.
pub async fn checksums(db: &crate::store::Db) -> AppResult<BTreeMap<String, (u64, String)>> {
    let txn = snapshot(db).await?;
    let schema = schema(&txn).await?;
    let mut out = BTreeMap::new();
    for (table, columns) in &schema {
        let id_at = id_column(table, columns)?;
        let mut sum = Summer::new();
        let mut after = i64::MIN;
        loop {
            let rows = read_batch(&txn, table, columns, after).await?;
            for row in &rows {
                let values = texts(row, columns.len())?;
                after = id_of(&values, id_at)?;
                sum.add(&canonical_row(columns, &values)?);
            }
            if rows.len() < READ_BATCH {
                break;
            }
        }
        out.insert(table.clone(), sum.finish());
    }
    txn.commit().await?;
    Ok(out)
}

/// A read transaction: one snapshot of every table.
async fn snapshot(db: &crate::store::Db) -> AppResult<DatabaseTransaction> {
    Ok(match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            db.begin_with_config(
                Some(sea_orm::IsolationLevel::RepeatableRead),
                Some(sea_orm::AccessMode::ReadOnly),
            )
            .await?
        }
        _ => db.begin().await?,
    })
}

/// One table's figures on both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCopy {
    pub table: String,
    pub rows: u64,
    pub checksum: String,
    pub target_rows: u64,
    pub target_checksum: String,
}

impl TableCopy {
    pub fn verified(&self) -> bool {
        self.rows == self.target_rows && self.checksum == self.target_checksum
    }
}

/// Copies every table of `source` into the empty, migrated PostgreSQL `target`, then
/// verifies counts and checksums. `progress` hears of each table as it is copied.
pub async fn copy_all(
    source: &crate::store::Db,
    target: &crate::store::Db,
    mut progress: impl FnMut(&str, u64),
) -> AppResult<Vec<TableCopy>> {
    if target.get_database_backend() != DatabaseBackend::Postgres {
        return Err(AppError::bad_input(
            "the target must be a PostgreSQL database",
        ));
    }
    let from = snapshot(source).await?;
    let source_schema = schema(&from).await?;
    let target_schema = schema(target).await?;
    check_same_tables(&source_schema, &target_schema)?;
    check_empty(target, &target_schema).await?;
    let into = target.begin().await?;
    // Tables are copied in name order, not parents first: the foreign keys (DEFERRABLE)
    // are checked once, at commit.
    into.execute_unprepared("SET CONSTRAINTS ALL DEFERRED")
        .await?;
    let mut copied = BTreeMap::new();
    for (table, columns) in &source_schema {
        let casts = &target_schema[table];
        let figures = copy_table(&from, &into, table, columns, casts).await?;
        progress(table, figures.0);
        copied.insert(table.clone(), figures);
    }
    super::item_counts::rebuild(&into).await?;
    for table in source_schema.keys() {
        let t = quote(table);
        into.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('{}', 'id'), COALESCE((SELECT MAX(\"id\") FROM {t}), 0) + 1, false)",
            t.replace('\'', "''")
        ))
        .await?;
    }
    into.commit().await?;
    from.commit().await?;
    let after = checksums(target).await?;
    Ok(copied
        .into_iter()
        .map(|(table, (rows, checksum))| {
            let (target_rows, target_checksum) = after.get(&table).cloned().unwrap_or_default();
            TableCopy {
                table,
                rows,
                checksum,
                target_rows,
                target_checksum,
            }
        })
        .collect())
}

fn check_same_tables(source: &Schema, target: &Schema) -> AppResult<()> {
    for (table, columns) in source {
        let Some(theirs) = target.get(table) else {
            return Err(AppError::bad_input(format!(
                "the target has no table {table}: are both on the same version?"
            )));
        };
        let ours: BTreeMap<&str, Kind> =
            columns.iter().map(|c| (c.name.as_str(), c.kind)).collect();
        let them: BTreeMap<&str, Kind> = theirs.iter().map(|c| (c.name.as_str(), c.kind)).collect();
        if ours != them {
            return Err(AppError::bad_input(format!(
                "table {table} has different columns in the source and the target"
            )));
        }
    }
    Ok(())
}

async fn check_empty(target: &crate::store::Db, schema: &Schema) -> AppResult<()> {
    for table in schema.keys() {
        let row = target
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                format!("SELECT COUNT(*) FROM {}", quote(table)),
            ))
            .await?;
        let n: i64 = row.map(|r| r.try_get_by_index(0)).transpose()?.unwrap_or(0);
        if n > 0 {
            return Err(AppError::bad_input(format!(
                "the target is not empty (table {table} has {n} rows): copy into a new database"
            )));
        }
    }
    Ok(())
}

/// Copies one table in id order; its row count and checksum as read from the source.
async fn copy_table(
    from: &DatabaseTransaction,
    into: &DatabaseTransaction,
    table: &str,
    columns: &[Column],
    target_columns: &[Column],
) -> AppResult<(u64, String)> {
    let id_at = id_column(table, columns)?;
    let cast: BTreeMap<&str, &str> = target_columns
        .iter()
        .map(|c| (c.name.as_str(), c.cast.as_str()))
        .collect();
    let names = columns
        .iter()
        .map(|c| quote(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let per_insert = (MAX_PARAMS / columns.len()).clamp(1, READ_BATCH);
    let mut sum = Summer::new();
    let mut after = i64::MIN;
    loop {
        let rows = read_batch(from, table, columns, after).await?;
        let mut pending: Vec<Vec<Option<String>>> = Vec::with_capacity(rows.len());
        for row in &rows {
            let values = texts(row, columns.len())?;
            after = id_of(&values, id_at)?;
            sum.add(&canonical_row(columns, &values)?);
            pending.push(
                columns
                    .iter()
                    .zip(values)
                    .map(|(c, v)| writable(c.kind, v))
                    .collect::<AppResult<Vec<_>>>()?,
            );
        }
        for chunk in pending.chunks(per_insert) {
            let mut values = Vec::with_capacity(chunk.len() * columns.len());
            let mut tuples = Vec::with_capacity(chunk.len());
            for row in chunk {
                let mut slots = Vec::with_capacity(columns.len());
                for (c, v) in columns.iter().zip(row) {
                    values.push(Value::String(v.clone()));
                    slots.push(format!(
                        "${}::{}",
                        values.len(),
                        quote(cast[c.name.as_str()])
                    ));
                }
                tuples.push(format!("({})", slots.join(", ")));
            }
            let sql = format!(
                "INSERT INTO {} ({names}) VALUES {}",
                quote(table),
                tuples.join(", ")
            );
            into.execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                sql,
                values,
            ))
            .await?;
        }
        if rows.len() < READ_BATCH {
            return Ok(sum.finish());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_map_to_kinds() {
        for (declared, kind) in [
            ("timestamp_with_timezone_text", Kind::Timestamp),
            ("timestamptz", Kind::Timestamp),
            ("boolean", Kind::Bool),
            ("bool", Kind::Bool),
            ("json_text", Kind::Json),
            ("json", Kind::Json),
            ("date_text", Kind::Date),
            ("date", Kind::Date),
            ("integer", Kind::Int),
            ("int8", Kind::Int),
            ("varchar(24)", Kind::Text),
            ("text", Kind::Text),
            ("float8", Kind::Float),
        ] {
            assert_eq!(Kind::of_declared(declared).unwrap(), kind, "{declared}");
        }
        assert!(Kind::of_declared("blob").is_err());
    }

    #[test]
    fn both_spellings_of_a_value_agree() {
        let same = |kind, a: &str, b: &str| {
            assert_eq!(
                canonical(kind, Some(a)).unwrap(),
                canonical(kind, Some(b)).unwrap(),
                "{a} vs {b}"
            )
        };
        same(Kind::Bool, "1", "true");
        same(Kind::Bool, "0", "false");
        // SQLite keeps nanoseconds, PostgreSQL microseconds (rounded), in its own spelling.
        same(
            Kind::Timestamp,
            "2026-12-04T13:17:14.534032812+00:00",
            "2026-12-04 13:17:14.534033+00",
        );
        same(
            Kind::Timestamp,
            "2026-12-04T13:17:14+00:00",
            "2026-12-04 14:17:14+01",
        );
        same(
            Kind::Json,
            r#"{"a": 1, "b": [true]}"#,
            r#"{"a":1,"b":[true]}"#,
        );
        same(Kind::Int, "42", "42");
        assert_eq!(canonical(Kind::Text, None).unwrap(), None);
        assert!(canonical(Kind::Bool, Some("yes")).is_err());
    }

    #[test]
    fn timestamps_are_written_as_postgres_keeps_them() {
        assert_eq!(
            writable(
                Kind::Timestamp,
                Some("2026-12-04T13:17:14.999999700+00:00".into())
            )
            .unwrap()
            .unwrap(),
            "2026-12-04T13:17:15.000000Z"
        );
    }
}
