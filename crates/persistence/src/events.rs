//! The change feed's store.
//!
//! The promise to readers: once a reader has seen position `n` of a feed,
//! no event at or below `n` can still appear in it. Positions increase along
//! a feed, with gaps. How they keep the promise differs by engine.
//!
//! On SQLite a write transaction holds the database's only write lock, so
//! events are simply numbered in commit order: each is one row of
//! `event_log`, whose id is its position in every feed that hears of it, and
//! a feed is the index `event_audience` of (feed, event id) entries. The log
//! grows at its tree's right edge, where a batch of sends fills pages in
//! order; a row per event per feed, keyed by feed, grew in the middle of its
//! tree, where SQLite rebalances a full page with its neighbours, and cost a
//! batch several times the pages (docs/benchmarks.md, "One log for the feed
//! on SQLite"). (Ids are one past the log's newest: whatever trims old events
//! must keep the newest, or ids would be handed out again.)
//!
//! On PostgreSQL several transactions write at once, and numbering a feed in
//! commit order would mean locking a counter per feed from the numbering to
//! the commit: every order write tells the staff feed, so they would all
//! queue on its row. Instead `events` holds a row per event per feed, whose
//! position is its transaction's id shifted left by 16 bits, plus a place
//! that increases along the transaction's events (`NEXT_PLACE`); and a reader
//! reads only events of transactions older than its snapshot's `xmin`, which
//! have all ended (`horizon`). An event of a transaction still running, or of
//! a younger one, waits until every older transaction has ended; it then
//! appears above everything already read. This is the ordering that
//! PostgreSQL-based outboxes and event stores use for a global log.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use colloq_domain::event::{Change, Event, Feed, NewEvent};
use colloq_domain::ids::{MessageId, ThreadId, UserId};
use colloq_domain::order::OrderStatus;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamp};
use serde::{Deserialize, Serialize};

use crate::schema::{event_audience, event_log, events};
use crate::stamp::Stamp;
use crate::{DbConn, Fixed, Quiet, Shaped, StoreError, from_db_time, to_db_time};

/// What a change carries beside its kind, thread and message, as stored in
/// the `detail` column (JSON; absent when there is nothing).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Detail {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    messages: Vec<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pinned: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to: Option<i32>,
}

impl Detail {
    fn is_empty(&self) -> bool {
        self.messages.is_empty()
            && self.pinned.is_none()
            && self.from.is_none()
            && self.to.is_none()
    }
}

/// The stored code of each kind of change. Codes are never reused.
mod kind {
    pub(super) const MESSAGE_APPENDED: i32 = 1;
    pub(super) const MESSAGES_READ: i32 = 2;
    pub(super) const CONVERSATION_READ: i32 = 3;
    pub(super) const MESSAGES_DELETED: i32 = 4;
    pub(super) const CONVERSATION_HIDDEN: i32 = 5;
    pub(super) const CONVERSATION_PINNED: i32 = 6;
    pub(super) const ORDER_CREATED: i32 = 7;
    pub(super) const ORDER_UPDATED: i32 = 8;
    pub(super) const ORDER_STATUS_CHANGED: i32 = 9;
}

fn ids(messages: &[MessageId]) -> Vec<i64> {
    messages.iter().map(|m| m.get()).collect()
}

/// The stored kind and detail of a change.
fn encode(change: &Change) -> (i32, Detail) {
    let mut detail = Detail::default();
    let code = match change {
        Change::MessageAppended { .. } => kind::MESSAGE_APPENDED,
        Change::MessagesRead { messages } => {
            detail.messages = ids(messages);
            kind::MESSAGES_READ
        }
        Change::ConversationRead { .. } => kind::CONVERSATION_READ,
        Change::MessagesDeleted { messages } => {
            detail.messages = ids(messages);
            kind::MESSAGES_DELETED
        }
        Change::ConversationHidden => kind::CONVERSATION_HIDDEN,
        Change::ConversationPinned { pinned } => {
            detail.pinned = Some(*pinned);
            kind::CONVERSATION_PINNED
        }
        Change::OrderCreated => kind::ORDER_CREATED,
        Change::OrderUpdated => kind::ORDER_UPDATED,
        Change::OrderStatusChanged { from, to, .. } => {
            detail.from = Some(from.code());
            detail.to = Some(to.code());
            kind::ORDER_STATUS_CHANGED
        }
    };
    (code, detail)
}

/// The change a stored row describes.
fn decode(code: i32, message: Option<i64>, detail: Detail) -> Result<Change, StoreError> {
    let corrupt = StoreError::Corrupt;
    let message = || {
        message
            .map(MessageId)
            .ok_or_else(|| corrupt("an event lacks its message"))
    };
    let status = |code: Option<i32>| {
        code.and_then(|c| OrderStatus::from_code(c.into()).ok())
            .ok_or_else(|| corrupt("a status event lacks a status"))
    };
    let messages = || detail.messages.iter().copied().map(MessageId).collect();
    Ok(match code {
        kind::MESSAGE_APPENDED => Change::MessageAppended {
            message: message()?,
        },
        kind::MESSAGES_READ => Change::MessagesRead {
            messages: messages(),
        },
        kind::CONVERSATION_READ => Change::ConversationRead {
            through: message()?,
        },
        kind::MESSAGES_DELETED => Change::MessagesDeleted {
            messages: messages(),
        },
        kind::CONVERSATION_HIDDEN => Change::ConversationHidden,
        kind::CONVERSATION_PINNED => Change::ConversationPinned {
            pinned: detail
                .pinned
                .ok_or_else(|| corrupt("a pin event lacks its state"))?,
        },
        kind::ORDER_CREATED => Change::OrderCreated,
        kind::ORDER_UPDATED => Change::OrderUpdated,
        kind::ORDER_STATUS_CHANGED => Change::OrderStatusChanged {
            from: status(detail.from)?,
            to: status(detail.to)?,
            note: message()?,
        },
        _ => return Err(corrupt("an event of a kind this binary does not know")),
    })
}

/// The feeds of one event, each once.
fn audience(audience: &[Feed]) -> Vec<Feed> {
    let mut feeds = audience.to_vec();
    feeds.sort_unstable();
    feeds.dedup();
    feeds
}

/// The places below a PostgreSQL transaction id's next one: a transaction
/// records fewer events than this.
const PLACES: i64 = 1 << 16;

/// The position below which every event a PostgreSQL reader can see is
/// final: the first position of the oldest transaction still running when
/// the reading statement's snapshot was taken. Compared inside the reading
/// statement, so it is the same snapshot's. (SQLite needs none: a reader
/// never sees a transaction that has not committed, and they commit in the
/// order they number.)
pub(crate) fn horizon() -> diesel::expression::SqlLiteral<BigInt> {
    diesel::dsl::sql::<BigInt>("(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 16)")
}

/// A feed's newest position once a transaction has committed: what a live
/// reader of that feed needs to hear to go and read it.
pub type Notice = (Feed, i64);

thread_local! {
    /// The notices of the events recorded by this thread's current
    /// [`collecting`] call. A write use case is synchronous and runs on one
    /// thread from start to commit, so this carries its notices out without
    /// every use case returning them.
    static RECORDED: RefCell<Vec<Notice>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` and returns, with its value, the notices of every event that a
/// transaction inside it recorded and committed. Nests: an inner call's
/// notices are the inner call's alone.
pub fn collecting<T>(f: impl FnOnce() -> T) -> (T, Vec<Notice>) {
    let outer = RECORDED.take();
    let value = f();
    (value, RECORDED.replace(outer))
}

/// Hands committed notices to the enclosing [`collecting`] call, if any.
pub(crate) fn pass_on(notices: Vec<Notice>) {
    if !notices.is_empty() {
        RECORDED.with_borrow_mut(|recorded| recorded.extend(notices));
    }
}

/// Records `events`, in order, in every feed of their audiences. Call inside
/// the write transaction that made the changes, after its other writes (see
/// the module's note on lock order).
///
/// # Errors
/// Query failures.
pub fn record(
    conn: &mut DbConn,
    events: &[NewEvent],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let notices = match conn {
        DbConn::Sqlite(c) => insert_sqlite(c, events, now)?,
        DbConn::Postgres(c) => {
            let rows = rows(events)?;
            if rows.is_empty() {
                return Ok(());
            }
            insert_postgres(c, rows, now)?.0
        }
    };
    heard(notices);
    Ok(())
}

/// A message about to be appended to `thread` by `sender`, told to
/// `audience` (see [`record_ahead`]).
#[derive(Debug, Clone, Copy)]
pub struct Upcoming<'a> {
    /// Who hears of it.
    pub audience: &'a [Feed],
    /// The thread it goes to.
    pub thread: ThreadId,
    /// Who sends it (none for the system).
    pub sender: Option<UserId>,
}

/// Records `events` and then `upcoming`'s arrival ahead of the message
/// itself, under a message id drawn in the same statement, and returns that
/// id: the message must then be stored under it in this transaction.
/// PostgreSQL only, where writers run side by side: every other send to the
/// thread waits from the append (which locks the thread's row) to this
/// transaction's commit, so what can be written before it should be.
/// On SQLite, where a write holds the one lock from start to end anyway and a
/// message takes its id as it is stored, this records nothing and returns
/// `None`: record the message's event after it.
///
/// # Errors
/// Query failures.
pub fn record_ahead(
    conn: &mut DbConn,
    events: &[NewEvent],
    upcoming: Upcoming<'_>,
    now: DateTime<Utc>,
) -> Result<Option<MessageId>, StoreError> {
    // Without an audience there is nothing to write ahead: the caller
    // records the message's event (to nobody) after it, as on SQLite.
    let (DbConn::Postgres(c), false) = (conn, upcoming.audience.is_empty()) else {
        return Ok(None);
    };
    let mut rows = rows(events)?;
    rows.extend(audience(upcoming.audience).into_iter().map(|feed| Row {
        feed: feed.key(),
        kind: kind::MESSAGE_APPENDED,
        thread: upcoming.thread.get(),
        actor: upcoming.sender.map(UserId::get),
        message: None,
        detail: None,
        drawn: true,
    }));
    let (notices, drawn) = insert_postgres(c, rows, now)?;
    heard(notices);
    drawn
        .map(|id| Some(MessageId(id)))
        .ok_or(StoreError::Corrupt("no message id was drawn"))
}

/// The stored kind and detail of a change, the detail as JSON.
fn stored(change: &Change) -> Result<(i32, Option<String>), StoreError> {
    let (code, detail) = encode(change);
    if detail.is_empty() {
        return Ok((code, None));
    }
    serde_json::to_string(&detail)
        .map(|json| (code, Some(json)))
        .map_err(|_unserialisable| StoreError::Corrupt("an event's detail did not serialise"))
}

/// The rows that store `events` on PostgreSQL: one per event per feed of its
/// audience.
fn rows(events: &[NewEvent]) -> Result<Vec<Row>, StoreError> {
    let mut rows = Vec::new();
    for event in events {
        let (code, detail) = stored(&event.change)?;
        for feed in audience(&event.audience) {
            rows.push(Row {
                feed: feed.key(),
                kind: code,
                thread: event.thread.get(),
                actor: event.actor.map(UserId::get),
                message: event.change.message().map(MessageId::get),
                detail: detail.clone(),
                drawn: false,
            });
        }
    }
    Ok(rows)
}

/// Each feed's newest position among the rows just stored.
type Newest = BTreeMap<i64, i64>;

fn insert_sqlite(
    c: &mut diesel::SqliteConnection,
    events: &[NewEvent],
    now: DateTime<Utc>,
) -> Result<Newest, StoreError> {
    let now = to_db_time(now);
    let mut newest = Newest::new();
    // The transaction holds the database's only write lock until it
    // commits, so the next id is simply one past the log's newest (read
    // once, at the tree's right edge), and the rows go in with their ids
    // known: an INSERT that returns what it wrote makes SQLite build a
    // temporary table for it, about as dear as the insert itself
    // (docs/benchmarks.md, "The feed's SQLite insert").
    let mut next = None;
    for event in events {
        let feeds = audience(&event.audience);
        if feeds.is_empty() {
            continue;
        }
        let id = match next {
            Some(id) => id,
            None => {
                let last: Option<i64> =
                    Shaped(event_log::table.select(diesel::dsl::max(event_log::id)))
                        .get_result(c)?;
                last.unwrap_or(0) + 1
            }
        };
        let (kind, detail) = stored(&event.change)?;
        // `Quiet`: prepared once, found by its type, and returns nothing.
        let _: Vec<i32> = Quiet(diesel::insert_into(event_log::table).values((
            event_log::id.eq(id),
            event_log::kind.eq(kind),
            event_log::thread_id.eq(event.thread.get()),
            event_log::actor_id.eq(event.actor.map(UserId::get)),
            event_log::message_id.eq(event.change.message().map(MessageId::get)),
            event_log::detail.eq(detail),
            event_log::created_at.eq(now),
        )))
        .load(c)?;
        for feed in feeds {
            let _: Vec<i32> = Quiet(diesel::insert_into(event_audience::table).values((
                event_audience::feed.eq(feed.key()),
                event_audience::event_id.eq(id),
            )))
            .load(c)?;
            newest.insert(feed.key(), id);
        }
        next = Some(id + 1);
    }
    Ok(newest)
}

/// The PostgreSQL insert; when rows are marked `drawn`, it also draws a
/// message id for them (once, shared by them) and returns it.
fn insert_postgres(
    c: &mut diesel::PgConnection,
    rows: Vec<Row>,
    now: DateTime<Utc>,
) -> Result<(Newest, Option<i64>), StoreError> {
    // One plain statement, planned in no time (a send runs it while other
    // sends to its thread wait on their own locked sections).
    const INSERT: &str = "INSERT INTO events (feed, position, kind, thread_id, actor_id, \
                                              message_id, detail, created_at) \
         SELECT r.feed, (pg_current_xact_id()::text::bigint << 16) + r.place, \
                r.kind, r.thread_id, r.actor_id, r.message_id, r.detail, $8 \
         FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::bigint[], \
                     $5::bigint[], $6::bigint[], $7::text[]) \
           AS r(feed, place, kind, thread_id, actor_id, message_id, detail) \
         RETURNING feed, position, NULL::bigint AS drawn";
    // The same, drawing the message's id in the statement (a volatile
    // function keeps the CTE evaluated once) rather than a round trip before.
    // The sequence is named as a `regclass` constant, resolved (through the
    // schema's search path) once when the statement is prepared;
    // `pg_get_serial_sequence` searched the catalogues for it on every send
    // (docs/benchmarks.md, "The message id's sequence").
    const INSERT_DRAWING: &str = "WITH drawn AS \
           (SELECT nextval('messages_id_seq'::regclass) AS id), \
         placed AS (INSERT INTO events (feed, position, kind, thread_id, actor_id, \
                                        message_id, detail, created_at) \
           SELECT r.feed, (pg_current_xact_id()::text::bigint << 16) + r.place, \
                  r.kind, r.thread_id, r.actor_id, \
                  CASE WHEN r.drawn THEN drawn.id ELSE r.message_id END, r.detail, $8 \
           FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::bigint[], \
                       $5::bigint[], $6::bigint[], $7::text[], $9::bool[]) \
             AS r(feed, place, kind, thread_id, actor_id, message_id, detail, drawn), drawn \
           RETURNING feed, position) \
         SELECT placed.feed, placed.position, drawn.id AS drawn FROM placed, drawn";
    let count = i64::try_from(rows.len()).unwrap_or(PLACES);
    let first = places(c, &rows, count)?;
    let marks: Option<Vec<bool>> = rows
        .iter()
        .any(|r| r.drawn)
        .then(|| rows.iter().map(|r| r.drawn).collect());
    let query = diesel::sql_query(if marks.is_some() {
        INSERT_DRAWING
    } else {
        INSERT
    })
    .bind::<Array<BigInt>, _>(rows.iter().map(|r| r.feed).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>((first..first + count).collect::<Vec<_>>())
    .bind::<Array<Integer>, _>(rows.iter().map(|r| r.kind).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(rows.iter().map(|r| r.thread).collect::<Vec<_>>())
    .bind::<Array<Nullable<BigInt>>, _>(rows.iter().map(|r| r.actor).collect::<Vec<_>>())
    .bind::<Array<Nullable<BigInt>>, _>(rows.iter().map(|r| r.message).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(rows.into_iter().map(|r| r.detail).collect::<Vec<_>>())
    .bind::<Timestamp, _>(to_db_time(now));
    let placed: Vec<Placed> = match marks {
        Some(marks) => Fixed(query.bind::<Array<diesel::sql_types::Bool>, _>(marks)).load(c)?,
        None => Fixed(query).load(c)?,
    };
    let mut newest = Newest::new();
    let drawn = placed.first().and_then(|p| p.drawn);
    for p in placed {
        let at = newest.entry(p.feed).or_insert(p.position);
        *at = (*at).max(p.position);
    }
    Ok((newest, drawn))
}

/// Hands the feeds' new heads to whoever hears of them once the transaction
/// commits: the transaction passes them on (see `write_transaction`), a
/// rolled-back one drops them.
fn heard(newest: Newest) {
    RECORDED.with_borrow_mut(|recorded| {
        recorded.extend(
            newest
                .into_iter()
                .map(|(feed, at)| (Feed::from_key(feed), at)),
        );
    });
}

thread_local! {
    /// The next place this thread hands out (PostgreSQL). A transaction runs
    /// on one thread from its first statement to its commit, and this only
    /// grows, so the places of one transaction's rows increase in the order
    /// they were recorded, across calls, without asking the database.
    static NEXT_PLACE: Cell<i64> = const { Cell::new(1) };
}

/// The first of `count` places for `rows`, in this transaction's range.
/// When the thread's places run out, they start again after the last place
/// this transaction used in these feeds (a lookup once per 65,535 events).
/// (A thread holding two write transactions open at once, which colloq never
/// does, could then be handed a place one of them used: its insert fails on
/// the primary key, and nothing is misnumbered.)
fn places(conn: &mut diesel::PgConnection, rows: &[Row], count: i64) -> Result<i64, StoreError> {
    let mut first = NEXT_PLACE.get();
    if first + count > PLACES {
        let feeds: Vec<i64> = rows.iter().map(|r| r.feed).collect();
        let used: Used = diesel::sql_query(
            "SELECT COALESCE(max(position & 65535), 0) AS place FROM events, \
               (SELECT pg_current_xact_id()::text::bigint << 16 AS base) AS tx \
             WHERE feed = ANY($1) AND position > tx.base AND position < tx.base + 65536",
        )
        .bind::<Array<BigInt>, _>(feeds)
        .get_result(conn)?;
        first = used.place + 1;
        if first + count > PLACES {
            // The next place would be the next transaction id's first.
            return Err(StoreError::Corrupt("too many events in one transaction"));
        }
    }
    NEXT_PLACE.set(first + count);
    Ok(first)
}

/// Sets the next place this thread hands out, for tests of running out.
#[cfg(feature = "test-support")]
pub fn set_next_place(place: i64) {
    NEXT_PLACE.set(place);
}

/// The last place a transaction used.
#[derive(QueryableByName)]
struct Used {
    #[diesel(sql_type = BigInt)]
    place: i64,
}

/// A row the PostgreSQL insert placed, with the message id it drew.
#[derive(QueryableByName)]
struct Placed {
    #[diesel(sql_type = BigInt)]
    feed: i64,
    #[diesel(sql_type = BigInt)]
    position: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    drawn: Option<i64>,
}

/// One event as one feed stores it.
struct Row {
    feed: i64,
    kind: i32,
    thread: i64,
    actor: Option<i64>,
    message: Option<i64>,
    detail: Option<String>,
    /// The row announces the message whose id the statement draws.
    drawn: bool,
}

/// One event as a feed reads it: the columns of `events`, in order, or
/// their equivalents in SQLite's log.
#[derive(Queryable, Selectable)]
#[diesel(table_name = events)]
struct EventRow {
    feed: i64,
    position: i64,
    kind: i32,
    thread_id: i64,
    actor_id: Option<i64>,
    message_id: Option<i64>,
    detail: Option<String>,
    created_at: Stamp,
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        let detail = match &row.detail {
            Some(text) => serde_json::from_str(text)
                .map_err(|_unreadable| StoreError::Corrupt("an event's detail is not readable"))?,
            None => Detail::default(),
        };
        Ok(Self {
            feed: Feed::from_key(row.feed),
            position: row.position,
            thread: ThreadId(row.thread_id),
            actor: row.actor_id.map(UserId),
            change: decode(row.kind, row.message_id, detail)?,
            at: from_db_time(row.created_at),
        })
    }
}

/// Up to `limit` events of `feed` after position `after`, in order, as far
/// as they are final (see the module's note).
///
/// # Errors
/// Query failures; [`StoreError::Corrupt`] for a row this binary cannot read.
pub fn after(
    conn: &mut DbConn,
    feed: Feed,
    after: i64,
    limit: i64,
) -> Result<Vec<Event>, StoreError> {
    let rows: Vec<EventRow> = match conn {
        DbConn::Sqlite(c) => Shaped(
            event_audience::table
                .inner_join(event_log::table)
                .filter(event_audience::feed.eq(feed.key()))
                .filter(event_audience::event_id.gt(after))
                .order(event_audience::event_id.asc())
                .limit(limit)
                .select((
                    event_audience::feed,
                    event_log::id,
                    event_log::kind,
                    event_log::thread_id,
                    event_log::actor_id,
                    event_log::message_id,
                    event_log::detail,
                    event_log::created_at,
                )),
        )
        .load(c)?,
        DbConn::Postgres(c) => {
            let below = horizon();
            // Wrapped, or the horizon's literal would have it prepared every time.
            Fixed(
                events::table
                    .filter(events::feed.eq(feed.key()))
                    .filter(events::position.gt(after))
                    .filter(events::position.lt(below))
                    .order(events::position.asc())
                    .limit(limit)
                    .select(EventRow::as_select()),
            )
            .load(c)?
        }
    };
    rows.into_iter().map(Event::try_from).collect()
}

/// The position of `feed`'s latest final event; 0 before its first.
///
/// # Errors
/// Query failures.
pub fn head(conn: &mut DbConn, feed: Feed) -> Result<i64, StoreError> {
    let newest: Option<i64> = match conn {
        DbConn::Sqlite(c) => Shaped(
            event_audience::table
                .filter(event_audience::feed.eq(feed.key()))
                .select(diesel::dsl::max(event_audience::event_id)),
        )
        .get_result(c)?,
        DbConn::Postgres(c) => Fixed(
            events::table
                .filter(events::feed.eq(feed.key()))
                .filter(events::position.lt(horizon()))
                .select(diesel::dsl::max(events::position)),
        )
        .get_result(c)?,
    };
    Ok(newest.unwrap_or_default())
}

/// The position of `feed`'s oldest stored event (older ones may have been
/// trimmed), none before its first.
///
/// # Errors
/// Query failures.
pub fn oldest(conn: &mut DbConn, feed: Feed) -> Result<Option<i64>, StoreError> {
    Ok(match conn {
        DbConn::Sqlite(c) => event_audience::table
            .filter(event_audience::feed.eq(feed.key()))
            .select(diesel::dsl::min(event_audience::event_id))
            .first(c)?,
        DbConn::Postgres(c) => events::table
            .filter(events::feed.eq(feed.key()))
            .select(diesel::dsl::min(events::position))
            .first(c)?,
    })
}
