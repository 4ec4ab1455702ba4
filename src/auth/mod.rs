//! Authentication and authorisation: who is calling, and may they do this.

pub mod jwt;
pub mod keys;
pub mod password;
pub mod secrets;
pub mod session;

use crate::error::{AppError, AppResult};
use entity::enums::Role;

/// The authenticated caller of a request, taken from a verified session token.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user_id: i64,
    pub account_id: i64,
    pub email: String,
    pub role: Role,
}

impl Caller {
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
}

/// What a request carried: a valid caller, a refused token, or nothing.
#[derive(Clone, Debug)]
pub enum Authentication {
    Caller(Caller),
    Refused(String),
    Missing,
}

impl Authentication {
    pub fn caller(&self) -> AppResult<&Caller> {
        match self {
            Authentication::Caller(c) => Ok(c),
            Authentication::Refused(why) => Err(AppError::Unauthenticated(why.clone())),
            Authentication::Missing => {
                Err(AppError::Unauthenticated("missing bearer token".into()))
            }
        }
    }
}
