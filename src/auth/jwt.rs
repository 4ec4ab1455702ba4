//! Session tokens: HS256 with the algorithm pinned, `exp` and `iss` checked.

use super::{Authentication, Caller};
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
        let claims = Claims {
            sub: caller.user_id.to_string(),
            acct: caller.account_id,
            email: caller.email.clone(),
            role: caller.role,
            iss: ISSUER.into(),
            iat: chrono::Utc::now().timestamp(),
            exp: exp.timestamp(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(AppError::internal)
    }

    pub fn verify(&self, token: &str) -> AppResult<Caller> {
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
        Ok(Caller {
            user_id,
            account_id: c.acct,
            email: c.email,
            role: c.role,
        })
    }

    /// Reads an `Authorization: Bearer …` value (header or WebSocket init payload).
    pub fn authenticate(&self, authorization: Option<&str>) -> Authentication {
        let Some(value) = authorization.map(str::trim).filter(|v| !v.is_empty()) else {
            return Authentication::Missing;
        };
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Authentication::Refused("authorization must be 'Bearer <token>'".into()),
        };
        match self.verify(token) {
            Ok(caller) => Authentication::Caller(caller),
            Err(e) => Authentication::Refused(e.public_message()),
        }
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
        }
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

        assert!(matches!(
            keys.authenticate(Some("Basic abc")),
            Authentication::Refused(_)
        ));
        assert!(matches!(keys.authenticate(None), Authentication::Missing));
    }
}
