//! Non-GraphQL HTTP: health, metrics, the GraphQL transports, CSV exports, and the admin UI.

pub mod admission;
pub mod cors;
pub mod csrf;
pub mod export;
pub mod graphql_http;
pub mod graphql_ws;
pub mod health;
pub mod metrics;
pub mod oauth;
pub mod sse;
pub mod stream_quota;
pub mod ui;
pub mod webhooks;
