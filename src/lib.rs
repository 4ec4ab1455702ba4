//! pricebook-sync: keeps a business's price book in two-way sync between SaaS systems
//! and its own database, and serves it through GraphQL and a bundled admin UI.
//!
//! # Layout
//!
//! - [`app`]: the single assembly point — builds the state, routes, middleware, server lifecycle.
//! - [`state`]: `AppState`, what handlers, resolvers and jobs share; built by `app`, read elsewhere.
//! - [`config`]: settings, flags > environment > defaults.
//! - [`error`]: the one domain error enum, mapped once to GraphQL codes and HTTP statuses.
//! - [`auth`]: session tokens (JWT), password hashing, roles, secret encryption, sign-in.
//! - [`store`]: every database query, scoped by account; resolvers and the engine call it.
//! - [`graphql`]: the schema — thin resolvers, GraphQL-facing types, DataLoaders.
//! - [`web`]: GraphQL HTTP/WebSocket transports, health, metrics, the embedded admin UI.
//! - [`connectors`]: what each upstream provider needs.
//! - [`money`]: the one money rule (plain GraphQL amounts, a CSV file's decimal separator).
//! - [`redact`]: secrets masked by value in errors, events, audit entries and logs.
//! - [`cli`]: the `pricebook-sync` subcommands.

pub mod app;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod config;
pub mod connectors;
pub mod demo;
pub mod error;
pub mod graphql;
pub mod jobs;
pub mod money;
pub mod redact;
pub mod sandbox;
pub mod state;
pub mod store;
pub mod sync;
pub mod web;
