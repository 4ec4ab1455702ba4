use crate::state::AppState;
use crate::store::db;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

/// Liveness: the process answers.
pub async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Readiness: the database answers and migrations are applied.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match db::check_ready(&state.db).await {
        Ok(()) => (
            StatusCode::OK,
            Json(serde_json::json!({ "status": "ready", "database": db::backend_name(&state.db) })),
        ),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "not ready", "reason": e.public_message() })),
        ),
    }
}
