//! GraphQL over WebSocket: the `graphql-transport-ws` protocol as its document
//! (github.com/enisdenjo/graphql-ws, PROTOCOL.md) specifies it, so stock clients
//! (graphql-ws, Apollo, urql, GraphiQL) behave as they do elsewhere:
//!
//! - `connection_init` within `--ws-init-timeout-seconds`, else close `4408`; its payload
//!   carries `{"authorization": "Bearer <token>"}`; a refused one closes `4403`, a second
//!   one `4429`; `connection_ack` otherwise.
//! - `subscribe` before the ack closes `4401`; an id already running closes `4409`;
//!   anything not a protocol message closes `4400`.
//! - each operation answers `next`… then `complete`, or one `error` for a request that
//!   cannot run (syntax, validation); a client's `complete` stops it.
//! - `ping` is answered with `pong`, and the server pings every
//!   `--ws-keepalive-seconds` so proxies keep the socket and dead peers are noticed.
//!
//! The legacy `graphql-ws` subprotocol (subscriptions-transport-ws) is still served by
//! async-graphql's implementation for old clients.
//!
//! On both protocols every operation passes the same gate as over HTTP ([`QueryGuard`])
//! and re-checks the credential first: a token or API key revoked after the socket opened
//! cannot start anything new, and a revocation on this instance ends the operations already
//! running with an `UNAUTHENTICATED` error.

use crate::auth::Authentication;
use crate::auth::principal::until_revoked;
use crate::error::AppError;
use crate::graphql::guard::error_response;
use crate::graphql::loaders::LoaderSet;
use crate::state::AppState;
use async_graphql::parser::types::OperationType;
use async_graphql::{Data, Executor, Request};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures::stream::{self, BoxStream};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::any::TypeId;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub const PROTOCOL: &str = "graphql-transport-ws";
const LEGACY_PROTOCOL: &str = "graphql-ws";

/// Operations one socket may run at once; more are answered with an `error` each.
pub const MAX_OPERATIONS_PER_SOCKET: usize = 100;

pub async fn handle(
    State(state): State<AppState>,
    headers: HeaderMap,
    protocol: Result<GraphQLProtocol, StatusCode>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let offered: Vec<String> = headers
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_owned())
        .collect();
    if offered.iter().any(|p| p == PROTOCOL) {
        return upgrade
            .protocols([PROTOCOL])
            .on_upgrade(move |socket| serve(socket, state));
    }
    if let Some(legacy) = protocol
        .ok()
        .filter(|_| offered.iter().any(|p| p == LEGACY_PROTOCOL))
    {
        return upgrade
            .protocols([LEGACY_PROTOCOL])
            .on_upgrade(move |socket| serve_legacy(socket, state, legacy));
    }
    // No known subprotocol: accept, then say why in the close frame (as graphql-ws does).
    upgrade.on_upgrade(|socket| async move {
        let (mut sink, _) = socket.split();
        let _ = sink
            .send(close(
                4406,
                "Subprotocol not acceptable: use graphql-transport-ws",
            ))
            .await;
    })
}

/// The `authorization` value of a `connection_init` payload (`Bearer <token or key>`),
/// kept for the socket's life to re-check the credential at each operation.
fn bearer_of(payload: &Value) -> Option<String> {
    payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Who the credential says the caller is, as it stands now (checked against the database).
async fn authenticate(state: &AppState, bearer: Option<&str>) -> Authentication {
    state
        .principals
        .authenticate(&state.db, &state.jwt, bearer)
        .await
}

/// `Forbidden: <why>`.
fn forbidden_reason(why: Option<&str>) -> String {
    match why {
        Some(why) => format!("Forbidden: {why}"),
        None => "Forbidden".to_owned(),
    }
}

/// A close frame; `reason` is cut to the 123 bytes a close frame may carry.
fn close(code: u16, reason: &str) -> Message {
    let mut reason = reason.to_owned();
    while reason.len() > 123 {
        reason.pop();
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

fn text(value: Value) -> Message {
    Message::Text(value.to_string().into())
}

/// A client message, checked against the protocol's shapes.
enum ClientMessage {
    ConnectionInit(Value),
    Subscribe { id: String, payload: Value },
    Complete { id: String },
    Ping(Option<Value>),
    Pong,
}

fn parse_message(message: &str) -> Result<ClientMessage, String> {
    let value: Value =
        serde_json::from_str(message).map_err(|_| "Invalid message received".to_owned())?;
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .ok_or("Invalid message received: no type")?;
    let id = || {
        value
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| format!("Invalid message received: {kind} without an id"))
    };
    let payload = value.get("payload").cloned().unwrap_or(Value::Null);
    match kind {
        "connection_init" => match payload {
            Value::Null | Value::Object(_) => Ok(ClientMessage::ConnectionInit(payload)),
            _ => Err("Invalid message received: connection_init payload must be an object".into()),
        },
        "subscribe" => {
            let id = id()?;
            if !payload.get("query").is_some_and(Value::is_string) {
                return Err("Invalid message received: subscribe needs payload.query".into());
            }
            Ok(ClientMessage::Subscribe { id, payload })
        }
        "complete" => Ok(ClientMessage::Complete { id: id()? }),
        "ping" => Ok(ClientMessage::Ping(Some(payload).filter(|p| !p.is_null()))),
        "pong" => Ok(ClientMessage::Pong),
        other => Err(format!("Invalid message received: unknown type '{other}'")),
    }
}

/// One graphql-transport-ws socket from handshake to close.
async fn serve(socket: WebSocket, state: AppState) {
    let (mut sink, mut incoming) = socket.split();
    let (out, mut outbox) = mpsc::channel::<Message>(64);
    let writer = tokio::spawn(async move {
        while let Some(message) = outbox.recv().await {
            let last = matches!(message, Message::Close(_));
            if sink.send(message).await.is_err() || last {
                break;
            }
        }
    });
    let init_timeout = Duration::from_secs(state.settings.ws_init_timeout_seconds.max(1));
    let keepalive = Duration::from_secs(state.settings.ws_keepalive_seconds.max(1));
    let init_deadline = tokio::time::sleep(init_timeout);
    tokio::pin!(init_deadline);
    let mut pings = tokio::time::interval_at(tokio::time::Instant::now() + keepalive, keepalive);
    // The credential of an acknowledged `connection_init`.
    let mut bearer: Option<Option<String>> = None;
    // The socket's place in its credential's stream quota, held until it closes.
    let mut _permit = None;
    let mut operations: HashMap<String, JoinHandle<()>> = HashMap::new();
    let (done_tx, mut done) = mpsc::unbounded_channel::<String>();

    let closing = loop {
        tokio::select! {
            _ = &mut init_deadline, if bearer.is_none() => {
                break close(4408, "Connection initialisation timeout");
            }
            _ = pings.tick() => {
                if out.send(text(json!({ "type": "ping" }))).await.is_err() {
                    break close(1000, "");
                }
            }
            Some(id) = done.recv() => {
                operations.remove(&id);
            }
            frame = incoming.next() => {
                let raw = match frame {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Binary(_))) => {
                        break close(4400, "Invalid message received: binary frame");
                    }
                    // Transport-level ping/pong are answered by the WebSocket layer.
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break close(1000, ""),
                };
                let message = match parse_message(raw.as_str()) {
                    Ok(m) => m,
                    Err(reason) => break close(4400, &reason),
                };
                match message {
                    ClientMessage::ConnectionInit(payload) => {
                        if bearer.is_some() {
                            break close(4429, "Too many initialisation requests");
                        }
                        let offered = bearer_of(&payload);
                        match authenticate(&state, offered.as_deref()).await {
                            Authentication::Caller(caller) => match state.streams.open(&caller) {
                                Ok(permit) => {
                                    _permit = Some(permit);
                                    bearer = Some(offered);
                                    let _ = out.send(text(json!({ "type": "connection_ack" }))).await;
                                }
                                // 1013 "Try Again Later": clients reconnect with backoff.
                                Err(e) => break close(1013, &e.public_message()),
                            },
                            refused => {
                                let why = refused.caller().err().map(|e| e.public_message());
                                break close(4403, &forbidden_reason(why.as_deref()));
                            }
                        }
                    }
                    ClientMessage::Subscribe { id, payload } => {
                        let Some(credential) = &bearer else {
                            break close(4401, "Unauthorized");
                        };
                        if operations.contains_key(&id) {
                            break close(4409, &format!("Subscriber for {id} already exists"));
                        }
                        if operations.len() >= MAX_OPERATIONS_PER_SOCKET {
                            let errors = json!([{
                                "message": format!("at most {MAX_OPERATIONS_PER_SOCKET} operations may run on one socket"),
                                "extensions": { "code": "BAD_REQUEST" },
                            }]);
                            let _ = out
                                .send(text(json!({ "id": id, "type": "error", "payload": errors })))
                                .await;
                            continue;
                        }
                        let task = tokio::spawn(run_operation(
                            state.clone(),
                            credential.clone(),
                            id.clone(),
                            payload,
                            out.clone(),
                            done_tx.clone(),
                        ));
                        operations.insert(id, task);
                    }
                    ClientMessage::Complete { id } => {
                        if let Some(task) = operations.remove(&id) {
                            task.abort();
                        }
                    }
                    ClientMessage::Ping(payload) => {
                        let mut pong = json!({ "type": "pong" });
                        if let Some(p) = payload {
                            pong["payload"] = p;
                        }
                        let _ = out.send(text(pong)).await;
                    }
                    ClientMessage::Pong => {}
                }
            }
        }
    };
    for (_, task) in operations.drain() {
        task.abort();
    }
    let _ = out.send(closing).await;
    drop(out);
    let _ = writer.await;
}

/// Runs one operation, sending its results, then `complete` (or one `error`).
async fn run_operation(
    state: AppState,
    bearer: Option<String>,
    id: String,
    payload: Value,
    out: mpsc::Sender<Message>,
    done: mpsc::UnboundedSender<String>,
) {
    let send = |message: Value| {
        let out = out.clone();
        async move { out.send(text(message)).await.is_ok() }
    };
    match serde_json::from_value::<Request>(payload) {
        Err(e) => {
            let errors = json!([{ "message": format!("invalid subscribe payload: {e}"), "extensions": { "code": "BAD_REQUEST" } }]);
            send(json!({ "id": id, "type": "error", "payload": errors })).await;
        }
        Ok(request) => {
            let mut results = gated_stream(state, request, bearer).await;
            let mut first = true;
            let mut ended = true;
            while let Some(response) = results.next().await {
                // A request that cannot run at all is one `error`, with no `complete`.
                if first
                    && response.is_err()
                    && response.data == async_graphql::Value::Null
                    && response.errors.iter().all(|e| e.path.is_empty())
                {
                    let errors = crate::web::graphql_http::request_errors(&response);
                    send(json!({ "id": id, "type": "error", "payload": errors })).await;
                    ended = false;
                    break;
                }
                first = false;
                let body = serde_json::to_value(&response).unwrap_or(Value::Null);
                if !send(json!({ "id": id, "type": "next", "payload": body })).await {
                    ended = false;
                    break;
                }
            }
            if ended {
                send(json!({ "id": id, "type": "complete" })).await;
            }
        }
    }
    let _ = done.send(id);
}

/// One operation through the gate, on either protocol: the credential re-checked as it
/// stands now, the request admitted by the [`QueryGuard`] (size, cost, anonymous rules),
/// a query held to the time budget, and a subscription ended with an `UNAUTHENTICATED`
/// error when its credential is revoked on this instance.
async fn gated_stream(
    state: AppState,
    request: Request,
    bearer: Option<String>,
) -> BoxStream<'static, async_graphql::Response> {
    let one = |r: async_graphql::Response| stream::once(async move { r }).boxed();
    let revocations = state.principals.revocations();
    let auth = authenticate(&state, bearer.as_deref()).await;
    let caller = match auth.caller() {
        Ok(c) => c.clone(),
        Err(e) => return one(error_response(e)),
    };
    let mut request = request
        .data(LoaderSet::new(state.db.clone(), caller.account_id))
        .data(auth.clone());
    let guard = state.query_guard.clone();
    let analysis = match guard.admit(&mut request, &auth) {
        Ok(a) => a,
        Err(refusal) => return one(*refusal),
    };
    let operation = analysis.and_then(|a| a.operation);
    if operation != Some(OperationType::Subscription) {
        // A query or mutation holds an execution slot as it would over HTTP; a
        // subscription lives long and is bounded by the stream quota instead.
        let admission = state.admission.clone();
        let schema = state.schema.clone();
        return stream::once(async move {
            let _slot = match admission.enter().await {
                Ok(slot) => slot,
                Err(refusal) => return error_response(refusal.into()),
            };
            let mut results = schema.execute_stream(request);
            let answer = async move { results.next().await.unwrap_or_default() };
            if operation == Some(OperationType::Query) {
                guard.within_budget(answer).await
            } else {
                answer.await
            }
        })
        .boxed();
    }
    let results = state.schema.execute_stream(request);
    let stopped = Arc::new(AtomicBool::new(false));
    let flag = stopped.clone();
    let until_revoked = async move {
        let still_valid = || async {
            matches!(
                authenticate(&state, bearer.as_deref()).await,
                Authentication::Caller(_)
            )
        };
        until_revoked(revocations, &caller, still_valid).await;
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
    results.take_until(until_revoked).chain(ending).boxed()
}

/// The legacy protocol, as async-graphql implements it, through the same gate.
async fn serve_legacy(socket: WebSocket, state: AppState, protocol: GraphQLProtocol) {
    let executor = LegacyExecutor {
        state: state.clone(),
        active: Arc::new(AtomicUsize::new(0)),
    };
    GraphQLWebSocket::new(socket, executor, protocol)
        .on_connection_init(move |payload| async move {
            let offered = bearer_of(&payload);
            match authenticate(&state, offered.as_deref()).await {
                Authentication::Caller(caller) => {
                    let permit = state.streams.open(&caller)?;
                    let mut data = Data::default();
                    data.insert(Bearer(offered));
                    // Session data lives as long as the socket: so does its quota place.
                    data.insert(permit);
                    Ok(data)
                }
                other => {
                    let err = other
                        .caller()
                        .err()
                        .unwrap_or_else(|| AppError::Unauthenticated("missing token".into()));
                    Err(async_graphql::Error::from(err))
                }
            }
        })
        .serve()
        .await
}

/// The legacy socket's credential, kept in its session data.
struct Bearer(Option<String>);

/// Runs a legacy socket's operations through [`gated_stream`]; one per socket.
#[derive(Clone)]
struct LegacyExecutor {
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

impl Executor for LegacyExecutor {
    /// Not used by the WebSocket transport (it streams every operation); gated all the same.
    async fn execute(&self, request: Request) -> async_graphql::Response {
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
    ) -> BoxStream<'static, async_graphql::Response> {
        let bearer = session_data
            .as_ref()
            .and_then(|d| d.get(&TypeId::of::<Bearer>()))
            .and_then(|b| b.downcast_ref::<Bearer>())
            .and_then(|b| b.0.clone());
        if self.active.fetch_add(1, Ordering::AcqRel) >= MAX_OPERATIONS_PER_SOCKET {
            self.active.fetch_sub(1, Ordering::AcqRel);
            let refusal = error_response(AppError::RateLimited(format!(
                "at most {MAX_OPERATIONS_PER_SOCKET} operations may run at once on one socket"
            )));
            return stream::once(async move { refusal }).boxed();
        }
        let slot = Slot(self.active.clone());
        let state = self.state.clone();
        stream::once(gated_stream(state, request, bearer))
            .flatten()
            .map(move |r| {
                let _held = &slot;
                r
            })
            .boxed()
    }
}
