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
