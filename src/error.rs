//! The one domain error enum, mapped once to GraphQL `extensions.code` and HTTP statuses.
//!
//! Internal details (database errors, upstream bodies) are logged, never sent to clients,
//! so no secret or SQL can leak through an error message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sea_orm::DbErr;

pub type AppResult<T> = Result<T, AppError>;

/// Deliberately not `Display`: async-graphql converts any `Display` error into a message
/// without a code, and we want every error to go through the one mapping below.
#[derive(Debug)]
pub enum AppError {
    Unauthenticated(String),
    Forbidden(String),
    NotFound(String),
    BadUserInput(String),
    RateLimited(String),
    /// The server is at its GraphQL admission limit (`web::admission`): answered `503`
    /// with `Retry-After`, under the same code as other rate limits.
    Overloaded(String),
    /// Over a query size, depth or cost limit; refused before it ran.
    QueryTooComplex(String),
    /// A query ran past its time budget and was stopped.
    QueryTimeout(String),
    SyncInProgress {
        run_id: i64,
    },
    ConflictStale(String),
    Upstream(String),
    /// The upstream refused the connection's credentials even after a refresh (refresh
    /// token revoked, client secret changed): someone must reconnect.
    UpstreamUnauthorized(String),
    /// The connection cannot sync until it is connected (again): no OAuth consent yet, or
    /// its credentials were refused.
    ReconnectRequired(String),
    /// The upstream does not serve the API version the connection is configured with
    /// (Jobber `config.apiVersion`): change the setting.
    UpstreamApiVersion(String),
    Cancelled(String),
    /// A local edit of a field the connection's sync policy gives to the upstream
    /// (`REMOTE_OWNS`, refusing local edits); the message names the connection and fields.
    FieldOwnedRemotely(String),
    /// The database (or another dependency every request needs) cannot be reached right
    /// now; retrying later will work without a restart.
    Unavailable(String),
    Internal(String),
}

impl AppError {
    /// Stable machine-readable code, the contract of `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::BadUserInput(_) => "BAD_USER_INPUT",
            Self::RateLimited(_) | Self::Overloaded(_) => "RATE_LIMITED",
            Self::QueryTooComplex(_) => "QUERY_TOO_COMPLEX",
            Self::QueryTimeout(_) => "QUERY_TIMEOUT",
            Self::SyncInProgress { .. } => "SYNC_IN_PROGRESS",
            Self::ConflictStale(_) => "CONFLICT_STALE",
            Self::Upstream(_) => "UPSTREAM_ERROR",
            Self::UpstreamUnauthorized(_) => "UPSTREAM_UNAUTHORIZED",
            Self::ReconnectRequired(_) => "RECONNECT_REQUIRED",
            Self::UpstreamApiVersion(_) => "UPSTREAM_API_VERSION",
            Self::Cancelled(_) => "CANCELLED",
            Self::FieldOwnedRemotely(_) => "FIELD_OWNED_REMOTELY",
            Self::Unavailable(_) => "UNAVAILABLE",
            Self::Internal(_) => "INTERNAL",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadUserInput(_) => StatusCode::BAD_REQUEST,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::QueryTooComplex(_) => StatusCode::BAD_REQUEST,
            Self::QueryTimeout(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::SyncInProgress { .. } | Self::ConflictStale(_) => StatusCode::CONFLICT,
            Self::Upstream(_) | Self::UpstreamUnauthorized(_) | Self::UpstreamApiVersion(_) => {
                StatusCode::BAD_GATEWAY
            }
            Self::ReconnectRequired(_) => StatusCode::CONFLICT,
            Self::Cancelled(_) | Self::FieldOwnedRemotely(_) => StatusCode::CONFLICT,
            Self::Unavailable(_) | Self::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn not_found(what: &str, id: impl std::fmt::Display) -> Self {
        Self::NotFound(format!("{what} {id} not found"))
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadUserInput(message.into())
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        Self::Internal(err.to_string())
    }

    /// The message a client may see.
    pub fn public_message(&self) -> String {
        match self {
            Self::Unauthenticated(m)
            | Self::Forbidden(m)
            | Self::NotFound(m)
            | Self::BadUserInput(m)
            | Self::RateLimited(m)
            | Self::Overloaded(m)
            | Self::QueryTooComplex(m)
            | Self::QueryTimeout(m)
            | Self::ConflictStale(m)
            | Self::Cancelled(m)
            | Self::FieldOwnedRemotely(m)
            | Self::ReconnectRequired(m)
            | Self::Unavailable(m) => m.clone(),
            Self::SyncInProgress { run_id } => {
                format!("a sync is already running for this connection (run {run_id})")
            }
            Self::Upstream(m) | Self::UpstreamUnauthorized(m) | Self::UpstreamApiVersion(m) => {
                format!("upstream error: {}", crate::redact::scrub(m))
            }
            Self::Internal(detail) => {
                tracing::error!(error = %crate::redact::scrub(detail), "internal error");
                "internal error".to_owned()
            }
        }
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        match outage_reason(&err) {
            Some(reason) => {
                tracing::warn!(error = %err, "database unavailable");
                AppError::Unavailable(reason)
            }
            None => AppError::Internal(format!("database: {err}")),
        }
    }
}

/// Why the database cannot be used at all right now (no connection within the acquire
/// timeout, connection refused or dropped), as opposed to a failed statement. Says what
/// failed without the URL, so it is safe to show to a client.
pub fn outage_reason(err: &DbErr) -> Option<String> {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{ConnAcquireErr, RuntimeErr};
    let sqlx = match err {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => {
            return Some("database unavailable: no connection could be had in time".into());
        }
        DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed) => {
            return Some("database unavailable: the connection pool is closed".into());
        }
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e.as_ref(),
        _ => return None,
    };
    match sqlx {
        Sqlx::Io(io) => Some(format!("database unavailable: {io}")),
        Sqlx::Tls(_) => Some("database unavailable: TLS handshake failed".into()),
        Sqlx::PoolTimedOut => {
            Some("database unavailable: no connection could be had in time".into())
        }
        Sqlx::PoolClosed | Sqlx::WorkerCrashed => {
            Some("database unavailable: the connection was lost".into())
        }
        _ => None,
    }
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(err: sea_orm::TransactionError<AppError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(app) => app,
        }
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        let code = err.code();
        let mut gql = async_graphql::Error::new(err.public_message());
        let mut ext = async_graphql::ErrorExtensionValues::default();
        ext.set("code", code);
        if let AppError::SyncInProgress { run_id } = &err {
            ext.set("runId", run_id.to_string());
        }
        gql.extensions = Some(ext);
        gql
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::json!({ "error": { "code": self.code(), "message": self.public_message() } });
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("5"),
            );
        }
        response
    }
}

/// For the CLI edge, where `anyhow` reports errors to the operator.
impl From<AppError> for anyhow::Error {
    fn from(err: AppError) -> Self {
        anyhow::anyhow!("{} ({})", err.public_message(), err.code())
    }
}
