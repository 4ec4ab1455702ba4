//! argon2id password hashing, run off the async runtime (it is deliberately slow), and the
//! strength rule for passwords people choose.
//!
//! Every argon2 computation runs on a few threads of its own ([`on_hash_threads`]): each
//! one takes 19 MiB, and allocators keep freed memory per thread, so running them on
//! tokio's blocking pool (up to 512 threads) let a sign-in flood hold hundreds of MiB.
//! With one thread per core, memory for hashing stays at cores × 19 MiB, and work beyond
//! that queues.

use crate::error::{AppError, AppResult};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString, rand_core::OsRng};

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
    on_hash_threads(move || hash_blocking(&password)).await?
}

/// Checks a password a user chose ([`check_strength`]) and hashes it, both off the runtime.
/// `context` holds words the password must not lean on (the email, the product's name).
pub async fn hash_new(password: String, context: Vec<String>) -> AppResult<String> {
    on_hash_threads(move || {
        let context: Vec<&str> = context.iter().map(String::as_str).collect();
        check_strength(&password, &context)?;
        hash_blocking(&password)
    })
    .await?
}

type Job = Box<dyn FnOnce() + Send>;

/// Runs `work` on the hashing threads and waits for its answer.
pub async fn on_hash_threads<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> AppResult<T> {
    static QUEUE: std::sync::OnceLock<std::sync::mpsc::Sender<Job>> = std::sync::OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        for i in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while taking the next job.
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        tx
    });
    let (tx, rx) = tokio::sync::oneshot::channel();
    queue
        .send(Box::new(move || {
            let _ = tx.send(work());
        }))
        .map_err(|_| AppError::internal("the password hashing threads are gone"))?;
    rx.await
        .map_err(|_| AppError::internal("a password hashing job was lost"))
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
    on_hash_threads(move || verify_blocking(&password, &stored_hash)).await?
}

thread_local! {
    /// argon2's working memory, kept by each hashing thread and reused by every check
    /// (19 MiB with the default parameters), so checks do not churn the allocator.
    static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What `PasswordVerifier::verify_password` does, with the thread's reused memory.
fn verify_blocking(password: &str, stored_hash: &str) -> AppResult<bool> {
    use argon2::password_hash::Output;
    use argon2::{Algorithm, Block, Params, Version};
    let parsed = PasswordHash::new(stored_hash).map_err(AppError::internal)?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(AppError::internal)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(AppError::internal)?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(AppError::internal)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(AppError::internal(
            "stored password hash has no salt or no hash",
        ));
    };
    let mut salt_bytes = [0u8; 64];
    let salt = salt
        .decode_b64(&mut salt_bytes)
        .map_err(AppError::internal)?;
    let mut out = vec![0u8; expected.len()];
    BLOCKS
        .with_borrow_mut(|blocks| {
            if blocks.len() < params.block_count() {
                blocks.resize(params.block_count(), Block::default());
            }
            Argon2::new(algorithm, version, params).hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                &mut out,
                &mut blocks[..],
            )
        })
        .map_err(AppError::internal)?;
    // `Output`'s equality is constant-time.
    Ok(Output::new(&out).map_err(AppError::internal)? == expected)
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
    fn verifying_with_reused_memory_matches_the_library() {
        use argon2::PasswordVerifier;
        let stored = hash_blocking("correct horse battery staple").unwrap();
        let parsed = PasswordHash::new(&stored).unwrap();
        for attempt in [
            "correct horse battery staple",
            "correct horse battery stapl",
            "",
        ] {
            let ours = verify_blocking(attempt, &stored).unwrap();
            let library = Argon2::default()
                .verify_password(attempt.as_bytes(), &parsed)
                .is_ok();
            assert_eq!(ours, library, "{attempt:?}");
        }
        assert!(verify_blocking("correct horse battery staple", &stored).unwrap());
        assert!(verify_blocking("x", "not a hash").is_err());
    }

    #[test]
    fn the_floor_refuses_blank_stored_passwords() {
        assert!(check_floor("        ").is_err());
        assert!(check_floor("abc").is_err());
        assert!(check_floor("demo-password").is_ok());
    }
}
