//! Session tokens: HS256 with the algorithm pinned, `exp` and `iss` checked, and the
//! user's token version (`ver`) so a session can be revoked before it expires
//! ([`crate::auth::principal`] compares it with the database on every request).

use super::Caller;
use crate::error::{AppError, AppResult};
use entity::enums::Role;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "pricebook-sync";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    acct: i64,
    email: String,
    role: Role,
    iss: String,
    iat: i64,
    exp: i64,
    /// The user's token version when issued (tokens from before versions count as 0).
    #[serde(default)]
    ver: i64,
}

/// What a valid session token says: who, and under which token version.
#[derive(Clone, Debug)]
pub struct SessionClaims {
    pub caller: Caller,
    pub token_version: i64,
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_minutes: i64,
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl_minutes: i64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 5;
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_minutes,
        }
    }

    pub fn issue(&self, caller: &Caller) -> AppResult<String> {
        self.issue_with_expiry(
            caller,
            chrono::Utc::now() + chrono::Duration::minutes(self.ttl_minutes),
        )
    }

    pub fn issue_with_expiry(
        &self,
        caller: &Caller,
        exp: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<String> {
        self.issue_session(caller, 0, exp)
    }

    /// A session token for the user at their current token version.
    pub fn issue_session(
        &self,
        caller: &Caller,
        token_version: i64,
        exp: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<String> {
        let claims = Claims {
            sub: caller.user_id.to_string(),
            acct: caller.account_id,
            email: caller.email.clone(),
            role: caller.role,
            iss: ISSUER.into(),
            iat: chrono::Utc::now().timestamp(),
            exp: exp.timestamp(),
            ver: token_version,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(AppError::internal)
    }

    /// The caller a token names, as signed (not checked against the database).
    pub fn verify(&self, token: &str) -> AppResult<Caller> {
        self.verify_session(token).map(|s| s.caller)
    }

    pub fn verify_session(&self, token: &str) -> AppResult<SessionClaims> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            let why = match e.kind() {
                ErrorKind::ExpiredSignature => "session token expired",
                ErrorKind::InvalidIssuer => "session token has the wrong issuer",
                _ => "invalid session token",
            };
            AppError::Unauthenticated(why.into())
        })?;
        let c = data.claims;
        let user_id = c
            .sub
            .parse()
            .map_err(|_| AppError::Unauthenticated("invalid session token".into()))?;
        Ok(SessionClaims {
            caller: Caller {
                user_id,
                account_id: c.acct,
                email: c.email,
                role: c.role,
                api_key_id: None,
            },
            token_version: c.ver,
        })
    }
}

/// Issuer of OAuth `state` tokens: distinct from sessions, so neither passes for the other.
pub const OAUTH_STATE_ISSUER: &str = "pricebook-sync/oauth-state";
/// An OAuth consent must come back within this long.
pub const OAUTH_STATE_TTL_MINUTES: i64 = 10;

/// What an OAuth `state` binds: who started it, for which connection and provider, and a
/// nonce the connection remembers until the callback consumes it (so it works once).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OAuthState {
    pub acct: i64,
    pub user: i64,
    pub conn: i64,
    pub provider: String,
    pub nonce: String,
    iss: String,
    exp: i64,
}

impl OAuthState {
    pub fn new(acct: i64, user: i64, conn: i64, provider: &str, nonce: String) -> Self {
        OAuthState {
            acct,
            user,
            conn,
            provider: provider.to_owned(),
            nonce,
            iss: OAUTH_STATE_ISSUER.into(),
            exp: (chrono::Utc::now() + chrono::Duration::minutes(OAUTH_STATE_TTL_MINUTES))
                .timestamp(),
        }
    }

    /// For tests of expiry.
    pub fn expiring_at(mut self, at: chrono::DateTime<chrono::Utc>) -> Self {
        self.exp = at.timestamp();
        self
    }
}

impl JwtKeys {
    pub fn sign_oauth_state(&self, state: &OAuthState) -> AppResult<String> {
        encode(&Header::new(Algorithm::HS256), state, &self.encoding).map_err(AppError::internal)
    }

    pub fn verify_oauth_state(&self, token: &str) -> AppResult<OAuthState> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[OAUTH_STATE_ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        validation.leeway = 0;
        decode::<OAuthState>(token, &self.decoding, &validation)
            .map(|d| d.claims)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                AppError::bad_input(match e.kind() {
                    ErrorKind::ExpiredSignature => "the OAuth state has expired; start again",
                    _ => "the OAuth state is invalid",
                })
            })
    }
}

/// Issuer of run-events tickets: distinct from sessions and OAuth states.
pub const RUN_EVENTS_ISSUER: &str = "pricebook-sync/run-events";
/// How long a run-events ticket may be used to open (or reopen) the stream.
pub const RUN_EVENTS_TICKET_TTL_MINUTES: i64 = 5;

/// A short-lived credential for one thing only: reading one run's progress stream, for
/// clients that cannot send an `Authorization` header (a browser `EventSource`). It
/// travels in a URL, so it grants nothing else and expires quickly.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunEventsTicket {
    pub acct: i64,
    pub user: i64,
    pub run: i64,
    /// The credential it was issued to, checked again when the stream opens and watched
    /// while it runs: the API key, or the user's session generation (`token_version`).
    #[serde(default)]
    pub key: Option<i64>,
    #[serde(default)]
    pub ver: i64,
    iss: String,
    exp: i64,
}

impl RunEventsTicket {
    pub fn new(acct: i64, user: i64, run: i64) -> Self {
        RunEventsTicket {
            acct,
            user,
            run,
            key: None,
            ver: 0,
            iss: RUN_EVENTS_ISSUER.into(),
            exp: Self::expiry_from(chrono::Utc::now()).timestamp(),
        }
    }

    /// Bound to the credential that asked for it: an API key, or the user's sessions as
    /// they stand (`token_version`), so signing out everywhere voids it too.
    pub fn issued_to(mut self, api_key: Option<i64>, token_version: i64) -> Self {
        self.key = api_key;
        self.ver = token_version;
        self
    }

    pub fn expires_at(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(self.exp, 0).unwrap_or_default()
    }

    fn expiry_from(now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        now + chrono::Duration::minutes(RUN_EVENTS_TICKET_TTL_MINUTES)
    }
}

impl JwtKeys {
    pub fn sign_run_events_ticket(&self, ticket: &RunEventsTicket) -> AppResult<String> {
        encode(&Header::new(Algorithm::HS256), ticket, &self.encoding).map_err(AppError::internal)
    }

    /// The ticket, if it is genuine, unexpired and for `run_id`.
    pub fn verify_run_events_ticket(&self, token: &str, run_id: i64) -> AppResult<RunEventsTicket> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[RUN_EVENTS_ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        validation.leeway = 0;
        let ticket = decode::<RunEventsTicket>(token, &self.decoding, &validation)
            .map(|d| d.claims)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                AppError::Unauthenticated(
                    match e.kind() {
                        ErrorKind::ExpiredSignature => {
                            "the events ticket has expired; ask createRunEventsTicket for a new one"
                        }
                        _ => "invalid events ticket",
                    }
                    .into(),
                )
            })?;
        if ticket.run != run_id {
            return Err(AppError::Forbidden(
                "this events ticket is for another run".into(),
            ));
        }
        Ok(ticket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller {
            user_id: 7,
            account_id: 3,
            email: "a@b.c".into(),
            role: Role::Editor,
            api_key_id: None,
        }
    }

    #[test]
    fn run_events_tickets_open_one_run_only_and_nothing_else() {
        let keys = JwtKeys::new(b"secret-one-that-is-long-enough-xx", 10);
        let ticket = keys
            .sign_run_events_ticket(&RunEventsTicket::new(3, 7, 42))
            .unwrap();
        assert_eq!(keys.verify_run_events_ticket(&ticket, 42).unwrap().acct, 3);
        assert!(matches!(
            keys.verify_run_events_ticket(&ticket, 43),
            Err(AppError::Forbidden(_))
        ));
        // Neither a session nor a ticket passes for the other.
        assert!(keys.verify(&ticket).is_err());
        let session = keys.issue(&caller()).unwrap();
        assert!(keys.verify_run_events_ticket(&session, 42).is_err());
        let mut expired = RunEventsTicket::new(3, 7, 42);
        expired.exp = (chrono::Utc::now() - chrono::Duration::seconds(1)).timestamp();
        let expired = keys.sign_run_events_ticket(&expired).unwrap();
        assert!(
            matches!(keys.verify_run_events_ticket(&expired, 42), Err(AppError::Unauthenticated(m)) if m.contains("expired"))
        );
    }

    #[test]
    fn round_trip_and_refusals() {
        let keys = JwtKeys::new(b"secret-one-that-is-long-enough-xx", 10);
        let token = keys.issue(&caller()).unwrap();
        let back = keys.verify(&token).unwrap();
        assert_eq!(
            (back.user_id, back.account_id, back.role),
            (7, 3, Role::Editor)
        );

        let other = JwtKeys::new(b"another-secret-that-is-long-enough", 10);
        assert!(other.verify(&token).is_err());

        let expired = keys
            .issue_with_expiry(&caller(), chrono::Utc::now() - chrono::Duration::minutes(5))
            .unwrap();
        assert!(
            matches!(keys.verify(&expired), Err(AppError::Unauthenticated(m)) if m.contains("expired"))
        );

        let versioned = keys
            .issue_session(
                &caller(),
                4,
                chrono::Utc::now() + chrono::Duration::minutes(5),
            )
            .unwrap();
        assert_eq!(keys.verify_session(&versioned).unwrap().token_version, 4);
        assert_eq!(keys.verify_session(&token).unwrap().token_version, 0);
    }

    #[test]
    fn oauth_state_is_not_a_session_and_expires() {
        let keys = JwtKeys::new(b"secret-one-that-is-long-enough-xx", 10);
        let st = OAuthState::new(3, 7, 11, "jobber", "n1".into());
        let token = keys.sign_oauth_state(&st).unwrap();
        assert_eq!(keys.verify_oauth_state(&token).unwrap(), st);
        assert!(keys.verify(&token).is_err(), "state is no session");
        let session = keys.issue(&caller()).unwrap();
        assert!(
            keys.verify_oauth_state(&session).is_err(),
            "session is no state"
        );
        let old = st.expiring_at(chrono::Utc::now() - chrono::Duration::seconds(5));
        let expired = keys.sign_oauth_state(&old).unwrap();
        assert!(keys.verify_oauth_state(&expired).is_err());
        let other = JwtKeys::new(b"another-secret-that-is-long-enough", 10);
        assert!(other.verify_oauth_state(&token).is_err());
    }
}
