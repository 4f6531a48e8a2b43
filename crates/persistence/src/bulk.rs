//! Bulk loading for `colloq seed` and benchmarks: multi-row inserts in large
//! batches, with thread and conversation counters set once per thread instead of
//! once per message. The rows it writes obey every invariant the use cases keep
//! (gap-free `seq`, non-decreasing `created_at`, exact counters).

use chrono::{DateTime, Duration, Utc};
use colloq_domain::ids::{ThreadId, UserId};
use colloq_domain::message::{MessageType, SenderRole};
use diesel::prelude::*;

use crate::schema::{accounts, comm_orders, conversations, messages, threads, users};
use crate::stamp::Stamp;
use crate::{DbConn, StoreError, to_db_time};

/// Runs a multi-row INSERT on the concrete connection: the multi-connection's
/// common backend cannot express batch inserts (SQLite has no DEFAULT keyword),
/// each engine can.
macro_rules! batch_insert {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            DbConn::Sqlite(inner) => diesel::insert_into($table).values($rows).execute(inner),
            DbConn::Postgres(inner) => diesel::insert_into($table).values($rows).execute(inner),
        }
    };
}

/// Rows per INSERT: 14 binds a message row stays under SQLite's 32,766 and
/// PostgreSQL's 65,535 bind limits.
const BATCH: usize = 2000;

#[derive(Insertable)]
#[diesel(table_name = messages)]
struct MessageInsert {
    thread_id: i64,
    seq: i64,
    sender_id: Option<i64>,
    sender_role: i32,
    sender_name: String,
    kind: String,
    body: String,
    created_at: Stamp,
    recipient_id: Option<i64>,
}

/// A person to create.
#[derive(Debug, Clone)]
pub struct BulkUser {
    /// Username (also the e-mail's local part).
    pub username: String,
    /// Staff or not.
    pub is_staff: bool,
}

/// Creates accounts with their primary profiles, all with the same password
/// hash. Returns their profile ids in input order.
///
/// # Errors
/// Query failures, or a conflict when a name is taken.
pub fn users(
    conn: &mut DbConn,
    people: &[BulkUser],
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<Vec<UserId>, StoreError> {
    let now = to_db_time(now);
    let mut ids = Vec::with_capacity(people.len());
    for chunk in people.chunks(BATCH / 4) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|p| {
                (
                    accounts::aid.eq(format!("b{}", p.username)),
                    accounts::email.eq(Some(format!("{}@example.com", p.username))),
                    accounts::password_hash.eq(password_hash),
                    accounts::is_staff.eq(p.is_staff),
                    accounts::created_at.eq(now),
                    accounts::updated_at.eq(now),
                )
            })
            .collect();
        batch_insert!(conn, accounts::table, &rows)?;
        let aids: Vec<String> = chunk.iter().map(|p| format!("b{}", p.username)).collect();
        let mut account_ids: Vec<(String, i64)> = accounts::table
            .filter(accounts::aid.eq_any(&aids))
            .select((accounts::aid, accounts::id))
            .load(conn)?;
        account_ids.sort_by_key(|(aid, _)| aids.iter().position(|a| a == aid));
        let profiles: Vec<_> = chunk
            .iter()
            .zip(&account_ids)
            .enumerate()
            .map(|(i, (p, (_, account)))| {
                (
                    users::account_id.eq(*account),
                    users::uid.eq(50_000_000 + account * 7 + i64::try_from(i).unwrap_or(0) % 7),
                    users::username.eq(p.username.clone()),
                    users::nickname.eq(p.username.clone()),
                    users::created_at.eq(now),
                    users::updated_at.eq(now),
                )
            })
            .collect();
        batch_insert!(conn, users::table, &profiles)?;
        let names: Vec<&str> = chunk.iter().map(|p| p.username.as_str()).collect();
        let mut found: Vec<(String, i64)> = users::table
            .filter(users::username.eq_any(&names))
            .select((users::username, users::id))
            .load(conn)?;
        found.sort_by_key(|(name, _)| names.iter().position(|n| n == name));
        ids.extend(found.into_iter().map(|(_, id)| UserId(id)));
    }
    Ok(ids)
}

/// Creates an order owned by `owner` with no messages yet.
///
/// # Errors
/// Query failures.
pub fn order(
    conn: &mut DbConn,
    owner: UserId,
    title: &str,
    now: DateTime<Utc>,
) -> Result<ThreadId, StoreError> {
    let now = to_db_time(now);
    let id = crate::messages::create_thread(conn, crate::orders::THREAD_KIND_ORDER, now)?;
    diesel::insert_into(comm_orders::table)
        .values((
            comm_orders::id.eq(id),
            comm_orders::user_id.eq(owner.get()),
            comm_orders::archive_id.eq(1_i64),
            comm_orders::title.eq(title),
            comm_orders::content.eq("A custom theme, please."),
            comm_orders::phone.eq("13800000000"),
            comm_orders::status.eq(1),
            comm_orders::created_at.eq(now),
            comm_orders::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(ThreadId(id))
}

/// Creates the conversation of `a` and `b` with no messages yet.
///
/// # Errors
/// Query failures; a conflict when the pair has one.
pub fn conversation(
    conn: &mut DbConn,
    a: UserId,
    b: UserId,
    now: DateTime<Utc>,
) -> Result<ThreadId, StoreError> {
    let now = to_db_time(now);
    let id =
        crate::messages::create_thread(conn, crate::conversations::THREAD_KIND_CONVERSATION, now)?;
    diesel::insert_into(conversations::table)
        .values((
            conversations::id.eq(id),
            conversations::a_user_id.eq(a.get()),
            conversations::b_user_id.eq(b.get()),
            conversations::low_user_id.eq(a.min(b).get()),
            conversations::high_user_id.eq(a.max(b).get()),
            conversations::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(ThreadId(id))
}

/// Who writes a thread's messages: they alternate between the two.
#[derive(Debug, Clone, Copy)]
pub struct Writers<'a> {
    /// The first writer and their display name.
    pub first: (UserId, &'a str, SenderRole),
    /// The second writer.
    pub second: (UserId, &'a str, SenderRole),
    /// Conversations record a recipient; orders do not.
    pub direct: bool,
}

/// Appends `count` text messages to an empty thread, ending at `end` and one
/// millisecond apart, then sets the thread's (and conversation's) counters.
/// `progress` is called with the number of rows written after every batch.
///
/// # Errors
/// Query failures.
pub fn messages(
    conn: &mut DbConn,
    thread: ThreadId,
    writers: Writers<'_>,
    count: i64,
    end: DateTime<Utc>,
    progress: &mut dyn FnMut(u64),
) -> Result<(), StoreError> {
    let start = end - Duration::milliseconds(count);
    let mut seq = 0_i64;
    let mut received_by_first = 0_i64;
    while seq < count {
        let batch =
            usize::try_from((count - seq).min(i64::try_from(BATCH).unwrap_or(1))).unwrap_or(BATCH);
        let rows: Vec<MessageInsert> = (0..batch)
            .map(|_| {
                seq += 1;
                let (from, to) = if seq % 2 == 1 {
                    (writers.first, writers.second)
                } else {
                    (writers.second, writers.first)
                };
                if writers.direct && to.0 == writers.first.0 {
                    received_by_first += 1;
                }
                MessageInsert {
                    thread_id: thread.get(),
                    seq,
                    sender_id: Some(from.0.get()),
                    sender_role: from.2.code(),
                    sender_name: from.1.to_owned(),
                    kind: MessageType::Text.as_str().to_owned(),
                    body: format!(
                        "Message {seq}: about the header, the colours and the product pages."
                    ),
                    created_at: to_db_time(start + Duration::milliseconds(seq)),
                    recipient_id: writers.direct.then_some(to.0.get()),
                }
            })
            .collect();
        batch_insert!(conn, messages::table, &rows)?;
        progress(u64::try_from(batch).unwrap_or(0));
    }
    let last = to_db_time(start + Duration::milliseconds(count));
    diesel::update(threads::table.find(thread.get()))
        .set((
            threads::last_seq.eq(count),
            threads::message_count.eq(count),
            threads::last_message_at.eq(last),
        ))
        .execute(conn)?;
    if writers.direct {
        let target = conversations::table.find(thread.get());
        let received_by_second = count - received_by_first;
        diesel::update(target)
            .set((
                conversations::a_message_count.eq(count),
                conversations::b_message_count.eq(count),
                conversations::a_unread_count.eq(received_by_first),
                conversations::b_unread_count.eq(received_by_second),
                conversations::latest_message_at.eq(last),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Prepares a connection for a bulk load. Rows written here are consistent by
/// construction, so SQLite's per-row foreign-key lookups are switched off on
/// this connection (it roughly halves the load time); PostgreSQL is unchanged.
/// Use a connection of its own and drop it afterwards.
///
/// # Errors
/// Query failures.
pub fn prepare(conn: &mut DbConn) -> Result<(), StoreError> {
    if let DbConn::Sqlite(inner) = conn {
        diesel::connection::SimpleConnection::batch_execute(inner, "PRAGMA foreign_keys = OFF;")?;
    }
    Ok(())
}

/// Settles the tables after a bulk load. On PostgreSQL a load of millions of
/// rows leaves the planner without statistics and the visibility map empty,
/// and autovacuum then catches up on its own schedule, in the middle of
/// whatever runs next; vacuuming and analysing here does it at once. SQLite
/// is left alone: its planner uses statistics only once `ANALYZE` has run,
/// and the query plans colloq pins were chosen without them.
///
/// # Errors
/// Query failures.
pub fn finish(conn: &mut DbConn) -> Result<(), StoreError> {
    if let DbConn::Postgres(inner) = conn {
        diesel::connection::SimpleConnection::batch_execute(
            inner,
            "VACUUM (ANALYZE) accounts, users, threads, comm_orders, conversations, messages;",
        )?;
    }
    Ok(())
}
