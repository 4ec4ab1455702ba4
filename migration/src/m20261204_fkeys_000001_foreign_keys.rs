//! Foreign keys for every relation, on both databases, with an index on each referencing
//! column that no index leads with yet (parent deletes and cascades look children up by it).
//!
//! ON DELETE follows how the code deletes: items are only ever soft-deleted; deleting a
//! connection removes what belongs to it (links, cursors, tokens, conflicts, feeds, runs
//! and their events, webhook deliveries, Amazon finance rows) while items, categories and
//! vendor prices stay (a category's `connection_id` is nulled); deleting a user keeps
//! their audit entries (nulled `user_id`); pruning a run nulls optional references to it.
//!
//! Rows already dangling in an existing database are cleaned first, per relation, the
//! way its ON DELETE would have treated them: CASCADE relations delete the orphan row
//! (a link to a deleted connection, an event of a deleted run), SET NULL relations null
//! the reference (an item's deleted category).
//!
//! PostgreSQL: `ALTER TABLE … ADD CONSTRAINT … DEFERRABLE` (copy-db defers them). SQLite
//! cannot add a constraint: each table is rebuilt the SQLite-documented way (create new,
//! copy, drop, rename, recreate indexes) in one transaction on a connection with
//! `foreign_keys=OFF` (see `store::db::migrate`), checked with `PRAGMA foreign_key_check`
//! before commit.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{
    ConnectionTrait, DatabaseBackend, Statement, TransactionTrait, Value,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum OnDelete {
    Cascade,
    SetNull,
}

impl OnDelete {
    fn sql(self) -> &'static str {
        match self {
            OnDelete::Cascade => "CASCADE",
            OnDelete::SetNull => "SET NULL",
        }
    }
}

use OnDelete::{Cascade, SetNull};

/// (table, column, referenced table, on delete). Parents come before their children so
/// the dangling-row clean-up runs in one pass. Every relation references `id`.
pub const KEYS: &[(&str, &str, &str, OnDelete)] = &[
    ("users", "account_id", "accounts", Cascade),
    ("api_keys", "account_id", "accounts", Cascade),
    ("connections", "account_id", "accounts", Cascade),
    ("connection_tokens", "account_id", "accounts", Cascade),
    ("connection_tokens", "connection_id", "connections", Cascade),
    ("categories", "account_id", "accounts", Cascade),
    ("categories", "parent_id", "categories", SetNull),
    ("categories", "connection_id", "connections", SetNull),
    ("items", "account_id", "accounts", Cascade),
    ("items", "category_id", "categories", SetNull),
    ("sync_runs", "account_id", "accounts", Cascade),
    ("sync_runs", "connection_id", "connections", Cascade),
    ("item_links", "account_id", "accounts", Cascade),
    ("item_links", "item_id", "items", Cascade),
    ("item_links", "connection_id", "connections", Cascade),
    ("item_links", "last_seen_run_id", "sync_runs", SetNull),
    ("sync_cursors", "account_id", "accounts", Cascade),
    ("sync_cursors", "connection_id", "connections", Cascade),
    ("sync_events", "account_id", "accounts", Cascade),
    ("sync_events", "run_id", "sync_runs", Cascade),
    ("sync_events", "connection_id", "connections", Cascade),
    ("sync_events", "item_id", "items", SetNull),
    ("conflicts", "account_id", "accounts", Cascade),
    ("conflicts", "connection_id", "connections", Cascade),
    ("conflicts", "item_id", "items", Cascade),
    ("conflicts", "link_id", "item_links", Cascade),
    ("conflicts", "run_id", "sync_runs", SetNull),
    ("audit_log", "account_id", "accounts", Cascade),
    ("audit_log", "user_id", "users", SetNull),
    ("vendor_prices", "account_id", "accounts", Cascade),
    ("vendor_prices", "item_id", "items", Cascade),
    ("vendor_prices", "import_run_id", "sync_runs", SetNull),
    ("vendor_feeds", "account_id", "accounts", Cascade),
    ("vendor_feeds", "connection_id", "connections", Cascade),
    ("vendor_feeds", "last_run_id", "sync_runs", SetNull),
    (
        "webhook_deliveries",
        "connection_id",
        "connections",
        Cascade,
    ),
    ("financial_events", "account_id", "accounts", Cascade),
    ("financial_events", "connection_id", "connections", Cascade),
    ("financial_events", "run_id", "sync_runs", SetNull),
    ("amazon_claims", "account_id", "accounts", Cascade),
    ("amazon_claims", "connection_id", "connections", Cascade),
    ("amazon_claims", "run_id", "sync_runs", SetNull),
    ("amazon_claims", "detected_run_id", "sync_runs", SetNull),
    ("amazon_inbound_items", "account_id", "accounts", Cascade),
    (
        "amazon_inbound_items",
        "connection_id",
        "connections",
        Cascade,
    ),
    ("amazon_inbound_items", "run_id", "sync_runs", SetNull),
    ("amazon_ledger_events", "account_id", "accounts", Cascade),
    (
        "amazon_ledger_events",
        "connection_id",
        "connections",
        Cascade,
    ),
    ("amazon_ledger_events", "run_id", "sync_runs", SetNull),
    ("amazon_reimbursements", "account_id", "accounts", Cascade),
    (
        "amazon_reimbursements",
        "connection_id",
        "connections",
        Cascade,
    ),
    ("amazon_reimbursements", "run_id", "sync_runs", SetNull),
];

fn q(ident: &str) -> String {
    format!("\"{ident}\"")
}

/// Deletes or nulls references whose parent row is gone.
async fn clean_dangling(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    for (table, col, parent, on_delete) in KEYS {
        let orphan = format!(
            "{c} IS NOT NULL AND {c} NOT IN (SELECT \"id\" FROM {p})",
            c = q(col),
            p = q(parent)
        );
        let sql = match on_delete {
            Cascade => format!("DELETE FROM {} WHERE {orphan}", q(table)),
            SetNull => format!("UPDATE {} SET {} = NULL WHERE {orphan}", q(table), q(col)),
        };
        db.execute_unprepared(&sql).await?;
    }
    Ok(())
}

async fn has_leading_index(
    db: &impl ConnectionTrait,
    table: &str,
    col: &str,
) -> Result<bool, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            "SELECT 1 FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0] \
             WHERE t.relname = $1 AND a.attname = $2"
        }
        _ => {
            "SELECT 1 FROM sqlite_master m, pragma_index_info(m.name) i \
             WHERE m.type = 'index' AND m.tbl_name = ? AND i.seqno = 0 AND i.name = ?"
        }
    };
    let stmt = Statement::from_sql_and_values(
        backend,
        sql,
        [Value::from(table.to_owned()), Value::from(col.to_owned())],
    );
    Ok(db.query_one_raw(stmt).await?.is_some())
}

async fn create_indexes(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    for (table, col, _, _) in KEYS {
        if !has_leading_index(db, table, col).await? {
            db.execute_unprepared(&format!(
                "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
                q(&format!("idx_fk_{table}_{col}")),
                q(table),
                q(col)
            ))
            .await?;
        }
    }
    Ok(())
}

fn clause(col: &str, parent: &str, on_delete: OnDelete) -> String {
    format!(
        "FOREIGN KEY ({}) REFERENCES {} (\"id\") ON DELETE {} DEFERRABLE INITIALLY IMMEDIATE",
        q(col),
        q(parent),
        on_delete.sql()
    )
}

async fn postgres_up(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    clean_dangling(db).await?;
    for (table, col, parent, on_delete) in KEYS {
        db.execute_unprepared(&format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {}",
            q(table),
            q(&format!("fk_{table}_{col}")),
            clause(col, parent, *on_delete)
        ))
        .await?;
    }
    create_indexes(db).await
}

async fn text_rows(
    db: &impl ConnectionTrait,
    sql: &str,
    table: &str,
) -> Result<Vec<String>, DbErr> {
    let stmt = Statement::from_sql_and_values(
        DatabaseBackend::Sqlite,
        sql,
        [Value::from(table.to_owned())],
    );
    db.query_all_raw(stmt)
        .await?
        .iter()
        .map(|r| r.try_get_by_index::<String>(0))
        .collect()
}

/// Rebuilds one SQLite table with its foreign keys (create new, copy, drop, rename).
async fn sqlite_rebuild(db: &impl ConnectionTrait, table: &str) -> Result<(), DbErr> {
    let create = text_rows(
        db,
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
        table,
    )
    .await?
    .pop()
    .ok_or_else(|| DbErr::Migration(format!("no table {table}")))?;
    let indexes = text_rows(
        db,
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        table,
    )
    .await?;
    let seq = db
        .query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Sqlite,
            "SELECT seq FROM sqlite_sequence WHERE name = ?",
            [Value::from(table.to_owned())],
        ))
        .await?
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()?;
    let (open, close) = match (create.find('('), create.rfind(')')) {
        (Some(o), Some(c)) if o < c => (o, c),
        _ => return Err(DbErr::Migration(format!("unexpected schema of {table}"))),
    };
    let keys: Vec<String> = KEYS
        .iter()
        .filter(|(t, ..)| *t == table)
        .map(|(_, col, parent, on_delete)| clause(col, parent, *on_delete))
        .collect();
    let new = format!("{table}_fk_new");
    let sql = format!(
        "CREATE TABLE {} {}, {})",
        q(&new),
        &create[open..close],
        keys.join(", ")
    );
    db.execute_unprepared(&sql).await?;
    db.execute_unprepared(&format!(
        "INSERT INTO {} SELECT * FROM {}",
        q(&new),
        q(table)
    ))
    .await?;
    db.execute_unprepared(&format!("DROP TABLE {}", q(table)))
        .await?;
    db.execute_unprepared(&format!("ALTER TABLE {} RENAME TO {}", q(&new), q(table)))
        .await?;
    for index in indexes {
        db.execute_unprepared(&index).await?;
    }
    if let Some(seq) = seq {
        db.execute_unprepared(&format!(
            "UPDATE sqlite_sequence SET seq = MAX(seq, {seq}) WHERE name = '{table}'"
        ))
        .await?;
    }
    Ok(())
}

async fn sqlite_up(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    // A no-op inside a transaction, hence before it; `store::db::migrate` also runs the
    // migrator on a single connection opened with foreign keys off.
    conn.execute_unprepared("PRAGMA foreign_keys = OFF").await?;
    let txn = conn.begin().await?;
    clean_dangling(&txn).await?;
    let mut tables: Vec<&str> = KEYS.iter().map(|(t, ..)| *t).collect();
    tables.dedup();
    for table in tables {
        sqlite_rebuild(&txn, table).await?;
    }
    create_indexes(&txn).await?;
    let violations = txn
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "PRAGMA foreign_key_check",
        ))
        .await?;
    if !violations.is_empty() {
        return Err(DbErr::Migration(format!(
            "{} rows violate a foreign key after the rebuild",
            violations.len()
        )));
    }
    txn.commit().await?;
    conn.execute_unprepared("PRAGMA foreign_keys = ON").await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => postgres_up(manager.get_connection()).await,
            _ => sqlite_up(manager).await,
        }
    }

    fn use_transaction(&self) -> Option<bool> {
        // PostgreSQL: the migrator's own transaction; SQLite: ours, after the pragma.
        None
    }
}
