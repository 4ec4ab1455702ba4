//! pricebook-sync: keeps a business's price book in two-way sync between SaaS systems
//! and its own database, and serves it through GraphQL and a bundled admin UI.
//!
//! # Layout
//!
//! - [`app`]: the single assembly point — binds the port, builds the state, the routes and
//!   their middleware (CORS, limits, tracing), and runs the server until a signal.
//! - [`state`]: `AppState`, what handlers, resolvers and jobs share (database, settings,
//!   keys, connectors, jobs, schema); built once by `app`, only read elsewhere.
//! - [`config`]: settings, flags > environment > defaults, validated at start.
//! - [`error`]: the one domain error enum, mapped once to GraphQL codes and HTTP statuses.
//! - [`auth`]: session tokens (JWT), one-purpose tickets (OAuth state, run events),
//!   password hashing, roles, secret encryption, sign-in throttling.
//! - [`store`]: every database query, scoped by account; resolvers, the engine and the jobs
//!   call it, and no SQL lives anywhere else.
//! - [`graphql`]: the schema — thin resolvers (`query`, `mutation`, `subscription`),
//!   GraphQL-facing `types`, DataLoaders.
//! - [`web`]: everything HTTP that is not a resolver: the GraphQL transports (HTTP,
//!   graphql-transport-ws), SSE progress, health, metrics, OAuth callbacks, webhooks, CORS,
//!   streamed CSV exports, the embedded admin UI and GraphiQL.
//! - [`jobs`]: the run queue — leases, workers, heartbeats, crash take-over, schedules, and
//!   the progress bus (in-process, and PostgreSQL `LISTEN/NOTIFY` across instances).
//! - [`sync`]: the engine — the pure three-way `diff`, page application, pushes, conflict
//!   resolution, CSV imports, the Fulfil → ShipHero route; it knows nothing of HTTP or
//!   GraphQL and reports through a `progress::Reporter`.
//! - [`record`]: the canonical record (`Fields`), its canonicalisation and hash — the shape
//!   connectors map into and the engine compares; below both.
//! - [`connectors`]: one folder per provider (client, `wire` types, `map` to canonical
//!   items) behind the `Connector` trait, over one HTTP client with retries, backoff, rate
//!   limits and token refresh; they know nothing of the database.
//! - [`sandbox`]: in-process emulators of every provider, reusing the connectors' `wire`
//!   types, with seeded data, remote edits and fault injection — for the demo, the tests
//!   and the benchmarks.
//! - [`demo`]: `pricebook-sync demo`'s seeded ServiceTitan sandbox connection.
//! - [`bench`](mod@bench): the benchmark scenarios of `pricebook-sync bench`.
//! - [`money`]: the one money rule (plain GraphQL amounts, a CSV file's decimal separator).
//! - [`redact`]: secrets masked by value in errors, events, audit entries and logs.
//! - [`alerts`]: outgoing alerts (health changes, conflicts waiting too long) as signed
//!   webhook deliveries from an outbox, sent in the background.
//! - [`cli`]: the `pricebook-sync` subcommands.
//!
//! # One sync, from `startSync` to the last page
//!
//! 1. `startSync` (`graphql::mutation`) checks the caller's role and calls
//!    [`jobs::Jobs::start_sync`], which inserts a queued `sync_runs` row through `store`
//!    (at most one running and one queued run per connection, database constraints) and
//!    returns it. A local edit (`updateItem`) queues a PUSH run the same way, or joins the
//!    queued one ([`jobs::Jobs::push_on_save`], decided by [`sync::push_on_save`]).
//! 2. A worker (`jobs`) claims the run with a lease and heartbeats it; the run driver
//!    [`sync::runner::execute`] asks `connectors::registry` for the connection's connector.
//! 3. [`sync::engine::run`] lists remote pages through the connector; each page is
//!    categorised by the pure [`sync::diff::categorise`] against the stored base and the
//!    local items, then applied by `sync::apply` in one transaction with the checkpoint.
//! 4. Local-only changes are pushed upstream by [`sync::push::push_pending`]; conflicts are
//!    stored for `sync::conflicts` to resolve later; deletions wait for a complete listing.
//! 5. Progress goes to the bus after every page: the `syncProgress` subscription
//!    (`graphql::subscription` over `web::graphql_ws`) and the SSE stream (`web::sse`)
//!    forward it; the worker records the outcome and metrics when the run ends.

pub mod alerts;
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
pub mod record;
pub mod redact;
pub mod sandbox;
pub mod state;
pub mod store;
pub mod sync;
pub mod web;
