//! Making and checking secrets: Argon2 for passwords (slow on purpose), SHA-256 for API tokens
//! and session ids (already 256 random bits, so a fast hash is enough and a database leak still
//! reveals nothing usable).

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use password_hash::rand_core::{OsRng, RngCore};
use password_hash::SaltString;
use sha2::{Digest, Sha256};

pub const MIN_PASSWORD_CHARS: usize = 10;
/// Every token starts so, which makes one easy to recognise in a script or a leak scanner.
const TOKEN_MARK: &str = "bcn_";
/// How many of a token's characters are kept in the clear to name it.
const PREFIX_CHARS: usize = 12;

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| anyhow::anyhow!("could not hash the password: {err}"))
}

pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// How long a login waits for a free hashing slot before it is answered 503.
const HASHING_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// All hashing slots stayed busy for [`HASHING_WAIT`].
#[derive(Debug)]
pub struct HashingBusy;

/// Checks a password off the async threads, at most `2 × cores` at once (SAFETY.md §7): a
/// flood of logins queues here, briefly, instead of taking every core and all memory (each
/// Argon2 check holds 19 MiB).
pub async fn verify_password_bounded(password: String, stored: Option<String>) -> Result<bool, HashingBusy> {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let slots = SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        tokio::sync::Semaphore::new(2 * cores)
    });
    let _slot = tokio::time::timeout(HASHING_WAIT, slots.acquire()).await.map_err(|_| HashingBusy)?.map_err(|_| HashingBusy)?;
    let verified = tokio::task::spawn_blocking(move || {
        // An unknown user costs as much as a known one, so timing does not tell them apart.
        let hash = stored.as_deref().unwrap_or_else(|| decoy_hash());
        verify_password(&password, hash) && stored.is_some()
    })
    .await
    .unwrap_or(false);
    Ok(verified)
}

/// Whether a secret someone sent is the expected one, in time that does not depend on where
/// they differ: both are hashed first, so even their lengths stay hidden.
pub fn same_secret(given: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    Sha256::digest(given.as_bytes()).as_slice().ct_eq(Sha256::digest(expected.as_bytes()).as_slice()).into()
}

/// A hash that costs as much to check as a real one: checked when the user does not exist, so
/// the answer's timing does not say which of name and password was wrong.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password, never valid").unwrap_or_default())
}

/// 32 random bytes, as hex.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn new_token() -> (String, String) {
    let token = format!("{TOKEN_MARK}{}", random_secret());
    let prefix = token[..PREFIX_CHARS].to_string();
    (token, prefix)
}

pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterx", &hash));
        assert!(!verify_password("anything", "not a hash"));
        assert!(!verify_password("decoy password", decoy_hash()));
    }

    #[test]
    fn tokens_are_long_random_and_named_by_their_prefix() {
        let (a, prefix) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with("bcn_") && a.len() == 68);
        assert!(a.starts_with(&prefix));
        assert_eq!(sha256_hex(&a).len(), 64);
        assert_ne!(sha256_hex(&a), a);
    }

    #[test]
    fn secrets_match_only_themselves() {
        assert!(same_secret("scrape-secret", "scrape-secret"));
        assert!(!same_secret("scrape-secreT", "scrape-secret"));
        assert!(!same_secret("", "scrape-secret"));
        assert!(!same_secret("scrape-secret-and-more", "scrape-secret"));
    }
}
