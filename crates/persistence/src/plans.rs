//! The query plans of the hot reads, for tests that pin them: a regression that
//! stops using an index fails CI instead of showing up as a slow page in
//! production. Each function explains the very query the store runs.

use diesel::debug_query;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::Sqlite;

use crate::accounts::{AccountRow, UserRow, key_and_user};
use crate::app_keys::AppKeyRow;
use crate::conversations::{ConversationRow, viewer_read};
use crate::messages::MessageRow;
use crate::schema::{
    accounts, app_keys, auth_tokens, blocks, comm_orders, conversations as c, event_audience as ea,
    event_log as el, events as ev, follows, messages as m, threads, users,
};
use crate::tokens::token_columns;
use crate::{DbConn, StoreError};

#[derive(QueryableByName)]
struct SqlitePlan {
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct PgPlan {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    line: String,
}

/// Explains `query` (built for both engines) with its `i64` binds, in order,
/// or with binds of the given SQL types (`typed [(Text, "x"), ...]`).
macro_rules! explain {
    ($conn:expr, $query:expr, [$($bind:expr),*]) => {
        explain!($conn, $query, typed [$((BigInt, $bind)),*])
    };
    ($conn:expr, $query:expr, typed [$(($ty:ty, $bind:expr)),*]) => {{
        // The query is built once per engine: a selection's type names its backend.
        match $conn {
            DbConn::Sqlite(inner) => {
                let sql = debug_query::<Sqlite, _>(&$query).to_string();
                let sql = sql.split(" -- binds:").next().unwrap_or_default().to_owned();
                diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
                    $(.bind::<$ty, _>($bind))*
                    .load::<SqlitePlan>(inner)
                    .map(|rows| rows.into_iter().map(|r| r.detail).collect::<Vec<_>>().join("\\n"))
                    .map_err(StoreError::from)
            }
            DbConn::Postgres(inner) => {
                let sql = debug_query::<Pg, _>(&$query).to_string();
                let sql = sql.split(" -- binds:").next().unwrap_or_default().to_owned();
                diesel::sql_query(format!("EXPLAIN {sql}"))
                    $(.bind::<$ty, _>($bind))*
                    .load::<PgPlan>(inner)
                    .map(|rows| rows.into_iter().map(|r| r.line).collect::<Vec<_>>().join("\\n"))
                    .map_err(StoreError::from)
            }
        }
    }};
}

/// A page of a thread (AnQiCMS messages, Fresns fast path): `seq > after`.
///
/// # Errors
/// Query failures.
pub fn thread_page(
    conn: &mut DbConn,
    thread: i64,
    after: i64,
    limit: i64,
) -> Result<String, StoreError> {
    explain!(
        conn,
        m::table
            .filter(m::thread_id.eq(thread))
            .filter(m::seq.gt(after))
            .filter(m::seq.le(after + limit))
            .order(m::seq.asc())
            .limit(limit)
            .select(MessageRow::as_select()),
        [thread, after, after + limit, limit]
    )
}

/// A page of the messages one participant still sees, newest first, within a
/// seq range.
///
/// # Errors
/// Query failures.
pub fn visible_page(
    conn: &mut DbConn,
    thread: i64,
    me: i64,
    low: i64,
    high: i64,
) -> Result<String, StoreError> {
    let visible = m::sender_id
        .eq(me)
        .and(m::sender_deleted_at.is_null())
        .or(m::recipient_id
            .eq(me)
            .and(m::recipient_deleted_at.is_null()));
    explain!(
        conn,
        m::table
            .filter(m::thread_id.eq(thread))
            .filter(visible)
            .filter(m::seq.between(low, high))
            .order(m::seq.desc())
            .select(MessageRow::as_select()),
        [thread, me, me, low, high]
    )
}

/// A message page's first read: the conversation, its thread, the other
/// participant and their standing towards the viewer.
///
/// # Errors
/// Query failures.
pub fn viewer_read(conn: &mut DbConn, conversation: i64, me: i64) -> Result<String, StoreError> {
    explain!(
        conn,
        viewer_read!(conversation, me),
        [me, me, me, conversation]
    )
}

/// A Fresns request's caller read: its app key, its profile and both its
/// tokens' records.
///
/// # Errors
/// Query failures.
pub fn key_and_user(conn: &mut DbConn, app_id: &str, uid: i64) -> Result<String, StoreError> {
    explain!(
        conn,
        key_and_user!(app_id, uid, "account-hash", "user-hash"),
        typed [
            (BigInt, uid),
            (Text, "account-hash"),
            (Text, "user-hash"),
            (Text, app_id)
        ]
    )
}

/// The seqs one participant deleted as sender.
///
/// # Errors
/// Query failures.
pub fn deleted_by_sender(conn: &mut DbConn, thread: i64, me: i64) -> Result<String, StoreError> {
    explain!(
        conn,
        m::table
            .filter(m::thread_id.eq(thread))
            .filter(m::sender_id.eq(me))
            .filter(m::sender_deleted_at.is_not_null())
            .select(m::seq),
        [thread, me]
    )
}

/// A recipient's unread messages in one conversation, as marking it read
/// finds them.
///
/// # Errors
/// Query failures.
pub fn unread_in(conn: &mut DbConn, thread: i64, me: i64) -> Result<String, StoreError> {
    explain!(
        conn,
        m::table
            .filter(m::recipient_id.is_not_null())
            .filter(m::thread_id.eq(thread))
            .filter(m::recipient_id.eq(me))
            .filter(m::recipient_read_at.is_null())
            .select((m::id, m::thread_id)),
        [thread, me]
    )
}

/// One customer's orders, newest first.
///
/// # Errors
/// Query failures.
pub fn customer_orders(
    conn: &mut DbConn,
    owner: i64,
    limit: i64,
    offset: i64,
) -> Result<String, StoreError> {
    explain!(
        conn,
        comm_orders::table
            .filter(comm_orders::user_id.eq(owner))
            .select(comm_orders::id)
            .order(comm_orders::id.desc())
            .limit(limit)
            .offset(offset),
        [owner, limit, offset]
    )
}

/// A conversation by its pair.
///
/// # Errors
/// Query failures.
pub fn conversation_pair(conn: &mut DbConn, low: i64, high: i64) -> Result<String, StoreError> {
    explain!(
        conn,
        c::table
            .filter(c::low_user_id.eq(low))
            .filter(c::high_user_id.eq(high))
            .select(c::id),
        [low, high]
    )
}

/// A feed's events after a position, as a resuming reader asks: on SQLite
/// its index of the log, on PostgreSQL its rows of `events`.
///
/// # Errors
/// Query failures.
pub fn feed_after(
    conn: &mut DbConn,
    feed: i64,
    after: i64,
    limit: i64,
) -> Result<String, StoreError> {
    if matches!(conn, DbConn::Sqlite(_)) {
        return explain!(
            conn,
            ea::table
                .inner_join(el::table)
                .filter(ea::feed.eq(feed))
                .filter(ea::event_id.gt(after))
                .order(ea::event_id.asc())
                .limit(limit)
                .select((el::id, el::kind)),
            [feed, after, limit]
        );
    }
    let below = crate::events::horizon();
    explain!(
        conn,
        ev::table
            .filter(ev::feed.eq(feed))
            .filter(ev::position.gt(after))
            .filter(ev::position.lt(below))
            .order(ev::position.asc())
            .limit(limit)
            .select(ev::position),
        [feed, after, limit]
    )
}
