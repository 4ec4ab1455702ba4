//! Server-sent events of one run's progress, for clients without WebSockets: the same
//! payloads as the `syncProgress` subscription, bearer-authenticated.

use crate::error::AppError;
use crate::graphql::subscription::run_progress;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

pub async fn run_events(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let caller = match crate::web::graphql_http::authenticate(&state, &headers)
        .await
        .caller()
    {
        Ok(c) => c.clone(),
        Err(e) => return e.into_response(),
    };
    let Ok(run_id) = run_id.parse::<i64>() else {
        return AppError::bad_input(format!("'{run_id}' is not a valid run id")).into_response();
    };
    let updates = BroadcastStream::new(state.jobs.bus().subscribe());
    let current = match crate::store::runs::get(&state.db, caller.account_id, run_id).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let events = run_progress(current, updates).map(|run| {
        let name = if run.0.status.is_active() {
            "progress"
        } else {
            "finished"
        };
        Ok::<_, std::convert::Infallible>(
            Event::default()
                .event(name)
                .id(run.0.updated_at.timestamp_millis().to_string())
                .data(run.to_json().to_string()),
        )
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
