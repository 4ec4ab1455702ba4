//! Who is calling: a bearer value (session token or API key) checked against the database
//! on every request, so a demoted, deleted or signed-out user and a revoked key lose access
//! at once.
//!
//! The rows are cached for [`FRESH_FOR`]: a dashboard firing hundreds of requests a second
//! costs one lookup per couple of seconds, not one per request. A change made on this
//! instance drops the cached row immediately ([`Principals::forget_user`],
//! [`Principals::forget_key`]); other instances sharing a PostgreSQL database see it when
//! their copy goes stale, within [`FRESH_FOR`]. The cache holds only rows that exist (users
//! named by validly signed tokens, keys that were found), so its size is bounded by the
//! database, not by what clients send.

use super::jwt::JwtKeys;
use super::{Authentication, Caller, api_keys};
use crate::error::AppResult;
use crate::store::{self, Db};
use dashmap::DashMap;
use entity::{api_key, user};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// How long a looked-up row is trusted before it is read again.
pub const FRESH_FOR: Duration = Duration::from_secs(2);
/// `last_used_at` of a key is written at most this often.
const TOUCH_EVERY_SECONDS: i64 = 60;

/// A credential that was revoked on this instance, for live connections to drop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revoked {
    User(i64),
    ApiKey(i64),
}

struct Cached<T> {
    row: T,
    at: Instant,
}

pub struct Principals {
    /// User rows by id (`None`: deleted) for the token versions and current roles.
    users: DashMap<i64, Cached<Option<user::Model>>>,
    /// API keys by the hash of the key.
    keys: DashMap<String, Cached<api_key::Model>>,
    revoked: broadcast::Sender<Revoked>,
}

impl Default for Principals {
    fn default() -> Self {
        Principals {
            users: DashMap::new(),
            keys: DashMap::new(),
            revoked: broadcast::channel(64).0,
        }
    }
}

const SIGNED_OUT: &str =
    "this session was signed out (password, role or account changed); sign in again";

impl Principals {
    /// Reads an `Authorization: Bearer …` value (header, WebSocket init payload).
    pub async fn authenticate(
        &self,
        db: &Db,
        jwt: &JwtKeys,
        authorization: Option<&str>,
    ) -> Authentication {
        let Some(value) = authorization.map(str::trim).filter(|v| !v.is_empty()) else {
            return Authentication::Missing;
        };
        let bearer = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Authentication::Refused("authorization must be 'Bearer <token>'".into()),
        };
        let checked = if api_keys::looks_like_key(bearer) {
            self.api_key(db, bearer).await
        } else {
            self.session(db, jwt, bearer).await
        };
        checked.unwrap_or_else(|e| Authentication::Unchecked(format!("{e:?}")))
    }

    async fn session(&self, db: &Db, jwt: &JwtKeys, token: &str) -> AppResult<Authentication> {
        let claims = match jwt.verify_session(token) {
            Ok(c) => c,
            Err(e) => return Ok(Authentication::Refused(e.public_message())),
        };
        let user = self.user(db, claims.caller.user_id).await?;
        Ok(match user {
            Some(u)
                if u.account_id == claims.caller.account_id
                    && u.token_version == claims.token_version =>
            {
                Authentication::Caller(Caller::for_user(&u))
            }
            _ => Authentication::Refused(SIGNED_OUT.into()),
        })
    }

    async fn user(&self, db: &Db, id: i64) -> AppResult<Option<user::Model>> {
        if let Some(hit) = self.users.get(&id).filter(|c| c.at.elapsed() < FRESH_FOR) {
            return Ok(hit.row.clone());
        }
        let row = store::users::get_unscoped(db, id).await?;
        self.users.insert(
            id,
            Cached {
                row: row.clone(),
                at: Instant::now(),
            },
        );
        Ok(row)
    }

    async fn api_key(&self, db: &Db, secret: &str) -> AppResult<Authentication> {
        const REFUSED: &str = "unknown or revoked API key";
        if !api_keys::well_formed(secret) {
            return Ok(Authentication::Refused(REFUSED.into()));
        }
        let hash = api_keys::hash(secret);
        let cached = self
            .keys
            .get(&hash)
            .filter(|c| c.at.elapsed() < FRESH_FOR)
            .map(|c| c.row.clone());
        let key = match cached {
            Some(k) => k,
            None => match store::api_keys::find_by_hash(db, &hash).await? {
                Some(k) => {
                    self.keys.insert(
                        hash.clone(),
                        Cached {
                            row: k.clone(),
                            at: Instant::now(),
                        },
                    );
                    k
                }
                None => return Ok(Authentication::Refused(REFUSED.into())),
            },
        };
        if key.revoked_at.is_some() {
            return Ok(Authentication::Refused(REFUSED.into()));
        }
        let now = chrono::Utc::now();
        let stale = key
            .last_used_at
            .is_none_or(|at| (now - at).num_seconds() >= TOUCH_EVERY_SECONDS);
        if stale {
            store::api_keys::touch(db, key.id, now).await?;
            if let Some(mut c) = self.keys.get_mut(&hash) {
                c.row.last_used_at = Some(now);
            }
        }
        Ok(Authentication::Caller(Caller::for_api_key(&key)))
    }

    /// The caller an events ticket stands for, if its credential still holds: the key not
    /// revoked, or the user still in the account with the same session generation.
    pub async fn ticket_holder(
        &self,
        db: &Db,
        ticket: &super::jwt::RunEventsTicket,
    ) -> AppResult<Option<Caller>> {
        if let Some(key_id) = ticket.key {
            let key = store::api_keys::get_unscoped(db, key_id).await?;
            return Ok(key
                .filter(|k| k.revoked_at.is_none() && k.account_id == ticket.acct)
                .map(|k| Caller::for_api_key(&k)));
        }
        let user = self.user(db, ticket.user).await?;
        Ok(user
            .filter(|u| u.account_id == ticket.acct && u.token_version == ticket.ver)
            .map(|u| Caller::for_user(&u)))
    }

    /// The session generation of a user (what an events ticket is bound to).
    pub async fn token_version(&self, db: &Db, user_id: i64) -> AppResult<i64> {
        Ok(self.user(db, user_id).await?.map_or(0, |u| u.token_version))
    }

    /// Drops the cached row of a user whose role, password or sessions changed, and tells
    /// live connections of that user to close.
    pub fn forget_user(&self, user_id: i64) {
        self.users.remove(&user_id);
        let _ = self.revoked.send(Revoked::User(user_id));
    }

    /// Drops a revoked key from the cache, and tells live connections using it to close.
    pub fn forget_key(&self, key_id: i64) {
        self.keys.retain(|_, c| c.row.id != key_id);
        let _ = self.revoked.send(Revoked::ApiKey(key_id));
    }

    /// Revocations made on this instance from now on.
    pub fn revocations(&self) -> broadcast::Receiver<Revoked> {
        self.revoked.subscribe()
    }
}

/// Resolves when `caller`'s credential is revoked on this instance. When revocations were
/// missed (a lagging receiver), `still_valid` asks the database instead.
pub async fn until_revoked<F, Fut>(
    mut revocations: broadcast::Receiver<Revoked>,
    caller: &Caller,
    still_valid: F,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    loop {
        match revocations.recv().await {
            Ok(r) if caller.is_revoked_by(r) => return,
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(_)) => {
                if !still_valid().await {
                    return;
                }
            }
            Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}

impl Caller {
    /// Whether a revocation concerns this caller's credential.
    pub fn is_revoked_by(&self, r: Revoked) -> bool {
        match (r, self.api_key_id) {
            (Revoked::ApiKey(id), Some(key)) => id == key,
            (Revoked::User(id), None) => id == self.user_id,
            _ => false,
        }
    }
}
