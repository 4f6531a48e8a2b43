//! The message store shared by every kind of thread.
//!
//! Appending takes the next `seq` from the thread row in the same transaction, so
//! sequence numbers are gap-free per thread and `threads.message_count` is exact.
//! Reading a page is one range scan of the `(thread_id, seq)` index.

use chrono::{DateTime, Utc};
use colloq_domain::ids::{FileId, MessageId, ThreadId, UserId};
use colloq_domain::message::{Message, MessageType, NewMessage, SenderRole};
use diesel::dsl::case_when;
use diesel::prelude::*;

use crate::schema::{messages, threads};
use crate::stamp::Stamp;
use crate::{DbConn, Shaped, StoreError, from_db_time, to_db_time};

#[derive(Queryable, Selectable)]
#[diesel(table_name = messages)]
pub(crate) struct MessageRow {
    id: i64,
    thread_id: i64,
    seq: i64,
    sender_id: Option<i64>,
    sender_role: i32,
    sender_name: String,
    kind: String,
    body: String,
    created_at: Stamp,
    recipient_id: Option<i64>,
    #[diesel(select_expression = messages::recipient_read_at.is_not_null())]
    #[diesel(select_expression_type = diesel::dsl::IsNotNull<messages::recipient_read_at>)]
    read: bool,
    file_id: Option<i64>,
}

impl From<MessageRow> for Message {
    fn from(row: MessageRow) -> Self {
        Self {
            id: MessageId(row.id),
            thread: ThreadId(row.thread_id),
            seq: row.seq,
            sender: row.sender_id.map(UserId),
            role: SenderRole::from_code(row.sender_role),
            sender_name: row.sender_name,
            // A kind this binary does not know (written by a newer one) reads as
            // `unknown` rather than failing the whole page.
            kind: MessageType::parse(&row.kind).unwrap_or(MessageType::Unknown),
            body: row.body,
            created_at: from_db_time(row.created_at),
            recipient: row.recipient_id.map(UserId),
            read: row.read,
            file: row.file_id.map(FileId),
        }
    }
}

/// Creates an empty thread of `kind`; returns its id (also the id of the order or
/// conversation that owns it).
pub(crate) fn create_thread(conn: &mut DbConn, kind: i32, now: Stamp) -> Result<i64, StoreError> {
    diesel::insert_into(threads::table)
        .values((threads::kind.eq(kind), threads::created_at.eq(now)))
        .returning(threads::id)
        .get_result(conn)
        .map_err(StoreError::from)
}

/// Appends a message to a thread. Call inside a write transaction.
///
/// The thread row is updated first, which locks it, so appends to one thread are
/// serial: `seq` is gap-free, and `created_at` is made non-decreasing along `seq`
/// (a node whose clock lags stamps its message with the thread's latest time), so
/// ordering by `seq` is ordering by time, then id.
///
/// # Errors
/// [`StoreError::NotFound`] when the thread does not exist.
pub fn append(
    conn: &mut DbConn,
    thread: ThreadId,
    message: &NewMessage,
    now: DateTime<Utc>,
) -> Result<Message, StoreError> {
    append_as(conn, thread, message, None, None, now)
}

/// Appends a direct message with its recipient (conversations).
///
/// # Errors
/// As [`append`].
pub fn append_direct(
    conn: &mut DbConn,
    thread: ThreadId,
    message: &NewMessage,
    recipient: UserId,
    now: DateTime<Utc>,
) -> Result<Message, StoreError> {
    append_as(conn, thread, message, Some(recipient), None, now)
}

/// As [`append`] (or [`append_direct`], with a `recipient`), under an id
/// drawn for it ahead when there is one (`events::record_ahead`).
///
/// # Errors
/// As [`append`].
pub fn append_as(
    conn: &mut DbConn,
    thread: ThreadId,
    message: &NewMessage,
    recipient: Option<UserId>,
    reserved: Option<MessageId>,
    now: DateTime<Utc>,
) -> Result<Message, StoreError> {
    let now = to_db_time(now);
    // One statement takes the next `seq` and moves `last_message_at` forward,
    // never back: the CASE keeps a later time a lagging node's clock would undo.
    // (On SQLite the times compare as text, which orders them: every one is
    // written in the same format, `Stamp`'s, whose fraction is left-aligned.)
    let (seq, stored): (i64, Option<Stamp>) = native!(conn, |c| Shaped(
        diesel::update(threads::table.find(thread.get()))
            .set((
                threads::last_seq.eq(threads::last_seq + 1),
                threads::message_count.eq(threads::message_count + 1),
                threads::last_message_at.eq(case_when(
                    threads::last_message_at.gt(now),
                    threads::last_message_at,
                )
                .otherwise(now)),
            ))
            .returning((threads::last_seq, threads::last_message_at))
    )
    .get_result(c))?;
    let at = stored.unwrap_or(now);
    let row = (
        messages::thread_id.eq(thread.get()),
        messages::seq.eq(seq),
        messages::sender_id.eq(message.sender.map(UserId::get)),
        messages::sender_role.eq(message.role.code()),
        messages::sender_name.eq(&message.sender_name),
        messages::kind.eq(message.kind.as_str()),
        messages::body.eq(message.body.as_ref()),
        messages::created_at.eq(at),
        messages::recipient_id.eq(recipient.map(UserId::get)),
        messages::file_id.eq(message.file.map(FileId::get)),
    );
    // On the engine's own connection: through diesel's `MultiConnection`
    // the statement's SQL would be built again on every send.
    let id: i64 = match reserved {
        Some(id) => native!(conn, |c| diesel::insert_into(messages::table)
            .values((messages::id.eq(id.get()), row))
            .returning(messages::id)
            .get_result(c))?,
        None => native!(conn, |c| diesel::insert_into(messages::table)
            .values(row)
            .returning(messages::id)
            .get_result(c))?,
    };
    Ok(Message {
        id: MessageId(id),
        thread,
        seq,
        sender: message.sender,
        role: message.role,
        sender_name: message.sender_name.clone(),
        kind: message.kind,
        body: message.body.as_ref().to_owned(),
        created_at: from_db_time(at),
        recipient,
        read: false,
        file: message.file,
    })
}

/// Up to `limit` messages with `seq > after`, oldest first.
///
/// # Errors
/// Query failures.
pub fn after_seq(
    conn: &mut DbConn,
    thread: ThreadId,
    after: i64,
    limit: i64,
) -> Result<Vec<Message>, StoreError> {
    native!(conn, |c| messages::table
        .filter(messages::thread_id.eq(thread.get()))
        // Sequences are gap-free, so the page is exactly this range: bounded on
        // both sides, it is an index range read on every planner.
        .filter(messages::seq.gt(after))
        .filter(messages::seq.le(after.saturating_add(limit)))
        .order(messages::seq.asc())
        .limit(limit)
        .select(MessageRow::as_select())
        .load(c))
    .map(|rows| rows.into_iter().map(Message::from).collect())
    .map_err(StoreError::from)
}

/// One message by id.
///
/// # Errors
/// Query failures.
pub fn find(conn: &mut DbConn, id: MessageId) -> Result<Option<Message>, StoreError> {
    messages::table
        .find(id.get())
        .select(MessageRow::as_select())
        .first(conn)
        .optional()
        .map(|row| row.map(Message::from))
        .map_err(StoreError::from)
}

/// The latest `limit` messages of a thread, oldest first.
///
/// # Errors
/// Query failures.
pub fn latest(conn: &mut DbConn, thread: ThreadId, limit: i64) -> Result<Vec<Message>, StoreError> {
    let mut rows: Vec<Message> = messages::table
        .filter(messages::thread_id.eq(thread.get()))
        .order(messages::seq.desc())
        .limit(limit)
        .select(MessageRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Message::from)
        .collect();
    rows.reverse();
    Ok(rows)
}

/// How many messages a thread holds (a maintained counter, not a COUNT).
///
/// # Errors
/// [`StoreError::NotFound`] when the thread does not exist.
pub fn count(conn: &mut DbConn, thread: ThreadId) -> Result<i64, StoreError> {
    native!(conn, |c| threads::table
        .find(thread.get())
        .select(threads::message_count)
        .first(c))
    .map_err(StoreError::from)
}

/// The seq of a message, if it belongs to `thread`.
///
/// # Errors
/// Query failures.
pub fn seq_of(
    conn: &mut DbConn,
    thread: ThreadId,
    id: MessageId,
) -> Result<Option<i64>, StoreError> {
    messages::table
        .find(id.get())
        .filter(messages::thread_id.eq(thread.get()))
        .select(messages::seq)
        .first(conn)
        .optional()
        .map_err(StoreError::from)
}

/// Up to `limit` messages with `seq < before`, oldest first.
///
/// # Errors
/// Query failures.
pub fn before_seq(
    conn: &mut DbConn,
    thread: ThreadId,
    before: i64,
    limit: i64,
) -> Result<Vec<Message>, StoreError> {
    let start = (before - limit - 1).max(0);
    let count = (before - 1 - start).max(0);
    after_seq(conn, thread, start, count)
}
