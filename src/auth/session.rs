//! Signing in: failed attempts throttled per email+address, per address and server-wide,
//! password checks bounded in number, constant-ish time for unknown emails, audited.
//!
//! A password check is argon2 with 19 MiB of memory: two hundred at once cost gigabytes.
//! So at most [`LoginThrottle::verifying`] checks run at a time (the CPU count), at most
//! [`MAX_WAITING`] wait for one, and everything beyond is refused at once. Failures are
//! counted in three scopes — email+address (10 a minute), address (30 a minute) and the
//! whole server (120 a minute) — and one too many locks that scope for a minute, correct
//! password or not; a locked scope refuses without checking anything. Successful sign-ins
//! are never counted, so a user (or a dashboard) signing in often is not locked out.
//! The server-wide lock means a distributed guessing attack pauses sign-ins for everyone
//! for a minute at a time: the price of never checking thousands of passwords a minute.
//!
//! State stays bounded: a key is only added by a failure that was checked, checks are at
//! most 120 a minute server-wide, and stale keys are swept every minute.

use super::Caller;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store;
use dashmap::DashMap;
use entity::user;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// How long a scope stays locked after too many failures.
const LOCKOUT: Duration = Duration::from_secs(60);
/// Failed sign-ins a minute before a lock, per email+address, per address, server-wide.
pub const PAIR_FAILURES_PER_MINUTE: u32 = 10;
pub const ADDRESS_FAILURES_PER_MINUTE: u32 = 30;
pub const SERVER_FAILURES_PER_MINUTE: u32 = 120;
/// Sign-ins waiting for a password check beyond the running ones; more are refused.
pub const MAX_WAITING: usize = 64;
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Failures of one scope (by key) and the keys locked out.
struct Scope {
    failures: DefaultKeyedRateLimiter<String>,
    locked_until: DashMap<String, Instant>,
    refusal: &'static str,
}

impl Scope {
    fn new(per_minute: u32, refusal: &'static str) -> Scope {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Scope {
            failures: RateLimiter::keyed(Quota::per_minute(per_minute)),
            locked_until: DashMap::new(),
            refusal,
        }
    }

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

    /// Counts a failure; true when it was one too many and the key is now locked.
    fn record_failure(&self, key: &str) -> bool {
        let exhausted = self.failures.check_key(&key.to_owned()).is_err();
        if exhausted {
            self.locked_until
                .insert(key.to_owned(), Instant::now() + LOCKOUT);
        }
        exhausted
    }

    fn sweep(&self) {
        let now = Instant::now();
        self.locked_until.retain(|_, until| *until > now);
        self.locked_until.shrink_to_fit();
        self.failures.retain_recent();
        self.failures.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.failures.len() + self.locked_until.len()
    }
}

pub struct LoginThrottle {
    pair: Scope,
    address: Scope,
    server: Scope,
    /// Password checks running at once.
    verifying: Semaphore,
    waiting: AtomicUsize,
    last_sweep: Mutex<Instant>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        let checks = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
        LoginThrottle {
            pair: Scope::new(
                PAIR_FAILURES_PER_MINUTE,
                "too many sign-in attempts; wait a minute and try again",
            ),
            address: Scope::new(
                ADDRESS_FAILURES_PER_MINUTE,
                "too many failed sign-ins from this address; wait a minute and try again",
            ),
            server: Scope::new(
                SERVER_FAILURES_PER_MINUTE,
                "too many failed sign-ins on this server; wait a minute and try again",
            ),
            verifying: Semaphore::new(checks),
            waiting: AtomicUsize::new(0),
            last_sweep: Mutex::new(Instant::now()),
        }
    }
}

/// The keys of one attempt in each scope.
struct AttemptKeys {
    pair: String,
    address: String,
}

const SERVER_KEY: &str = "*";

impl LoginThrottle {
    fn scopes<'a>(&'a self, keys: &'a AttemptKeys) -> [(&'a Scope, &'a str); 3] {
        [
            (&self.pair, keys.pair.as_str()),
            (&self.address, keys.address.as_str()),
            (&self.server, SERVER_KEY),
        ]
    }

    fn refuse_if_locked(&self, keys: &AttemptKeys) -> AppResult<()> {
        match self.scopes(keys).into_iter().find(|(s, k)| s.is_locked(k)) {
            Some((scope, _)) => Err(AppError::RateLimited(scope.refusal.into())),
            None => Ok(()),
        }
    }

    /// Counts a failure in every scope; the refusal of the first scope it locked, if any.
    fn record_failure(&self, keys: &AttemptKeys) -> Option<&'static str> {
        self.sweep_now_and_then();
        let mut locked = None;
        for (scope, key) in self.scopes(keys) {
            if scope.record_failure(key) && locked.is_none() {
                locked = Some(scope.refusal);
            }
        }
        locked
    }

    fn sweep_now_and_then(&self) {
        let Ok(mut last) = self.last_sweep.try_lock() else {
            return;
        };
        if last.elapsed() >= SWEEP_EVERY {
            *last = Instant::now();
            for scope in [&self.pair, &self.address, &self.server] {
                scope.sweep();
            }
        }
    }

    /// Entries held across all scopes (for tests of boundedness).
    pub fn entries(&self) -> usize {
        self.pair.len() + self.address.len() + self.server.len()
    }

    /// Waits for a password-check slot, or refuses when too many are waiting already.
    async fn check_slot(&self) -> AppResult<tokio::sync::SemaphorePermit<'_>> {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= MAX_WAITING {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(AppError::RateLimited(
                "the server is busy with other sign-ins; try again in a moment".into(),
            ));
        }
        let permit = self.verifying.acquire().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        permit.map_err(AppError::internal)
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
    let address = ip.map(|i| i.to_string()).unwrap_or_default();
    let keys = AttemptKeys {
        pair: format!("{email}|{address}"),
        address,
    };
    let throttle = &state.login_throttle;
    throttle.refuse_if_locked(&keys)?;
    let slot = throttle.check_slot().await?;
    // A scope may have locked while this attempt waited for its turn.
    throttle.refuse_if_locked(&keys)?;
    let found = store::users::find_by_email(&state.db, &email).await?;
    let stored_hash = match &found {
        Some(u) => u.password_hash.clone(),
        None => super::password::dummy_hash().await?,
    };
    let ok = super::password::verify(password, stored_hash).await?;
    drop(slot);
    let Some(user) = found.filter(|_| ok) else {
        if let Some(refusal) = throttle.record_failure(&keys) {
            return Err(AppError::RateLimited(refusal.into()));
        }
        tracing::info!(
            email_domain = email.split('@').nth(1).unwrap_or(""),
            "sign-in refused"
        );
        return Err(AppError::Unauthenticated("wrong email or password".into()));
    };
    let session = issue(state, user)?;
    store::users::touch_login(&state.db, session.user.id).await?;
    store::audit::record(
        &state.db,
        &Caller::for_user(&session.user),
        "login",
        Some(("user", session.user.id.to_string())),
        serde_json::json!({}),
    )
    .await?;
    Ok(session)
}

/// Changes a signed-in user's password after checking the current one (a check throttled
/// like a sign-in, so a stolen session cannot guess the password), revoking every session
/// of the user; answers a new session.
pub async fn change_password(
    state: &AppState,
    caller: &Caller,
    current: String,
    new: String,
    ip: Option<IpAddr>,
) -> AppResult<Session> {
    let user = store::users::get(&state.db, caller.account_id, caller.user_id).await?;
    let address = ip.map(|i| i.to_string()).unwrap_or_default();
    let keys = AttemptKeys {
        pair: format!("{}|{address}", user.email),
        address,
    };
    let throttle = &state.login_throttle;
    throttle.refuse_if_locked(&keys)?;
    let slot = throttle.check_slot().await?;
    throttle.refuse_if_locked(&keys)?;
    let ok = super::password::verify(current, user.password_hash.clone()).await?;
    drop(slot);
    if !ok {
        if let Some(refusal) = throttle.record_failure(&keys) {
            return Err(AppError::RateLimited(refusal.into()));
        }
        return Err(AppError::bad_input("the current password is wrong"));
    }
    let hash = super::password::hash_new(new, vec![user.email.clone(), "pricebook".into()]).await?;
    let user = store::users::set_password(&state.db, user.account_id, user.id, hash).await?;
    state.principals.forget_user(user.id);
    store::audit::record(
        &state.db,
        caller,
        "user.password",
        Some(("user", user.id.to_string())),
        serde_json::json!({}),
    )
    .await?;
    issue(state, user)
}

/// A new session token for the user at their current token version.
pub fn issue(state: &AppState, user: user::Model) -> AppResult<Session> {
    let expires_at =
        chrono::Utc::now() + chrono::Duration::minutes(state.settings.token_ttl_minutes);
    let token =
        state
            .jwt
            .issue_session(&Caller::for_user(&user), user.token_version, expires_at)?;
    Ok(Session {
        token,
        expires_at,
        user,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(email: &str, ip: &str) -> AttemptKeys {
        AttemptKeys {
            pair: format!("{email}|{ip}"),
            address: ip.into(),
        }
    }

    #[test]
    fn each_scope_locks_after_its_budget() {
        let t = LoginThrottle::default();
        // One email from one address: the pair locks after 10.
        for _ in 0..PAIR_FAILURES_PER_MINUTE {
            assert_eq!(t.record_failure(&keys("a@x", "1.1.1.1")), None);
        }
        assert!(t.record_failure(&keys("a@x", "1.1.1.1")).is_some());
        assert!(t.refuse_if_locked(&keys("a@x", "1.1.1.1")).is_err());
        assert!(t.refuse_if_locked(&keys("b@x", "1.1.1.1")).is_ok());

        // Many emails from one address: the address locks after 30.
        let t = LoginThrottle::default();
        let mut locked_at = None;
        for i in 0..40 {
            if t.record_failure(&keys(&format!("u{i}@x"), "2.2.2.2"))
                .is_some()
            {
                locked_at = Some(i);
                break;
            }
        }
        assert_eq!(locked_at, Some(ADDRESS_FAILURES_PER_MINUTE as usize));
        assert!(t.refuse_if_locked(&keys("new@x", "2.2.2.2")).is_err());
        assert!(t.refuse_if_locked(&keys("new@x", "3.3.3.3")).is_ok());

        // Many emails from many addresses: the server locks after 120.
        let t = LoginThrottle::default();
        let mut locked_at = None;
        for i in 0..200 {
            if t.record_failure(&keys(
                &format!("u{i}@x"),
                &format!("10.0.{}.{}", i / 250, i % 250),
            ))
            .is_some()
            {
                locked_at = Some(i);
                break;
            }
        }
        assert_eq!(locked_at, Some(SERVER_FAILURES_PER_MINUTE as usize));
        assert!(t.refuse_if_locked(&keys("anyone@x", "9.9.9.9")).is_err());
    }

    #[test]
    fn sweeping_drops_stale_state() {
        let t = LoginThrottle::default();
        for i in 0..50 {
            t.pair.record_failure(&format!("u{i}"));
        }
        assert!(t.entries() >= 50);
        // Fresh failures are recent: nothing to drop yet, and locks that expired go.
        t.pair
            .locked_until
            .insert("old".into(), Instant::now() - Duration::from_secs(1));
        t.pair.sweep();
        assert!(!t.pair.locked_until.contains_key("old"));
    }
}
