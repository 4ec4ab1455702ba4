mod audit;
mod catalog;
mod conflicts;
mod connections;
mod feeds;
mod finances;
mod me;
pub mod runs;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    me::MeQuery,
    connections::ConnectionQuery,
    catalog::CatalogQuery,
    audit::AuditQuery,
    runs::RunQuery,
    conflicts::ConflictQuery,
    finances::FinanceQuery,
    feeds::FeedQuery,
);
