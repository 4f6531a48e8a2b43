//! Session tokens: issue, authenticate, revoke. A token is bound to a scope so a
//! token issued to one dialect (or to staff) cannot be replayed as another.

use chrono::{DateTime, Duration, Utc};
use colloq_auth::token::{IssuedToken, hash_token};
use colloq_domain::user::User;
use colloq_persistence::{DbConn, accounts, tokens};

use crate::CoreError;

/// What a token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenScope {
    /// An AnQiCMS customer token (`token` header or cookie).
    AnqiUser,
    /// An AnQiCMS staff token (`admin` header).
    AnqiStaff,
}

impl TokenScope {
    fn as_str(self) -> &'static str {
        match self {
            Self::AnqiUser => "anqicms:user",
            Self::AnqiStaff => "anqicms:staff",
        }
    }
}

/// A token just issued: the secret goes to the client once.
#[derive(Debug)]
pub struct Session {
    /// The token.
    pub token: IssuedToken,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Issues and stores a token for `user`.
///
/// # Errors
/// Storage or random-source failures.
pub fn issue(
    conn: &mut DbConn,
    user: &User,
    scope: TokenScope,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<Session, CoreError> {
    let token = IssuedToken::generate()?;
    let expires_at = now + ttl;
    tokens::insert(
        conn,
        tokens::NewToken {
            hash: token.hash(),
            account: user.account_id,
            user: Some(user.id),
            scope: scope.as_str(),
            expires_at,
        },
        now,
    )?;
    Ok(Session { token, expires_at })
}

/// The person a valid token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// Who.
    pub user: User,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
}

/// Checks a token presented by a client: it must exist, have this scope and not
/// be expired. `Ok(None)` means "not logged in" whatever the reason.
///
/// # Errors
/// Storage failures only.
pub fn authenticate(
    conn: &mut DbConn,
    presented: &str,
    scope: TokenScope,
    now: DateTime<Utc>,
) -> Result<Option<Authenticated>, CoreError> {
    let Some(record) = tokens::find(conn, &hash_token(presented))? else {
        return Ok(None);
    };
    if record.scope != scope.as_str() || record.expires_at <= now {
        return Ok(None);
    }
    let user = match record.user {
        Some(id) => accounts::find(conn, id)?,
        None => accounts::find_by_account(conn, record.account)?,
    };
    Ok(user.and_then(|user| {
        // A staff token stops working the moment the account loses staff rights.
        (scope != TokenScope::AnqiStaff || user.is_staff).then_some(Authenticated {
            user,
            expires_at: record.expires_at,
        })
    }))
}

/// Revokes a token. Returns whether it existed.
///
/// # Errors
/// Storage failures.
pub fn revoke(conn: &mut DbConn, presented: &str) -> Result<bool, CoreError> {
    Ok(tokens::delete(conn, &hash_token(presented))?)
}

/// Removes expired tokens; returns how many. Expired tokens are already refused,
/// so this only keeps the table small (the server runs it at start-up).
///
/// # Errors
/// Storage failures.
pub fn purge_expired(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, CoreError> {
    Ok(tokens::purge_expired(conn, now)?)
}
