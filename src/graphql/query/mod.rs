mod audit;
mod catalog;
mod connections;
mod me;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    me::MeQuery,
    connections::ConnectionQuery,
    catalog::CatalogQuery,
    audit::AuditQuery,
);
