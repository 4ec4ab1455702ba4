//! The database enforces its relations: every `*_id` column that names a row of another
//! table has a foreign key (read from the schema itself, so a new table without its keys
//! fails here), and a row pointing at a missing parent is refused.

use crate::helpers::TestApp;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use std::collections::BTreeSet;

/// The table a relation column points at, by its name; `None` for external ids
/// (`remote_id`, `case_id`, `order_id`, `delivery_id`, …).
fn parent_of(column: &str) -> Option<&'static str> {
    Some(match column {
        "account_id" => "accounts",
        "connection_id" => "connections",
        "item_id" => "items",
        "category_id" | "parent_id" => "categories",
        "user_id" => "users",
        "link_id" => "item_links",
        c if c == "run_id" || c.ends_with("_run_id") => "sync_runs",
        _ => return None,
    })
}

async fn rows(db: &sea_orm::DatabaseConnection, sql: &str) -> Vec<(String, String, String)> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("schema query")
        .iter()
        .map(|r| {
            (
                r.try_get_by_index(0).unwrap(),
                r.try_get_by_index(1).unwrap(),
                r.try_get_by_index(2).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_relation_has_a_foreign_key() {
    let app = TestApp::spawn().await;
    let db = &app.state.db;
    let (columns, keys) = match db.get_database_backend() {
        DatabaseBackend::Postgres => (
            rows(
                db,
                "SELECT table_name::text, column_name::text, '' FROM information_schema.columns \
                 WHERE table_schema = 'public'",
            )
            .await,
            rows(
                db,
                "SELECT c.conrelid::regclass::text, a.attname::text, c.confrelid::regclass::text \
                 FROM pg_constraint c JOIN pg_attribute a \
                   ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
                 WHERE c.contype = 'f'",
            )
            .await,
        ),
        _ => (
            rows(
                db,
                "SELECT m.name, p.name, '' FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table'",
            )
            .await,
            rows(
                db,
                "SELECT m.name, f.\"from\", f.\"table\" FROM sqlite_master m, \
                 pragma_foreign_key_list(m.name) f WHERE m.type = 'table'",
            )
            .await,
        ),
    };
    let keys: BTreeSet<(String, String, String)> = keys.into_iter().collect();
    let mut missing = Vec::new();
    let mut checked = 0;
    for (table, column, _) in &columns {
        let Some(parent) = parent_of(column) else {
            continue;
        };
        // A table's own external references (e.g. `accounts` has no account_id) aside.
        if table == "seaql_migrations" {
            continue;
        }
        checked += 1;
        if !keys.contains(&(table.clone(), column.clone(), parent.to_owned())) {
            missing.push(format!("{table}.{column} -> {parent}"));
        }
    }
    assert!(checked >= 40, "only {checked} relation columns found");
    assert!(
        missing.is_empty(),
        "relations without a foreign key: {missing:?}"
    );
}

#[tokio::test]
async fn a_row_pointing_at_a_missing_parent_is_refused() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let account = app.account_id_of(&token).await;
    crate::helpers::seed_items(&app, account, 1).await;
    let db = &app.state.db;
    let set = |table: &str, column: &str, value: &str| {
        format!("UPDATE {table} SET {column} = {value} WHERE account_id = {account}")
    };
    for (table, column) in [("items", "category_id"), ("users", "account_id")] {
        let refused = db.execute_unprepared(&set(table, column, "987654")).await;
        assert!(refused.is_err(), "{table}.{column} took a missing parent");
    }
    // The same statements with a real (or no) parent go through: the refusal was the key.
    db.execute_unprepared(&set("items", "category_id", "NULL"))
        .await
        .expect("no category is fine");
    db.execute_unprepared(&set("users", "account_id", &account.to_string()))
        .await
        .expect("the real account is fine");
}

/// An existing SQLite database with dangling references migrates: CASCADE relations drop
/// the orphan row, SET NULL relations null the reference, and the keys hold afterwards.
#[tokio::test]
async fn the_migration_cleans_dangling_rows_of_an_existing_database() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    use std::str::FromStr;
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/old.db", dir.path().display());
    let before = Migrator::migrations()
        .iter()
        .position(|m| m.name().starts_with("m20261204_fkeys_"))
        .expect("the foreign-keys migration");
    let options = SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true)
        .foreign_keys(false);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    let old = sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
    Migrator::up(&old, Some(before as u32)).await.unwrap();
    let item = |id: i64, account: i64, category: &str| {
        format!(
            "INSERT INTO items (id, account_id, kind, code, name, active, category_id, attributes, \
             created_at, updated_at) VALUES ({id}, {account}, 'MATERIAL', 'C{id}', 'n', 1, \
             {category}, '{{}}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
        )
    };
    for sql in [
        "INSERT INTO accounts (id, name, created_at) VALUES (1, 'a', '2026-01-01T00:00:00Z')"
            .to_owned(),
        item(1, 1, "77"),    // its category is gone: nulled
        item(2, 99, "NULL"), // its account is gone: deleted
        item(3, 1, "NULL"),
        "DELETE FROM items WHERE id = 3".to_owned(), // the sequence is past 3
    ] {
        old.execute_unprepared(&sql).await.unwrap();
    }
    old.close().await.unwrap();

    let db = pricebook_sync::store::db::connect(&url).await.unwrap();
    pricebook_sync::store::db::migrate(&db).await.unwrap();
    let rows = rows(
        &db,
        "SELECT CAST(id AS TEXT), COALESCE(CAST(category_id AS TEXT), 'null'), '' FROM items",
    )
    .await;
    assert_eq!(rows, vec![("1".into(), "null".into(), String::new())]);
    let check = db
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "PRAGMA foreign_key_check",
        ))
        .await
        .unwrap();
    assert!(check.is_empty());
    // Ids are not reused after the rebuild.
    db.execute_unprepared(&item(0, 1, "NULL").replace("(0, ", "(NULL, "))
        .await
        .unwrap();
    let max = rows_max(&db).await;
    assert!(max > 3, "a new item reused id {max}");
}

async fn rows_max(db: &sea_orm::DatabaseConnection) -> i64 {
    db.query_one_raw(Statement::from_string(
        DatabaseBackend::Sqlite,
        "SELECT MAX(id) FROM items",
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get_by_index(0)
    .unwrap()
}
