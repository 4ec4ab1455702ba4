//! Signing in: failed attempts throttled per email+IP, constant-ish time for unknown
//! emails, audited.

use super::Caller;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store;
use dashmap::DashMap;
use entity::user;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

/// How long one email from one address stays locked after too many failures.
const LOCKOUT: Duration = Duration::from_secs(60);

/// Counts failed sign-ins per email+address (10 a minute); one more locks that pair out
/// for a minute, correct password or not. Successful sign-ins are never counted, so a
/// user (or a dashboard) signing in often is not locked out.
pub struct LoginThrottle {
    failures: DefaultKeyedRateLimiter<String>,
    locked_until: DashMap<String, Instant>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle {
            failures: RateLimiter::keyed(Quota::per_minute(NonZeroU32::new(10).expect("non-zero"))),
            locked_until: DashMap::new(),
        }
    }
}

impl LoginThrottle {
    fn is_locked(&self, key: &str) -> bool {
        let until = self.locked_until.get(key).map(|u| *u);
        match until {
            Some(until) if until > Instant::now() => true,
            Some(_) => {
                self.locked_until.remove(key);
                false
            }
            None => false,
        }
    }

    /// Counts a failure; true when it was one too many and the pair is now locked.
    fn record_failure(&self, key: &str) -> bool {
        let exhausted = self.failures.check_key(&key.to_owned()).is_err();
        if exhausted {
            self.locked_until
                .insert(key.to_owned(), Instant::now() + LOCKOUT);
        }
        exhausted
    }
}

pub struct Session {
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub user: user::Model,
}

pub async fn login(
    state: &AppState,
    email: &str,
    password: String,
    ip: Option<IpAddr>,
) -> AppResult<Session> {
    let email = email.trim().to_lowercase();
    let key = format!("{email}|{}", ip.map(|i| i.to_string()).unwrap_or_default());
    if state.login_throttle.is_locked(&key) {
        return Err(AppError::RateLimited(
            "too many sign-in attempts; wait a minute and try again".into(),
        ));
    }
    let found = store::users::find_by_email(&state.db, &email).await?;
    let stored_hash = match &found {
        Some(u) => u.password_hash.clone(),
        None => super::password::dummy_hash().await?,
    };
    let ok = super::password::verify(password, stored_hash).await?;
    let Some(user) = found.filter(|_| ok) else {
        if state.login_throttle.record_failure(&key) {
            return Err(AppError::RateLimited(
                "too many sign-in attempts; wait a minute and try again".into(),
            ));
        }
        tracing::info!(
            email_domain = email.split('@').nth(1).unwrap_or(""),
            "sign-in refused"
        );
        return Err(AppError::Unauthenticated("wrong email or password".into()));
    };
    let caller = Caller {
        user_id: user.id,
        account_id: user.account_id,
        email: user.email.clone(),
        role: user.role,
    };
    let expires_at =
        chrono::Utc::now() + chrono::Duration::minutes(state.settings.token_ttl_minutes);
    let token = state.jwt.issue_with_expiry(&caller, expires_at)?;
    store::users::touch_login(&state.db, user.id).await?;
    store::audit::record(
        &state.db,
        &caller,
        "login",
        Some(("user", user.id.to_string())),
        serde_json::json!({}),
    )
    .await?;
    Ok(Session {
        token,
        expires_at,
        user,
    })
}
