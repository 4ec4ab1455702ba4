mod api_keys;
mod auth;
mod conflicts;
mod connections;
mod csv;
mod items;
pub mod oauth;
mod sync;
mod users;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct MutationRoot(
    auth::AuthMutation,
    connections::ConnectionMutation,
    items::ItemMutation,
    users::UserMutation,
    api_keys::ApiKeyMutation,
    sync::SyncMutation,
    conflicts::ConflictMutation,
    oauth::OAuthMutation,
    csv::CsvMutation,
);
