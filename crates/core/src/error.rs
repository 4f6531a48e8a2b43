//! Use-case errors.
//!
//! Policy: the variants above [`CoreError::Store`] are the caller's fault or a
//! refusal and carry user-facing text; [`CoreError::Store`], [`CoreError::Auth`]
//! and [`CoreError::Unavailable`] are internal, and adapters answer them with a
//! generic 5xx while logging the source chain. Dialects map this enum to their
//! envelopes exactly once each.

use colloq_auth::AuthError;
use colloq_domain::DomainError;
use colloq_persistence::StoreError;

/// Why a use case did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Input or action refused by the domain's rules.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A unique value of a new account is taken.
    #[error("{0} is already taken")]
    Taken(&'static str),
    /// Unknown login name or wrong password (never says which).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The object does not exist or the caller may not see it: one answer for
    /// both, so ids cannot be probed.
    #[error("not found")]
    NotVisible,
    /// The caller may see the object but not do this to it.
    #[error("{0}")]
    Forbidden(&'static str),
    /// A concurrent change won; the caller may retry.
    #[error("the object changed meanwhile, please try again")]
    Conflict,
    /// Storage failed.
    #[error("storage")]
    Store(#[source] StoreError),
    /// Hashing or the random source failed.
    #[error("credentials")]
    Auth(#[source] AuthError),
    /// The blocking worker pool could not run the use case.
    #[error("worker unavailable: {0}")]
    Unavailable(&'static str),
}

impl From<StoreError> for CoreError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict { constraint } => {
                tracing::debug!(%constraint, "write conflict");
                Self::Conflict
            }
            other => Self::Store(other),
        }
    }
}

impl From<AuthError> for CoreError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::InvalidCredentials => Self::InvalidCredentials,
            other => Self::Auth(other),
        }
    }
}

/// `write_transaction` needs this to report a failed BEGIN or COMMIT.
impl From<colloq_persistence::QueryError> for CoreError {
    fn from(err: colloq_persistence::QueryError) -> Self {
        StoreError::from(err).into()
    }
}
