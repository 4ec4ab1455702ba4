//! Integration tests: every module starts the real server on a free port with a real
//! database (a SQLite file, or a fresh PostgreSQL database when TEST_DATABASE_URL is set)
//! and talks to it over real HTTP and WebSocket.

mod auth;
mod browser;
mod crash;
mod fulfil_shiphero;
mod helpers;
mod http;
mod instances;
mod items;
mod jobs;
mod process;
mod schema;
mod sync;
mod tenancy;
