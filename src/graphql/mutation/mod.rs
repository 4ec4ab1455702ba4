mod auth;
mod connections;
mod items;
mod users;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct MutationRoot(
    auth::AuthMutation,
    connections::ConnectionMutation,
    items::ItemMutation,
    users::UserMutation,
);
