mod auth;
mod conflicts;
mod connections;
mod csv;
mod feeds;
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
    sync::SyncMutation,
    conflicts::ConflictMutation,
    oauth::OAuthMutation,
    csv::CsvMutation,
    feeds::FeedMutation,
);
