mod alerts;
mod api_keys;
mod audit;
mod catalog;
mod conflicts;
mod connections;
mod feeds;
mod finances;
mod me;
pub mod recoveries;
pub mod runs;

use async_graphql::MergedObject;

/// What can be read. Every field needs `Authorization: Bearer <token>` and answers for your account only.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    me::MeQuery,
    api_keys::ApiKeyQuery,
    connections::ConnectionQuery,
    catalog::CatalogQuery,
    audit::AuditQuery,
    runs::RunQuery,
    conflicts::ConflictQuery,
    finances::FinanceQuery,
    recoveries::RecoveriesQuery,
    feeds::FeedQuery,
    alerts::AlertQuery,
);
