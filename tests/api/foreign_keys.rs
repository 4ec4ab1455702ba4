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
