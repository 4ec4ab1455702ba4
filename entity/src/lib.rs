//! sea-orm entities: one file per table, no behaviour beyond value conversions.
//!
//! Statuses and kinds are Rust enums stored as short strings, so the same schema
//! runs on SQLite and PostgreSQL and stays readable for anyone querying it directly.

pub mod account;
pub mod alert_delivery;
pub mod alert_target;
pub mod amazon_claim;
pub mod amazon_inbound_item;
pub mod amazon_ledger_event;
pub mod amazon_reimbursement;
pub mod api_key;
pub mod audit_log;
pub mod category;
pub mod conflict;
pub mod connection;
pub mod connection_token;
pub mod enums;
pub mod financial_event;
pub mod item;
pub mod item_count;
pub mod item_link;
pub mod money;
pub mod sync_cursor;
pub mod sync_event;
pub mod sync_run;
pub mod user;
pub mod vendor_feed;
pub mod vendor_price;
pub mod webhook_delivery;

pub use money::Money;
