//! Credentials for colloq: argon2id password hashes and opaque session tokens.
//!
//! Pure, synchronous functions: hashing is deliberately slow, so callers run them
//! off the async workers. Depends on no web framework and no database.
//!
//! - [`password`]: hash and verify, with equal timing for unknown users.
//! - [`token`]: 256-bit random tokens, of which only a SHA-256 is ever stored.
//! - [`AuthError`]: the crate's one error type.

pub mod password;
pub mod token;

/// An authentication failure.
///
/// Policy: [`AuthError::InvalidCredentials`] is the only client-facing variant and
/// says nothing about *which* part was wrong; [`AuthError::Hash`] is an internal
/// failure whose source goes to the log, never to a client.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown user or wrong password: deliberately indistinguishable.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The hasher failed or a stored hash is unreadable.
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The operating system's random source failed.
    #[error("random source failed")]
    Random(#[source] getrandom::Error),
}
