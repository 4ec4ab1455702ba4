mod alerts;
mod api_keys;
mod auth;
mod conflicts;
mod connections;
mod csv;
mod events;
mod feeds;
mod items;
pub mod oauth;
mod policy;
mod recoveries;
mod sync;
mod users;

use async_graphql::MergedObject;

/// What can be changed. Every field but `login` needs `Authorization: Bearer <token>`; roles limit the rest.
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
    events::EventsMutation,
    recoveries::RecoveriesMutation,
    feeds::FeedMutation,
    policy::PolicyMutation,
    alerts::AlertMutation,
);
