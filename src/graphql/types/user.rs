use super::enums::Role;
use async_graphql::{ID, SimpleObject};
use entity::user;

#[derive(SimpleObject, Clone)]
pub struct User {
    pub id: ID,
    pub email: String,
    pub role: Role,
    pub account_id: ID,
    pub created_at: chrono::DateTime<chrono::Utc>,
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

#[derive(SimpleObject)]
pub struct LoginPayload {
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub user: User,
}
