//! Session tokens. Only the SHA-256 of a token is stored: a leaked table does not
//! let anyone log in.

use chrono::{DateTime, Utc};
use colloq_domain::ids::{AccountId, UserId};
use diesel::prelude::*;

use crate::schema::{auth_tokens, stream_tickets};
use crate::stamp::Stamp;
use crate::{DbConn, StoreError, from_db_time, to_db_time};

/// A token to store.
#[derive(Debug, Clone, Copy)]
pub struct NewToken<'a> {
    /// Hex SHA-256 of the token.
    pub hash: &'a str,
    /// Whose it is.
    pub account: AccountId,
    /// The profile it acts as, when bound to one.
    pub user: Option<UserId>,
    /// What it may be used for (e.g. `anqicms:user`).
    pub scope: &'a str,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// The client platform it was issued to (Fresns).
    pub platform_id: Option<i32>,
    /// The app key it was issued through (Fresns).
    pub app_id: Option<&'a str>,
    /// For a Fresns user token: the hash of the account token it was issued under.
    pub parent_hash: Option<&'a str>,
}

/// A stored token, found by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Whose it is.
    pub account: AccountId,
    /// The profile it acts as, when bound to one.
    pub user: Option<UserId>,
    /// What it may be used for.
    pub scope: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// The client platform it was issued to (Fresns).
    pub platform_id: Option<i32>,
    /// The hash of the account token a user token was issued under.
    pub parent_hash: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = auth_tokens)]
pub(crate) struct TokenRow {
    account_id: i64,
    user_id: Option<i64>,
    scope: String,
    expires_at: Stamp,
    platform_id: Option<i32>,
    parent_hash: Option<String>,
}

/// [`TokenRow`]'s columns in its order, for reads of an aliased token table
/// (no two have the same type, so a wrong order does not compile).
#[diesel::dsl::auto_type(no_type_alias)]
pub(crate) fn token_columns() -> _ {
    (
        auth_tokens::account_id,
        auth_tokens::user_id,
        auth_tokens::scope,
        auth_tokens::expires_at,
        auth_tokens::platform_id,
        auth_tokens::parent_hash,
    )
}

impl From<TokenRow> for TokenRecord {
    fn from(r: TokenRow) -> Self {
        Self {
            account: AccountId(r.account_id),
            user: r.user_id.map(UserId),
            scope: r.scope,
            expires_at: from_db_time(r.expires_at),
            platform_id: r.platform_id,
            parent_hash: r.parent_hash,
        }
    }
}

/// Stores a token.
///
/// # Errors
/// Query failures.
pub fn insert(
    conn: &mut DbConn,
    token: NewToken<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(auth_tokens::table)
        .values((
            auth_tokens::token_hash.eq(token.hash),
            auth_tokens::account_id.eq(token.account.get()),
            auth_tokens::user_id.eq(token.user.map(UserId::get)),
            auth_tokens::scope.eq(token.scope),
            auth_tokens::expires_at.eq(to_db_time(token.expires_at)),
            auth_tokens::created_at.eq(to_db_time(now)),
            auth_tokens::platform_id.eq(token.platform_id),
            auth_tokens::app_id.eq(token.app_id),
            auth_tokens::parent_hash.eq(token.parent_hash),
        ))
        .execute(conn)?;
    Ok(())
}

/// The token with this hash, expired or not (the caller decides).
///
/// # Errors
/// Query failures.
pub fn find(conn: &mut DbConn, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
    auth_tokens::table
        .filter(auth_tokens::token_hash.eq(hash))
        .select(TokenRow::as_select())
        .first(conn)
        .optional()
        .map(|row| row.map(TokenRecord::from))
        .map_err(StoreError::from)
}

/// Revokes a token. Returns whether one was there.
///
/// # Errors
/// Query failures.
pub fn delete(conn: &mut DbConn, hash: &str) -> Result<bool, StoreError> {
    let n = diesel::delete(auth_tokens::table.filter(auth_tokens::token_hash.eq(hash)))
        .execute(conn)?;
    Ok(n > 0)
}

/// Removes tokens that expired before `now`. Returns how many.
///
/// # Errors
/// Query failures.
pub fn purge_expired(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let now = to_db_time(now);
    diesel::delete(stream_tickets::table.filter(stream_tickets::expires_at.lt(now)))
        .execute(conn)?;
    diesel::delete(auth_tokens::table.filter(auth_tokens::expires_at.lt(now)))
        .execute(conn)
        .map_err(StoreError::from)
}

/// Revokes a token and every token issued under it (a Fresns account token and
/// its user tokens). Returns how many went.
///
/// # Errors
/// Query failures.
pub fn delete_family(conn: &mut DbConn, hash: &str) -> Result<Vec<String>, StoreError> {
    diesel::delete(
        auth_tokens::table.filter(
            auth_tokens::token_hash
                .eq(hash)
                .or(auth_tokens::parent_hash.eq(hash)),
        ),
    )
    .returning(auth_tokens::token_hash)
    .get_results(conn)
    .map_err(StoreError::from)
}

/// Stores a stream ticket (only its hash) for the session whose token hashes
/// to `token_hash`.
///
/// # Errors
/// Query failures.
pub fn insert_ticket(
    conn: &mut DbConn,
    ticket_hash: &str,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(stream_tickets::table)
        .values((
            stream_tickets::ticket_hash.eq(ticket_hash),
            stream_tickets::token_hash.eq(token_hash),
            stream_tickets::expires_at.eq(to_db_time(expires_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Redeems a stream ticket: deletes it and returns the hash of its session's
/// token, when it existed and had not expired at `now`. A ticket works once.
///
/// # Errors
/// Query failures.
pub fn take_ticket(
    conn: &mut DbConn,
    ticket_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    let taken: Option<(String, Stamp)> =
        diesel::delete(stream_tickets::table.filter(stream_tickets::ticket_hash.eq(ticket_hash)))
            .returning((stream_tickets::token_hash, stream_tickets::expires_at))
            .get_result(conn)
            .optional()?;
    Ok(taken
        .filter(|(_, expires_at)| from_db_time(*expires_at) > now)
        .map(|(token_hash, _)| token_hash))
}
