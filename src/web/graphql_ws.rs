//! GraphQL subscriptions over WebSocket (graphql-transport-ws and the legacy protocol).
//! The JWT travels in the `connection_init` payload as `{"authorization": "Bearer …"}`.

use crate::auth::Authentication;
use crate::error::AppError;
use crate::graphql::loaders::LoaderSet;
use crate::state::AppState;
use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response;

pub async fn handle(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            let schema = state.schema.clone();
            GraphQLWebSocket::new(socket, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let header = payload
                        .get("authorization")
                        .or_else(|| payload.get("Authorization"))
                        .and_then(|v| v.as_str())
                        .map(str::to_owned);
                    match state.jwt.authenticate(header.as_deref()) {
                        Authentication::Caller(caller) => {
                            let mut data = Data::default();
                            data.insert(LoaderSet::new(state.db.clone(), caller.account_id));
                            data.insert(Authentication::Caller(caller));
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
