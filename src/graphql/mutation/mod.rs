mod auth;
mod connections;
mod csv;
mod items;
mod sync;
mod users;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct MutationRoot(
    auth::AuthMutation,
    connections::ConnectionMutation,
    items::ItemMutation,
    users::UserMutation,
    sync::SyncMutation,
    csv::CsvMutation,
);
