//! Database access shared by the engine, the jobs and GraphQL: no SQL lives elsewhere.
//!
//! Every function that reads or writes tenant data takes the caller's `account_id`, so
//! scoping is impossible to forget at the call site.

pub mod accounts;
pub mod alerts;
pub mod api_keys;
pub mod audit;
pub mod backup;
pub mod categories;
pub mod conflicts;
pub mod connections;
pub mod copy;
pub mod csv_import;
pub mod db;
pub mod finances;
pub mod item_counts;
pub mod items;
pub mod links;
pub mod page;
pub mod recoveries;
pub mod retention;
pub mod route_links;
pub mod runs;
pub mod status;
pub mod sync_state;
pub mod users;
pub mod vendor_feeds;
pub mod vendor_prices;
pub mod webhook_deliveries;

pub use db::Db;

use sea_orm::DbBackend;
use sea_orm::sea_query::{Expr, IntoColumnRef};

/// `column IN ids` with the ids bound as one value, so the statement's text is the same
/// for any number of ids (one cached prepared statement per look-up, not one per list
/// length, and one bind instead of one per id): `IN (SELECT value FROM json_each(?))` on
/// SQLite (a JSON array), `= ANY(CAST($1 AS bigint[]))` on PostgreSQL (an array literal).
pub fn in_ids(backend: DbBackend, column: impl IntoColumnRef, ids: &[i64]) -> Expr {
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let (sql, value) = match backend {
        DbBackend::Postgres => ("$1 = ANY(CAST($2 AS bigint[]))", format!("{{{list}}}")),
        // SQLite custom expressions take `?` in order, PostgreSQL `$n`.
        _ => ("? IN (SELECT value FROM json_each(?))", format!("[{list}]")),
    };
    Expr::cust_with_exprs(sql, [Expr::col(column), Expr::val(value)])
}
