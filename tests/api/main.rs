//! Integration tests: every module starts the real server on a free port with a real
//! database (a SQLite file, or a fresh PostgreSQL database when TEST_DATABASE_URL is set)
//! and talks to it over real HTTP and WebSocket.

mod alerts;
mod amazon;
mod auth;
mod browser;
mod conflicts;
mod conformance;
mod counts;
mod crash;
mod csv;
mod dry_run;
mod ecosystem;
mod foreign_keys;
mod fulfil_shiphero;
mod hardening;
mod helpers;
mod hostile;
mod http;
mod instances;
mod isolation;
mod items;
mod jobber;
mod jobs;
mod newcomer;
mod operations;
mod outage;
mod policy;
mod price_safety;
mod process;
mod push_on_save;
mod readpath;
mod recoveries;
mod schema;
mod sync;
mod tenancy;
mod ui;
mod websocket;
