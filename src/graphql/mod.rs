//! The GraphQL API: thin resolvers that parse, authorise, call `store`/`sync`, and map.

pub mod bounds;
pub mod eager;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod subscription;
pub mod types;

use crate::auth::{Authentication, Caller};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use async_graphql::{Context, ID, Schema};

pub type AppSchema =
    Schema<query::QueryRoot, mutation::MutationRoot, subscription::SubscriptionRoot>;

/// Depth and complexity limits keep one request from costing the server a minute.
pub const MAX_DEPTH: usize = 12;
pub const MAX_COMPLEXITY: usize = 20_000;

/// No schema extensions: `eager` resolves page fields without the per-field hooks they need.
pub fn build_schema(state: Option<AppState>) -> AppSchema {
    let mut builder = Schema::build(
        query::QueryRoot::default(),
        mutation::MutationRoot::default(),
        subscription::SubscriptionRoot,
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY);
    if let Some(state) = state {
        builder = builder.data(state);
    }
    builder.finish()
}

/// The schema printed as SDL (what `export-schema` writes and `schema.graphql` holds).
pub fn sdl() -> String {
    build_schema(None).sdl()
}

pub fn state<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

pub fn caller<'a>(ctx: &Context<'a>) -> AppResult<&'a Caller> {
    ctx.data::<Authentication>()
        .map_err(|_| AppError::Unauthenticated("missing bearer token".into()))?
        .caller()
}

pub fn editor<'a>(ctx: &Context<'a>) -> AppResult<&'a Caller> {
    let c = caller(ctx)?;
    c.require_editor()?;
    Ok(c)
}

pub fn admin<'a>(ctx: &Context<'a>) -> AppResult<&'a Caller> {
    let c = caller(ctx)?;
    c.require_admin()?;
    Ok(c)
}

pub fn parse_id(id: &ID, what: &str) -> AppResult<i64> {
    id.parse::<i64>()
        .map_err(|_| AppError::bad_input(format!("'{}' is not a valid {what} id", id.as_str())))
}

/// Client address, for per-IP login throttling.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub std::net::IpAddr);
