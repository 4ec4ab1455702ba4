//! The GraphQL API: thin resolvers that parse, authorise, call `store`/`sync`, and map.

pub mod bounds;
pub mod eager;
pub mod guard;
pub mod limits;
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

const DECIMAL_DESCRIPTION: &str = "An exact decimal number as a JSON string, e.g. \"1234.50\" or \"-0.0125\": \
digits with an optional leading minus and an optional decimal point; no exponent, no \
thousands separators, never a float. Money is kept to 4 decimal places; answers leave out \
trailing zeros (a price of 39.90 comes back as \"39.9\"). Amounts carry no currency of their own: they are in the \
connected system's currency (Amazon finance rows name theirs).";

const DATETIME_DESCRIPTION: &str = "An instant as an RFC 3339 string, always in UTC with an explicit offset, \
e.g. \"2026-12-04T09:30:00.123Z\" (fractional seconds optional). Inputs may use any offset \
(\"2026-12-04T10:30:00+01:00\") and are converted to UTC.";

const DATE_DESCRIPTION: &str = "A calendar date without time or time zone, as \"YYYY-MM-DD\" (ISO 8601), \
e.g. \"2026-12-04\".";

const JSON_DESCRIPTION: &str = "Any JSON value (object, array, string, number, boolean or null), passed through \
as is; the field's description says what shape to expect.";

/// Describes the Relay connection type of each listed node type.
macro_rules! describe_lists {
    ($builder:expr, $($node:ty => $what:literal),* $(,)?) => {
        $builder$(.override_output_type_description::<types::relay::RelayConnection<$node>>(
            concat!("A page of ", $what, " (a Relay connection): `edges { node cursor }`, \
                `pageInfo`, and `totalCount` across all pages.")
        ))*
    };
}

/// No schema extensions: `eager` resolves page fields without the per-field hooks they need.
///
/// No async-graphql depth or complexity limits either: they expand fragments at every
/// spread (exponential in the query's size). [`guard`] checks every request first, in
/// linear time, with limits that also count page sizes.
pub fn build_schema(state: Option<AppState>) -> AppSchema {
    let mut builder = Schema::build(
        query::QueryRoot::default(),
        mutation::MutationRoot::default(),
        subscription::SubscriptionRoot,
    )
    // The library's scalars, described for the people and tools reading the schema.
    .override_output_type_description::<rust_decimal::Decimal>(DECIMAL_DESCRIPTION)
    .override_output_type_description::<chrono::DateTime<chrono::Utc>>(DATETIME_DESCRIPTION)
    .override_output_type_description::<chrono::NaiveDate>(DATE_DESCRIPTION)
    .override_output_type_description::<async_graphql::Json<serde_json::Value>>(JSON_DESCRIPTION)
    .override_output_type_description::<ID>(
        "An opaque identifier, sent and received as a string (e.g. \"42\").",
    );
    builder = describe_lists!(builder,
        types::audit::AuditEntry => "audit log entries",
        types::category::Category => "categories",
        types::conflict::Conflict => "conflicts",
        types::connection::Connection => "connections",
        eager::Eager<types::item::Item> => "items",
        types::conflict::FailedRecord => "records whose last sync failed",
        types::finance::FinancialEvent => "Amazon financial event lines",
        types::recoveries::AmazonClaim => "Amazon claims",
        types::recoveries::AmazonReimbursement => "Amazon reimbursements",
        types::run::SyncEvent => "run events",
        types::run::SyncRun => "sync runs",
        types::vendor_price::VendorPrice => "vendor prices",
        types::vendor_feed::VendorFeed => "vendor price feeds",
        types::alert::AlertDelivery => "alert deliveries",
    );
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

/// An admin signed in as a user (not an API key): for managing credentials.
pub fn user_admin<'a>(ctx: &Context<'a>) -> AppResult<&'a Caller> {
    let c = admin(ctx)?;
    c.require_user()?;
    Ok(c)
}

/// A signed-in user (not an API key): for their own password and sessions.
pub fn signed_in_user<'a>(ctx: &Context<'a>) -> AppResult<&'a Caller> {
    let c = caller(ctx)?;
    c.require_user()?;
    Ok(c)
}

pub fn parse_id(id: &ID, what: &str) -> AppResult<i64> {
    id.parse::<i64>()
        .map_err(|_| AppError::bad_input(format!("'{}' is not a valid {what} id", id.as_str())))
}

/// Client address, for per-IP login throttling.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub std::net::IpAddr);
