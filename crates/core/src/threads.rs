//! What every thread does the same way, whatever its kind (an order or a
//! conversation): appending a message and telling who may see it, and
//! finding the message a page is anchored on.

use chrono::{DateTime, Utc};
use colloq_domain::event::{Change, Feed};
use colloq_domain::ids::{MessageId, ThreadId, UserId};
use colloq_domain::message::{Message, NewMessage};
use colloq_domain::page::Seek;
use colloq_persistence::events::Upcoming;
use colloq_persistence::{DbConn, messages};

use crate::events::Outbox;
use crate::{CoreError, Refusal};

/// Appends `message` to `thread` (addressed to `recipient` in a thread with
/// per-side state) and tells `audience` that its sender added it.
pub(crate) fn append(
    conn: &mut DbConn,
    outbox: &mut Outbox,
    thread: ThreadId,
    audience: &[Feed],
    message: &NewMessage,
    recipient: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<Message, CoreError> {
    // Where writers run side by side, every other send to this thread waits
    // from the append (which locks the thread's row) to the commit, so the
    // events, this message's among them, are written before it.
    let upcoming = Upcoming {
        audience,
        thread,
        sender: message.sender,
    };
    let drawn = outbox.flush_ahead(conn, upcoming, now)?;
    let stored = messages::append_as(conn, thread, message, recipient, drawn, now)?;
    if drawn.is_none() {
        let appended = Change::MessageAppended { message: stored.id };
        outbox.push(audience, thread, message.sender, appended);
    }
    Ok(stored)
}

/// The sequence number of the message a `before`/`after` page is anchored
/// on, which must be a message of this thread.
///
/// # Errors
/// [`Refusal::AnchorElsewhere`] for a message of another thread or none.
pub(crate) fn anchor(
    conn: &mut DbConn,
    thread: ThreadId,
    seek: Seek,
    id: MessageId,
) -> Result<i64, CoreError> {
    messages::seq_of(conn, thread, id)?.ok_or(CoreError::Refused(Refusal::AnchorElsewhere(seek)))
}
