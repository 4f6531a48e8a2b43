//! Idempotency keys of sends: which message a user's key stored, and a
//! fingerprint of what was sent with it.

use chrono::{DateTime, Utc};
use colloq_domain::ids::{MessageId, UserId};
use diesel::prelude::*;

use crate::schema::idempotency_keys as keys;
use crate::{DbConn, StoreError, to_db_time};

/// What a key stored: the message, and the fingerprint of its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remembered {
    /// The message the first request stored.
    pub message: MessageId,
    /// The fingerprint of the first request.
    pub fingerprint: String,
}

/// What `user`'s `key` stored since `since`, if anything.
///
/// # Errors
/// Query failures.
pub fn find(
    conn: &mut DbConn,
    user: UserId,
    key: &str,
    since: DateTime<Utc>,
) -> Result<Option<Remembered>, StoreError> {
    keys::table
        .filter(keys::user_id.eq(user.get()))
        .filter(keys::idem_key.eq(key))
        .filter(keys::created_at.ge(to_db_time(since)))
        .select((keys::message_id, keys::fingerprint))
        .first::<(i64, String)>(conn)
        .optional()
        .map(|found| {
            found.map(|(message, fingerprint)| Remembered {
                message: MessageId(message),
                fingerprint,
            })
        })
        .map_err(StoreError::from)
}

/// Remembers that `user`'s `key` stored `message`, replacing a use of the
/// key from before `since`. A concurrent use of the same key fails with
/// [`StoreError::Conflict`] (the primary key), rolling back its send.
///
/// # Errors
/// [`StoreError::Conflict`]; query failures.
pub fn remember(
    conn: &mut DbConn,
    user: UserId,
    key: &str,
    fingerprint: &str,
    message: MessageId,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::delete(
        keys::table
            .filter(keys::user_id.eq(user.get()))
            .filter(keys::idem_key.eq(key))
            .filter(keys::created_at.lt(to_db_time(since))),
    )
    .execute(conn)?;
    diesel::insert_into(keys::table)
        .values((
            keys::user_id.eq(user.get()),
            keys::idem_key.eq(key),
            keys::fingerprint.eq(fingerprint),
            keys::message_id.eq(message.get()),
            keys::created_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets keys used before `before`.
///
/// # Errors
/// Query failures.
pub fn purge(conn: &mut DbConn, before: DateTime<Utc>) -> Result<usize, StoreError> {
    diesel::delete(keys::table.filter(keys::created_at.lt(to_db_time(before))))
        .execute(conn)
        .map_err(StoreError::from)
}
