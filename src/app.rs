//! The single assembly point: state, routes, middleware, and the server lifecycle.
//! `main`, the tests and the benchmarks all start the server through [`Application`].

use crate::auth::jwt::JwtKeys;
use crate::auth::secrets::SecretBox;
use crate::auth::{keys, password};
use crate::config::Settings;
use crate::connectors::registry::Registry;
use crate::graphql;
use crate::graphql::guard::QueryGuard;
use crate::jobs::Jobs;
use crate::sandbox::Sandboxes;
use crate::state::AppState;
use crate::store::{self, Db};
use crate::web;
use crate::web::stream_quota::StreamQuota;
use axum::Router;
use axum::routing::get;
use entity::enums::Role;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub struct Application {
    listener: TcpListener,
    router: Router,
    pub state: AppState,
}

impl Application {
    /// Binds the port, then loads the keys, connects and migrates the database and
    /// bootstraps the first admin. Binding first: a busy port stops the start before
    /// anything (data dir, keys, database, admin) is written.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = bind(settings.bind).await?;
        let keys = keys::load_or_generate(&settings)?;
        let (db, queries) = store::db::connect_counted(&settings.resolved_database_url()).await?;
        store::db::migrate(&db).await?;
        // After the migrations: the sync workers' own pool opens the migrated database.
        let sync_db =
            store::db::connect_sync_pool(&settings.resolved_database_url(), settings.workers)
                .await?;
        bootstrap_admin(&db, &settings).await?;
        let public_url = settings.public_url(listener.local_addr()?);
        let seed = match &settings.sandbox_seed {
            Some(text) => Some(
                serde_json::from_str::<crate::sandbox::servicetitan::SeedSpec>(text).map_err(
                    |e| anyhow::anyhow!("PRICEBOOK_SANDBOX_SEED is not a valid seed: {e}"),
                )?,
            ),
            None => None,
        };
        let state = build_state(db, sync_db, queries, settings, keys, public_url);
        let mut router = router(state.clone());
        if let Some(sandboxes) = &state.sandboxes {
            if let Some(seed) = &seed {
                sandboxes.servicetitan.seed(seed);
            }
            router = router.merge(sandboxes.router());
        }
        Ok(Application {
            listener,
            router,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Mounts extra routes (e.g. the sandbox emulators of `demo`) before serving.
    pub fn merge(mut self, extra: Router) -> Self {
        self.router = self.router.merge(extra);
        self
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.state
            .jobs
            .start(self.state.settings.workers, self.state.settings.scheduler);
        self.state
            .jobs
            .start_retention(self.state.settings.retention());
        crate::alerts::sender::Sender::new(self.state.db.clone(), self.state.secrets.clone())
            .start(self.state.jobs.stopping());
        let jobs = self.state.jobs.clone();
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await;
        jobs.shutdown();
        served?;
        Ok(())
    }
}

/// Listens on `address`, or says which address is unusable and how to pick another.
pub async fn bind(address: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address).await.map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::AddrInUse => {
                "another process (maybe another pricebook-sync) listens there; \
                 stop it or choose another address with --bind or PRICEBOOK_BIND, e.g. --bind 127.0.0.1:8081"
            }
            std::io::ErrorKind::PermissionDenied => {
                "ports below 1024 need privileges; choose another with --bind or PRICEBOOK_BIND"
            }
            std::io::ErrorKind::AddrNotAvailable => {
                "this machine has no such address; use 127.0.0.1 or 0.0.0.0 with --bind or PRICEBOOK_BIND"
            }
            _ => "choose another address with --bind or PRICEBOOK_BIND",
        };
        anyhow::anyhow!("cannot listen on {address}: {e}; {hint}")
    })
}

fn build_state(
    db: Db,
    sync_db: Db,
    queries: store::db::QueryCounter,
    settings: Settings,
    keys: keys::Keys,
    public_url: String,
) -> AppState {
    let secrets = SecretBox::new(&keys.encryption_key);
    let registry = Registry::new(secrets.clone(), public_url);
    let mut state = AppState {
        // The sync workers write through their own pool: API readers cannot starve them.
        jobs: Jobs::with_lease(
            sync_db,
            registry.clone(),
            Duration::from_secs(settings.lease_seconds.max(1)),
        ),
        db,
        queries,
        jwt: Arc::new(JwtKeys::new(&keys.jwt_secret, settings.token_ttl_minutes)),
        registry,
        secrets,
        login_throttle: Default::default(),
        principals: Default::default(),
        sandboxes: settings.sandbox.then(Sandboxes::new),
        query_guard: Arc::new(QueryGuard::new(
            &graphql::sdl(),
            settings.public_introspection,
            Duration::from_secs(settings.query_timeout_seconds.max(1)),
        )),
        admission: Arc::new(web::admission::Admission::from_settings(&settings)),
        streams: StreamQuota::new(settings.max_streams_per_credential),
        settings: Arc::new(settings),
        schema: graphql::build_schema(None),
    };
    state.schema = graphql::build_schema(Some(state.clone()));
    state
}

fn router(state: AppState) -> Router {
    let metrics = web::metrics::handle();
    let api = Router::new()
        .route(
            "/graphql",
            get(web::graphql_http::handle).post(web::graphql_http::handle),
        )
        .route("/healthz", get(web::health::healthz))
        .route("/readyz", get(web::health::readyz))
        .route(
            "/webhooks/{connection_id}",
            axum::routing::post(web::webhooks::trigger),
        )
        .route("/oauth/{provider}/callback", get(web::oauth::callback))
        .layer(RequestBodyLimitLayer::new(state.settings.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(120),
        ))
        .layer(CompressionLayer::new());
    let cors = web::cors::layer(&state.settings.cors_origins);
    let mut routes = Router::new()
        .merge(api)
        // WebSockets live long: no timeout or compression layer on this route.
        .route("/graphql/ws", get(web::graphql_ws::handle))
        .route("/api/sync/runs/{id}/events", get(web::sse::run_events))
        // Exports stream for as long as the history is long: no request timeout.
        .route(
            "/api/export/{file}",
            get(web::export::download).layer(CompressionLayer::new()),
        )
        .with_state(state)
        .route("/metrics", get(web::metrics::render).with_state(metrics))
        .fallback(web::ui::serve)
        .layer(axum::middleware::from_fn(web::metrics::track));
    // Outside the routes, so a preflight is answered before any route or method check.
    if let Some(cors) = cors {
        routes = routes.layer(cors);
    }
    routes
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }).on_failure(log_failure))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// A failed response in the log. A `503` is admission control refusing excess load (counted
/// in `graphql_refused_total`) or an unavailable database (already logged as a warning
/// where it happened): logged at debug, so an overload cannot flood the log with an error
/// line per refused request.
fn log_failure(
    class: tower_http::classify::ServerErrorsFailureClass,
    latency: std::time::Duration,
    _span: &tracing::Span,
) {
    use tower_http::classify::ServerErrorsFailureClass::StatusCode;
    match class {
        StatusCode(axum::http::StatusCode::SERVICE_UNAVAILABLE) => {
            tracing::debug!(latency_ms = latency.as_millis() as u64, "answered 503")
        }
        other => {
            tracing::error!(classification = %other, latency_ms = latency.as_millis() as u64, "response failed")
        }
    }
}

/// On an empty database, creates the first admin from the environment, or with a random
/// password printed once.
async fn bootstrap_admin(db: &Db, settings: &Settings) -> anyhow::Result<()> {
    if store::users::count_all(db).await? > 0 {
        return Ok(());
    }
    let email = settings
        .admin_email
        .clone()
        .unwrap_or_else(|| "admin@example.com".into());
    let (password, generated) = match &settings.admin_password {
        Some(p) => (p.clone(), false),
        None => (password::random_password(), true),
    };
    let account = store::accounts::find_or_create(db, "default").await?;
    let hash = password::hash(password.clone()).await?;
    store::users::create(db, account.id, &email, hash, Role::Admin).await?;
    if generated {
        println!(
            "Created the first admin: {email} / {password}  (shown once; change it or set PRICEBOOK_ADMIN_PASSWORD)"
        );
    } else {
        tracing::info!(%email, "created the first admin");
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
