//! API key format: `pbk_` and 43 base64url characters (256 random bits). Only the SHA-256
//! of a key is stored; a value that is not shaped like a key is refused without a lookup.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "pbk_";
const RANDOM_CHARS: usize = 43;
/// How much of a key is kept in clear to tell keys apart (`pbk_` and 8 characters).
const SHOWN_CHARS: usize = PREFIX.len() + 8;

/// A new key: the secret (shown once), what is stored to find it, and a display prefix.
pub struct NewKey {
    pub secret: String,
    pub hash: String,
    pub prefix: String,
}

pub fn generate() -> NewKey {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let secret = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    NewKey {
        hash: hash(&secret),
        prefix: secret[..SHOWN_CHARS].to_owned(),
        secret,
    }
}

/// Whether a bearer value is meant as an API key (rather than a session token).
pub fn looks_like_key(bearer: &str) -> bool {
    bearer.starts_with(PREFIX)
}

/// Whether a value has the exact shape of a key; anything else cannot match one.
pub fn well_formed(bearer: &str) -> bool {
    bearer.strip_prefix(PREFIX).is_some_and(|rest| {
        rest.len() == RANDOM_CHARS
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_well_formed_and_distinct() {
        let a = generate();
        let b = generate();
        assert!(well_formed(&a.secret) && looks_like_key(&a.secret));
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.hash, hash(&a.secret));
        assert_eq!(a.hash.len(), 64);
        assert!(a.secret.starts_with(&a.prefix) && a.prefix.len() == 12);
        assert!(!a.hash.contains(&a.secret[4..]));
    }

    #[test]
    fn malformed_keys_are_recognised() {
        assert!(!well_formed("pbk_short"));
        assert!(!well_formed(&format!("pbk_{}", "a".repeat(44))));
        assert!(!well_formed(&format!("pbk_{}", "a+".repeat(21) + "a")));
        assert!(!well_formed("eyJhbGciOiJIUzI1NiJ9.e30.x"));
        assert!(!looks_like_key("eyJhbGciOiJIUzI1NiJ9.e30.x"));
    }
}
