//! What every request handler, resolver and background job shares: the database, settings,
//! keys, connectors, jobs and the schema. [`crate::app`] builds it once at start-up; every
//! other module only reads it, so the state has no dependency on the routes that use it.

use crate::auth::jwt::JwtKeys;
use crate::auth::principal::Principals;
use crate::auth::secrets::SecretBox;
use crate::auth::session;
use crate::config::Settings;
use crate::connectors::registry::Registry;
use crate::graphql::AppSchema;
use crate::graphql::guard::QueryGuard;
use crate::jobs::Jobs;
use crate::sandbox::Sandboxes;
use crate::store::{self, Db};
use crate::web::stream_quota::StreamQuota;
use std::sync::Arc;

/// Everything a request handler or resolver needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// Statements run on `db` (N+1 guard, metrics).
    pub queries: store::db::QueryCounter,
    pub settings: Arc<Settings>,
    pub jwt: Arc<JwtKeys>,
    pub secrets: SecretBox,
    pub login_throttle: Arc<session::LoginThrottle>,
    /// Checks bearer values against the database (revocation) with a short cache.
    pub principals: Arc<Principals>,
    pub registry: Registry,
    pub jobs: Jobs,
    /// The upstream emulators, when mounted (demo, tests, `--sandbox`).
    pub sandboxes: Option<Sandboxes>,
    pub schema: AppSchema,
    /// Size, cost and time limits every GraphQL operation passes first.
    pub query_guard: Arc<QueryGuard>,
    /// GraphQL-over-HTTP execution slots and their queue (`web::admission`).
    pub admission: Arc<crate::web::admission::Admission>,
    /// Open WebSockets and event streams per credential.
    pub streams: Arc<StreamQuota>,
}
