//! GraphQL subscriptions over WebSocket (graphql-transport-ws and the legacy protocol).
//! The session token or API key travels in the `connection_init` payload as
//! `{"authorization": "Bearer …"}`.
//!
//! Every operation on the socket passes the same gate as over HTTP ([`QueryGuard`]), and
//! re-checks the credential first: a token revoked after the socket opened cannot start
//! anything new, and a revocation on this instance ends the operations already running
//! with an `UNAUTHENTICATED` error. A socket runs at most [`MAX_OPERATIONS_PER_SOCKET`]
//! operations at once.

use crate::auth::principal::Revoked;
use crate::auth::{Authentication, Caller};
use crate::error::AppError;
use crate::graphql::guard::{QueryGuard, error_response};
use crate::graphql::loaders::LoaderSet;
use crate::state::AppState;
use async_graphql::parser::types::OperationType;
use async_graphql::{Data, Executor, Request, Response};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response as HttpResponse;
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use std::any::TypeId;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::broadcast;

/// Operations (subscriptions, queries) one socket may run at the same time.
pub const MAX_OPERATIONS_PER_SOCKET: usize = 100;

/// The `authorization` value of `connection_init`, kept to re-check it per operation.
struct Bearer(Option<String>);

pub async fn handle(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> HttpResponse {
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            let executor = SocketExecutor {
                state: state.clone(),
                active: Arc::new(AtomicUsize::new(0)),
            };
            GraphQLWebSocket::new(socket, executor, protocol)
                .on_connection_init(move |payload| async move {
                    let header = payload
                        .get("authorization")
                        .or_else(|| payload.get("Authorization"))
                        .and_then(|v| v.as_str())
                        .map(str::to_owned);
                    match authenticate(&state, header.as_deref()).await {
                        Authentication::Caller(caller) => {
                            let mut data = Data::default();
                            data.insert(LoaderSet::new(state.db.clone(), caller.account_id));
                            data.insert(Authentication::Caller(caller));
                            data.insert(Bearer(header));
                            Ok(data)
                        }
                        other => {
                            let err = other.caller().err().unwrap_or_else(|| {
                                AppError::Unauthenticated("missing token".into())
                            });
                            Err(async_graphql::Error::from(err))
                        }
                    }
                })
                .serve()
                .await
        })
}

async fn authenticate(state: &AppState, authorization: Option<&str>) -> Authentication {
    state
        .principals
        .authenticate(&state.db, &state.jwt, authorization)
        .await
}

/// Runs a socket's operations through the gate; one per socket.
#[derive(Clone)]
struct SocketExecutor {
    state: AppState,
    active: Arc<AtomicUsize>,
}

/// Frees an operation slot of the socket when the operation's stream is dropped.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Executor for SocketExecutor {
    /// Not used by the WebSocket transport (it streams every operation); gated all the same.
    async fn execute(&self, request: Request) -> Response {
        let auth = Authentication::Missing;
        self.state
            .query_guard
            .execute(&self.state.schema, request, &auth)
            .await
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let this = self.clone();
        let bearer = session_data
            .as_ref()
            .and_then(|d| d.get(&TypeId::of::<Bearer>()))
            .and_then(|b| b.downcast_ref::<Bearer>())
            .and_then(|b| b.0.clone());
        let session = session_data.unwrap_or_default();
        stream::once(async move { this.run(request, session, bearer).await })
            .flatten()
            .boxed()
    }
}

impl SocketExecutor {
    async fn run(
        self,
        request: Request,
        session: Arc<Data>,
        bearer: Option<String>,
    ) -> BoxStream<'static, Response> {
        let one = |r: Response| stream::once(async move { r }).boxed();
        // The credential as it stands now, not as it stood at connection_init.
        let revocations = self.state.principals.revocations();
        let auth = authenticate(&self.state, bearer.as_deref()).await;
        let caller = match auth.caller() {
            Ok(c) => c.clone(),
            Err(e) => return one(error_response(e)),
        };
        let mut request = request.data(auth.clone());
        let guard: Arc<QueryGuard> = self.state.query_guard.clone();
        let analysis = match guard.admit(&mut request, &auth) {
            Ok(a) => a,
            Err(refusal) => return one(*refusal),
        };
        if self.active.fetch_add(1, Ordering::AcqRel) >= MAX_OPERATIONS_PER_SOCKET {
            self.active.fetch_sub(1, Ordering::AcqRel);
            return one(error_response(AppError::RateLimited(format!(
                "at most {MAX_OPERATIONS_PER_SOCKET} operations may run at once on one socket"
            ))));
        }
        let slot = Slot(self.active.clone());
        let mut results = self
            .state
            .schema
            .execute_stream_with_session_data(request, session);
        let operation = analysis.and_then(|a| a.operation);
        if operation == Some(OperationType::Query) {
            let answer = guard
                .within_budget(async move { results.next().await.unwrap_or_default() })
                .await;
            drop(slot);
            return one(answer);
        }
        let stopped = Arc::new(AtomicBool::new(false));
        let flag = stopped.clone();
        let state = self.state.clone();
        let until_revoked = async move {
            wait_for_revocation(revocations, &caller, &state, bearer.as_deref()).await;
            flag.store(true, Ordering::Release);
        };
        let ending = stream::once(async move { stopped.load(Ordering::Acquire) }).filter_map(
            |revoked| async move {
                revoked.then(|| {
                    error_response(AppError::Unauthenticated(
                        "the credential of this connection was revoked".into(),
                    ))
                })
            },
        );
        results
            .take_until(until_revoked)
            .chain(ending)
            .map(move |r| {
                let _held = &slot;
                r
            })
            .boxed()
    }
}

/// Resolves when the caller's credential is revoked on this instance.
async fn wait_for_revocation(
    mut revocations: broadcast::Receiver<Revoked>,
    caller: &Caller,
    state: &AppState,
    bearer: Option<&str>,
) {
    loop {
        match revocations.recv().await {
            Ok(r) if caller.is_revoked_by(r) => return,
            Ok(_) => {}
            // Missed some: ask the database instead.
            Err(broadcast::error::RecvError::Lagged(_)) => {
                if !matches!(authenticate(state, bearer).await, Authentication::Caller(_)) {
                    return;
                }
            }
            Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}
