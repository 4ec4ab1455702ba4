//! Server-sent events of one run's progress, for clients without WebSockets: the same
//! payloads as the `syncProgress` subscription.
//!
//! Authenticated by `Authorization: Bearer …`, or, for a browser `EventSource` (which
//! cannot send headers), by `?ticket=` from `createRunEventsTicket`. Every event is the
//! run's whole state (`progress` events, then one `finished`), with the run's
//! `updatedAt` in milliseconds as its id and a `retry:` hint. After `finished` the
//! stream ends; a client that reconnects with `Last-Event-ID` at or past that event gets
//! `204 No Content`, which tells `EventSource` to stop for good. Nothing needs replaying
//! on a reconnect during the run: the first event is the current state.
//!
//! A ticket is bound to the credential that asked for it (the API key, or the user's
//! current sessions): revoking that credential, or signing the user out everywhere, ends
//! open streams on this instance and voids the ticket.

use crate::auth::Caller;
use crate::auth::principal::until_revoked;
use crate::error::AppError;
use crate::graphql::subscription::run_progress;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::Deserialize;
use std::time::Duration;
use tokio_stream::wrappers::BroadcastStream;

/// How long a disconnected `EventSource` waits before reconnecting.
const RETRY: Duration = Duration::from_secs(3);

#[derive(Deserialize)]
pub struct EventsQuery {
    ticket: Option<String>,
}

pub async fn run_events(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
    Query(query): Query<EventsQuery>,
    headers: HeaderMap,
) -> Response {
    let Ok(run_id) = run_id.parse::<i64>() else {
        return AppError::bad_input(format!("'{run_id}' is not a valid run id")).into_response();
    };
    // Subscribed before the credential is checked: a revocation in between is not missed.
    let revocations = state.principals.revocations();
    let caller = match holder(&state, &query, &headers, run_id).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let account_id = caller.account_id;
    let updates = BroadcastStream::new(state.jobs.bus().subscribe());
    let current = match crate::store::runs::get(&state.db, account_id, run_id).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    if !current.status.is_active() && seen_the_end(&headers, &current) {
        return StatusCode::NO_CONTENT.into_response();
    }
    let permit = match state.streams.open(&caller) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let mut first = true;
    let events = run_progress(current, updates).map(move |run| {
        let name = if run.0.status.is_active() {
            "progress"
        } else {
            "finished"
        };
        let mut event = Event::default()
            .event(name)
            .id(event_id(&run.0).to_string())
            .data(run.to_json().to_string());
        if std::mem::take(&mut first) {
            event = event.retry(RETRY);
        }
        Ok::<_, std::convert::Infallible>(event)
    });
    // A credential revoked while the stream runs ends it; the client's reconnect is refused.
    let until_revoked = async move {
        // The stream's place is held for as long as the response body lives.
        let _permit = permit;
        let still_valid = || async { holder(&state, &query, &headers, run_id).await.is_ok() };
        until_revoked(revocations, &caller, still_valid).await;
    };
    Sse::new(events.take_until(until_revoked))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Who reads the stream: the ticket's holder while its credential holds, or the caller of
/// the `Authorization` header.
async fn holder(
    state: &AppState,
    query: &EventsQuery,
    headers: &HeaderMap,
    run_id: i64,
) -> Result<Caller, AppError> {
    match &query.ticket {
        Some(ticket) => {
            let ticket = state.jwt.verify_run_events_ticket(ticket, run_id)?;
            state
                .principals
                .ticket_holder(&state.db, &ticket)
                .await?
                .ok_or_else(|| {
                    AppError::Unauthenticated(
                        "the credential this events ticket was issued to was signed out or revoked"
                            .into(),
                    )
                })
        }
        None => crate::web::graphql_http::authenticate(state, headers)
            .await
            .caller()
            .cloned(),
    }
}

fn event_id(run: &entity::sync_run::Model) -> i64 {
    run.updated_at.timestamp_millis()
}

/// Whether the client's `Last-Event-ID` says it already received the final event.
fn seen_the_end(headers: &HeaderMap, finished: &entity::sync_run::Model) -> bool {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .is_some_and(|last| last >= event_id(finished))
}
