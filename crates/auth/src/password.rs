//! Password hashing with argon2id (`Argon2::default()`: Argon2id v19) and a fresh
//! random salt per hash, stored as a PHC string so parameters can change later
//! without breaking old hashes.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};

use crate::AuthError;

/// A hash of a throw-away password with default parameters. Verifying against
/// it when the user does not exist makes "no such user" take as long as "wrong
/// password", so response times do not reveal which accounts exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3cpUo5DTiwFL6TMFiN5fDAIMWgHAAT5XJqcBA2+G1dk";

/// Hashes a password.
///
/// # Errors
/// [`AuthError::Hash`] if the hasher fails.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Verifies `password` against the stored PHC string, or against a dummy hash
/// when there is none (unknown user), so both failures cost the same.
///
/// # Errors
/// [`AuthError::InvalidCredentials`] when there is no stored hash or the password
/// does not match; [`AuthError::Hash`] when the stored hash is unreadable.
pub fn verify_password(stored: Option<&str>, password: &str) -> Result<(), AuthError> {
    let phc = stored.unwrap_or(DUMMY_HASH);
    let parsed = PasswordHash::new(phc).map_err(|e| AuthError::Hash(e.to_string()))?;
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    if matches && stored.is_some() {
        Ok(())
    } else {
        Err(AuthError::InvalidCredentials)
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$v=19$"));
        assert_ne!(a, b, "every hash has its own salt");
        assert!(verify_password(Some(&a), "correct horse").is_ok());
        assert!(matches!(
            verify_password(Some(&a), "wrong"),
            Err(AuthError::InvalidCredentials)
        ));
    }

    #[test]
    fn unknown_users_fail_like_wrong_passwords() {
        assert!(
            PasswordHash::new(DUMMY_HASH).is_ok(),
            "the dummy hash parses"
        );
        assert!(matches!(
            verify_password(None, "anything"),
            Err(AuthError::InvalidCredentials)
        ));
    }

    #[test]
    fn unreadable_hashes_are_internal_errors() {
        assert!(matches!(
            verify_password(Some("not-a-hash"), "x"),
            Err(AuthError::Hash(_))
        ));
    }
}
