//! Opaque session tokens: 256 random bits, URL-safe base64 on the wire, and only
//! their SHA-256 (hex) in the database. A token needs no slow hash: it has full
//! entropy, so a fast hash cannot be brute-forced.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::AuthError;

/// A freshly issued token. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    secret: String,
    hash: String,
}

impl IssuedToken {
    /// Draws a new token from the operating system's random source.
    ///
    /// # Errors
    /// [`AuthError::Random`] if the random source fails.
    pub fn generate() -> Result<Self, AuthError> {
        let mut bytes = [0_u8; 32];
        getrandom::fill(&mut bytes).map_err(AuthError::Random)?;
        let secret = URL_SAFE_NO_PAD.encode(bytes);
        let hash = hash_token(&secret);
        Ok(Self { secret, hash })
    }

    /// The token to hand to the client, once.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// What to store.
    pub fn hash(&self) -> &str {
        &self.hash
    }
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

/// The stored form of a token presented by a client.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Draws `len` random characters from `alphabet` (for public ids such as a
/// Fresns `aid`). Uses rejection sampling so every character is equally likely.
///
/// # Errors
/// [`AuthError::Random`] if the random source fails.
pub fn random_string(alphabet: &[u8], len: usize) -> Result<String, AuthError> {
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(len);
    let mut buf = [0_u8; 64];
    while out.len() < len {
        getrandom::fill(&mut buf).map_err(AuthError::Random)?;
        for &b in &buf {
            if usize::from(b) < limit && out.len() < len {
                out.push(char::from(alphabet[usize::from(b) % alphabet.len()]));
            }
        }
    }
    Ok(out)
}

/// A random integer in `low..high` (for public numeric ids such as a Fresns `uid`).
///
/// # Errors
/// [`AuthError::Random`] if the random source fails.
pub fn random_in(low: i64, high: i64) -> Result<i64, AuthError> {
    let mut bytes = [0_u8; 8];
    getrandom::fill(&mut bytes).map_err(AuthError::Random)?;
    let span = u64::try_from(high - low).unwrap_or(1).max(1);
    let offset = i64::try_from(u64::from_le_bytes(bytes) % span).unwrap_or(0);
    Ok(low + offset)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let a = IssuedToken::generate().unwrap();
        let b = IssuedToken::generate().unwrap();
        assert_eq!(a.secret().len(), 43, "32 bytes in unpadded base64");
        assert_ne!(a.secret(), b.secret());
        assert_eq!(a.hash(), hash_token(a.secret()));
        assert_eq!(a.hash().len(), 64);
        assert!(!format!("{a:?}").contains(a.secret()));
    }

    #[test]
    fn random_values_stay_in_range() {
        let s = random_string(b"abc", 20).unwrap();
        assert_eq!(s.len(), 20);
        assert!(s.chars().all(|c| "abc".contains(c)));
        for _ in 0..100 {
            let n = random_in(10, 20).unwrap();
            assert!((10..20).contains(&n));
        }
    }
}
