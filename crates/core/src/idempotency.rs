//! `Idempotency-Key` for sends: a retry with the same key by the same user
//! within a day answers the message the first request stored and stores
//! nothing. The key is looked up and remembered inside the send's own write
//! transaction, so two concurrent uses end as one row: the loser's insert of
//! the key fails on its primary key, its send rolls back, and it answers the
//! winner's message.

use chrono::{DateTime, Duration, Utc};
use colloq_domain::ids::{MessageId, UserId};
use colloq_domain::message::{IdempotencyKey, Message};
use colloq_persistence::{DbConn, idempotency, messages};
use sha2::{Digest as _, Sha256};

use crate::{CoreError, Refusal};

/// How long a key answers for its message.
const KEPT: Duration = Duration::hours(24);

/// A key with the fingerprint of the request it came with: a retry must
/// send the same thing.
#[derive(Debug, Clone)]
pub(crate) struct Keyed {
    user: UserId,
    key: IdempotencyKey,
    fingerprint: String,
}

impl Keyed {
    /// `key` of `user` for a request made of `parts`.
    pub(crate) fn new(user: UserId, key: IdempotencyKey, parts: &[&str]) -> Self {
        let mut hash = Sha256::new();
        for part in parts {
            // Lengths first, so parts cannot run into each other.
            hash.update(part.len().to_le_bytes());
            hash.update(part.as_bytes());
        }
        Self {
            user,
            key,
            fingerprint: hex::encode(hash.finalize()),
        }
    }

    /// The message this key stored within the last day.
    ///
    /// # Errors
    /// [`Refusal::IdempotencyKeyReused`] when it came with another request.
    pub(crate) fn stored(
        &self,
        conn: &mut DbConn,
        now: DateTime<Utc>,
    ) -> Result<Option<Message>, CoreError> {
        let Some(found) = idempotency::find(conn, self.user, self.key.as_ref(), now - KEPT)? else {
            return Ok(None);
        };
        if found.fingerprint != self.fingerprint {
            return Err(CoreError::Refused(Refusal::IdempotencyKeyReused));
        }
        Ok(messages::find(conn, found.message)?)
    }

    /// Remembers that this key stored `message`.
    ///
    /// # Errors
    /// [`CoreError::Conflict`] when a concurrent request with the same key
    /// committed first.
    pub(crate) fn remember(
        &self,
        conn: &mut DbConn,
        message: MessageId,
        now: DateTime<Utc>,
    ) -> Result<(), CoreError> {
        let key = self.key.as_ref();
        idempotency::remember(
            conn,
            self.user,
            key,
            &self.fingerprint,
            message,
            now - KEPT,
            now,
        )?;
        Ok(())
    }
}

/// The message `key` stored, when the send has a key and it stored one.
///
/// # Errors
/// As [`Keyed::stored`].
pub(crate) fn stored_by(
    key: Option<&Keyed>,
    conn: &mut DbConn,
    now: DateTime<Utc>,
) -> Result<Option<Message>, CoreError> {
    Ok(key.map(|k| k.stored(conn, now)).transpose()?.flatten())
}

/// Forgets keys older than a day.
///
/// # Errors
/// Storage failures.
pub fn purge_expired(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, CoreError> {
    Ok(idempotency::purge(conn, now - KEPT)?)
}
