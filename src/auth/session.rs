//! Signing in: throttled per email+IP, constant-ish time for unknown emails, audited.

use super::Caller;
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::store;
use entity::user;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;

/// At most 10 attempts a minute for one email from one address.
pub fn login_limiter() -> DefaultKeyedRateLimiter<String> {
    RateLimiter::keyed(Quota::per_minute(NonZeroU32::new(10).expect("non-zero")))
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
    if state.login_limiter.check_key(&key).is_err() {
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
