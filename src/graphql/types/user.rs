use super::enums::Role;
use async_graphql::{ID, SimpleObject};
use entity::user;

/// A person who signs in; belongs to one account.
#[derive(SimpleObject, Clone)]
pub struct User {
    /// The user id.
    pub id: ID,
    /// Sign-in email.
    pub email: String,
    /// What the user may do.
    pub role: Role,
    /// The account (tenant) the user belongs to.
    pub account_id: ID,
    /// When the user was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last successful sign-in; null if never.
    pub last_login_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<user::Model> for User {
    fn from(u: user::Model) -> Self {
        User {
            id: u.id.into(),
            email: u.email,
            role: u.role.into(),
            account_id: u.account_id.into(),
            created_at: u.created_at,
            last_login_at: u.last_login_at,
        }
    }
}

/// A new session.
#[derive(SimpleObject)]
pub struct LoginPayload {
    /// The session token: send it as `Authorization: Bearer <token>`.
    pub token: String,
    /// When the token stops working (`--token-ttl-minutes` after sign-in).
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// Who signed in.
    pub user: User,
}
