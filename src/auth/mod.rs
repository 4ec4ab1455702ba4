//! Authentication and authorisation: who is calling, and may they do this.

pub mod api_keys;
pub mod jwt;
pub mod keys;
pub mod password;
pub mod principal;
pub mod secrets;
pub mod session;

use crate::error::{AppError, AppResult};
use entity::enums::Role;

/// The authenticated caller of a request: a signed-in user, or an API key acting with its
/// own role in its account. Built from the database row on every request, so a changed
/// role or a revoked session takes effect at once.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The user; for an API key, the admin who created it (runs and imports it starts
    /// are requested on their behalf).
    pub user_id: i64,
    pub account_id: i64,
    /// The actor name of the audit log: the user's email, or `api-key:<name>`.
    pub email: String,
    pub role: Role,
    /// Set when the request carried an API key instead of a session token.
    pub api_key_id: Option<i64>,
}

impl Caller {
    pub fn for_user(user: &entity::user::Model) -> Caller {
        Caller {
            user_id: user.id,
            account_id: user.account_id,
            email: user.email.clone(),
            role: user.role,
            api_key_id: None,
        }
    }

    pub fn for_api_key(key: &entity::api_key::Model) -> Caller {
        Caller {
            user_id: key.created_by.unwrap_or_default(),
            account_id: key.account_id,
            email: format!("api-key:{}", key.name),
            role: key.role,
            api_key_id: Some(key.id),
        }
    }

    /// Editors and admins may change data; viewers only read.
    pub fn require_editor(&self) -> AppResult<()> {
        match self.role {
            Role::Admin | Role::Editor => Ok(()),
            Role::Viewer => Err(AppError::Forbidden("viewers cannot change data".into())),
        }
    }

    pub fn require_admin(&self) -> AppResult<()> {
        match self.role {
            Role::Admin => Ok(()),
            _ => Err(AppError::Forbidden("only admins can do this".into())),
        }
    }

    /// Managing credentials (users, passwords, sessions, API keys) needs a person signed
    /// in: a leaked API key must not be able to mint the credentials that outlive it.
    pub fn require_user(&self) -> AppResult<()> {
        match self.api_key_id {
            None => Ok(()),
            Some(_) => Err(AppError::Forbidden(
                "an API key cannot manage users, sessions or keys; sign in as a user".into(),
            )),
        }
    }
}

/// What a request carried: a valid caller, a refused credential, nothing, or a credential
/// that could not be checked (the database did not answer).
#[derive(Clone, Debug)]
pub enum Authentication {
    Caller(Caller),
    Refused(String),
    Missing,
    Unchecked(String),
}

impl Authentication {
    pub fn caller(&self) -> AppResult<&Caller> {
        match self {
            Authentication::Caller(c) => Ok(c),
            Authentication::Refused(why) => Err(AppError::Unauthenticated(why.clone())),
            Authentication::Missing => {
                Err(AppError::Unauthenticated("missing bearer token".into()))
            }
            Authentication::Unchecked(why) => Err(AppError::Internal(why.clone())),
        }
    }
}
