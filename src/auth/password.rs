//! argon2id password hashing, run off the async runtime (it is deliberately slow), and the
//! strength rule for passwords people choose.

use crate::error::{AppError, AppResult};
use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};

/// The floor for any stored password (the bootstrap admin from the environment included).
pub const MIN_PASSWORD_LEN: usize = 8;
/// New and changed passwords of users: at least this long…
pub const MIN_NEW_PASSWORD_LEN: usize = 12;
/// …and rated at least this by zxcvbn (3: "safely unguessable", over 10^8 guesses).
pub const MIN_NEW_PASSWORD_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

/// Hashes a stored password (bootstrap and demo admins, whose passwords the operator
/// chose in the environment): at least [`MIN_PASSWORD_LEN`] characters and not blank.
pub async fn hash(password: String) -> AppResult<String> {
    check_floor(&password)?;
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(AppError::internal)?
}

/// Checks a password a user chose ([`check_strength`]) and hashes it, both off the runtime.
/// `context` holds words the password must not lean on (the email, the product's name).
pub async fn hash_new(password: String, context: Vec<String>) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let context: Vec<&str> = context.iter().map(String::as_str).collect();
        check_strength(&password, &context)?;
        hash_blocking(&password)
    })
    .await
    .map_err(AppError::internal)?
}

fn check_floor(password: &str) -> AppResult<()> {
    if password.trim().is_empty() {
        return Err(AppError::bad_input("the password must not be blank"));
    }
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AppError::bad_input(format!(
            "password must have at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    Ok(())
}

/// The rule for new and changed passwords: not blank, at least [`MIN_NEW_PASSWORD_LEN`]
/// characters without the surrounding spaces, and a zxcvbn score of at least
/// [`MIN_NEW_PASSWORD_SCORE`] (dictionary words, keyboard walks, repeats, dates and the
/// given context words count for little). zxcvbn reads at most 100 characters, so the
/// cost is bounded whatever the input.
pub fn check_strength(password: &str, context: &[&str]) -> AppResult<()> {
    check_floor(password)?;
    let length = password.trim().chars().count();
    if length < MIN_NEW_PASSWORD_LEN {
        return Err(AppError::bad_input(format!(
            "password must have at least {MIN_NEW_PASSWORD_LEN} characters"
        )));
    }
    let estimate = zxcvbn::zxcvbn(password, context);
    if estimate.score() < MIN_NEW_PASSWORD_SCORE {
        let hint = estimate
            .feedback()
            .map(|f| {
                let mut parts: Vec<String> =
                    f.warning().map(|w| w.to_string()).into_iter().collect();
                parts.extend(f.suggestions().iter().map(|s| s.to_string()));
                parts.join(" ")
            })
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "Add more words or characters that are hard to guess.".into());
        return Err(AppError::bad_input(format!(
            "password is too easy to guess: {hint}"
        )));
    }
    Ok(())
}

fn hash_blocking(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

pub async fn verify(password: String, stored_hash: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&stored_hash).map_err(AppError::internal)?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(AppError::internal)?
}

/// A hash of a random password, verified against for unknown emails so login takes the
/// same time whether or not the account exists.
pub async fn dummy_hash() -> AppResult<String> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_try_init(|| hash(random_password()))
        .await
        .cloned()
}

/// A random password for bootstrap and demo accounts.
pub fn random_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    (0..20)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(password: &str) -> bool {
        check_strength(password, &["someone@example.com", "pricebook"]).is_err()
    }

    #[test]
    fn weak_and_blank_passwords_are_refused() {
        for weak in [
            "aaaaaaaa",
            "        ",
            "            ",
            "aaaaaaaaaaaaaaaa",
            "password1234",
            "qwertyuiop123",
            "someone@example.com",
            "pricebook2026",
            "short-1",
        ] {
            assert!(refused(weak), "{weak:?} should be refused");
        }
    }

    #[test]
    fn strong_passwords_pass() {
        for strong in [
            "correct horse battery staple",
            "Tr4mpoline-Sailboat-Quiet",
            &random_password(),
        ] {
            assert!(!refused(strong), "{strong:?} should pass");
        }
    }

    #[test]
    fn the_floor_refuses_blank_stored_passwords() {
        assert!(check_floor("        ").is_err());
        assert!(check_floor("abc").is_err());
        assert!(check_floor("demo-password").is_ok());
    }
}
