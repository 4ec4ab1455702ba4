mod audit;
mod catalog;
mod conflicts;
mod connections;
mod finances;
mod me;
pub mod recoveries;
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
    recoveries::RecoveriesQuery,
);
