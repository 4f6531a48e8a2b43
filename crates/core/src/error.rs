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

/// Refusals a dialect may report distinctly (each maps them to its own codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No account has that e-mail or phone.
    #[error("no such account")]
    UnknownAccount,
    /// Too many failed logins in the last hour.
    #[error("too many failed attempts, try again in an hour")]
    TooManyAttempts,
    /// An `Idempotency-Key` already stored a different message.
    #[error("the Idempotency-Key was used for a different message")]
    IdempotencyKeyReused,
    /// The password is wrong.
    #[error("wrong password")]
    WrongPassword,
    /// No such user profile.
    #[error("no such user")]
    UnknownUser,
    /// The profile belongs to another account.
    #[error("the user does not belong to this account")]
    UserNotOfAccount,
    /// The profile has a password and none was given.
    #[error("this user needs its password")]
    PasswordRequired,
    /// The profile's password is wrong.
    #[error("wrong user password")]
    WrongUserPassword,
    /// The account token is unknown or not an account token.
    #[error("account token is incorrect")]
    AccountTokenInvalid,
    /// The user token is unknown or not for this user.
    #[error("user token is incorrect")]
    UserTokenInvalid,
    /// The token was issued to another platform.
    #[error("token belongs to another platform")]
    TokenPlatformMismatch,
    /// The token expired.
    #[error("token expired")]
    TokenExpired,
    /// No such conversation.
    #[error("no such conversation")]
    UnknownConversation,
    /// The viewer does not take part in the conversation.
    #[error("not your conversation")]
    NotParticipant,
    /// A conversation with oneself.
    #[error("you cannot message yourself")]
    SelfConversation,
    /// The messaging permission refused.
    #[error("messaging refused: {0:?}")]
    Messaging(colloq_domain::conversation::MessagingRefusal),
    /// The message contains a blocked word.
    #[error("the message contains a blocked word")]
    BlockedWords,
    /// A keyset read's anchor does not name a message of the thread (each
    /// dialect names its own parameter).
    #[error("the anchor does not name a message of this thread")]
    AnchorElsewhere(colloq_domain::page::Seek),
    /// The file named cannot be attached here.
    #[error("{0}")]
    File(colloq_domain::file::AttachRefusal),
}

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
    /// A specific refusal that dialects report with their own codes.
    #[error("{0}")]
    Refused(Refusal),
    /// A concurrent change won; the caller may retry.
    #[error("the object changed meanwhile, please try again")]
    Conflict,
    /// Storage failed.
    #[error("storage")]
    Store(#[source] StoreError),
    /// Hashing or the random source failed.
    #[error("credentials")]
    Auth(#[source] AuthError),
    /// A service the use case depends on could not do its part (the
    /// blocking worker pool, the file store): trying again shortly may
    /// succeed.
    #[error("unavailable: {0}")]
    Unavailable(&'static str),
    /// A fault of colloq's own (an answer that could not be written, the
    /// application state missing): never the client's doing, not transient.
    #[error("internal fault: {0}")]
    Internal(&'static str),
    /// A budget of the shared throttle is spent (see [`crate::throttle`]).
    #[error("too many requests; try again in {} s", retry_after.as_secs())]
    RateLimited {
        /// How long until the budget allows one more.
        retry_after: std::time::Duration,
    },
}

impl CoreError {
    /// Whether the database connection was lost during the call (see
    /// [`StoreError::is_lost`]).
    pub fn connection_lost(&self) -> bool {
        matches!(self, Self::Store(err) if err.is_lost())
    }

    /// Whether trying again shortly may succeed: the database could not be
    /// reached, or no worker could run the use case. Dialects answer these
    /// with 503 and `Retry-After` rather than 500.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Store(err) => err.is_unreachable(),
            Self::Unavailable(_) => true,
            _ => false,
        }
    }
}

impl From<colloq_persistence::PoolError> for CoreError {
    fn from(err: colloq_persistence::PoolError) -> Self {
        StoreError::from(err).into()
    }
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
