//! The change feed, as the use cases produce it and readers take it back.
//!
//! Each write use case collects what it changed in an `Outbox` and records
//! it as the last step of its transaction, so an event exists exactly when
//! its change was committed, whichever dialect asked for the change.

use chrono::{DateTime, Utc};
use colloq_domain::conversation::Conversation;
use colloq_domain::event::{Change, Event, Feed, NewEvent};
use colloq_domain::ids::{MessageId, OrderId, ThreadId, UserId};
use colloq_domain::message::Message;
use colloq_domain::order::Order;
use colloq_persistence::{DbConn, events, messages, orders};

pub use colloq_persistence::events::{Notice, collecting};

use crate::CoreError;

/// The events of one write transaction, recorded together at its end.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    events: Vec<NewEvent>,
}

impl Outbox {
    /// Adds a change, told to `audience`.
    pub(crate) fn push(
        &mut self,
        audience: &[Feed],
        thread: ThreadId,
        actor: Option<UserId>,
        change: Change,
    ) {
        self.events.push(NewEvent {
            audience: audience.to_vec(),
            thread,
            actor,
            change,
        });
    }

    /// Records every event pushed, in order, as the transaction's last write.
    pub(crate) fn record(self, conn: &mut DbConn, now: DateTime<Utc>) -> Result<(), CoreError> {
        events::record(conn, &self.events, now)?;
        Ok(())
    }

    /// Where the store records a message's arrival ahead of the message
    /// (PostgreSQL, see [`events::record_ahead`]): records the events pushed
    /// so far and then `upcoming`'s, goes on empty, and returns the id to
    /// store the message under. Elsewhere `None`, and nothing changes.
    pub(crate) fn flush_ahead(
        &mut self,
        conn: &mut DbConn,
        upcoming: events::Upcoming<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<MessageId>, CoreError> {
        let drawn = events::record_ahead(conn, &self.events, upcoming, now)?;
        if drawn.is_some() {
            self.events.clear();
        }
        Ok(drawn)
    }
}

/// Who hears of an order's changes: its customer and the staff.
pub(crate) fn order_audience(order: &Order) -> [Feed; 2] {
    [Feed::User(order.owner), Feed::Staff]
}

/// Who hears of a new message or a read in a conversation: both sides.
pub(crate) fn conversation_audience(conversation: &Conversation) -> [Feed; 2] {
    [
        Feed::User(conversation.a.user),
        Feed::User(conversation.b.user),
    ]
}

/// Up to `limit` events of `feed` after position `after`, oldest first.
///
/// # Errors
/// Storage failures.
pub fn read(
    conn: &mut DbConn,
    feed: Feed,
    after: i64,
    limit: i64,
) -> Result<Vec<Event>, CoreError> {
    Ok(events::after(conn, feed, after, limit)?)
}

/// The position of `feed`'s latest final event (0 before the first): where
/// a reader that wants only what happens from now on starts.
///
/// # Errors
/// Storage failures.
pub fn head(conn: &mut DbConn, feed: Feed) -> Result<i64, CoreError> {
    Ok(events::head(conn, feed)?)
}

/// The oldest position of `feed` still stored (none before its first event)
/// and its head. Positions have gaps on PostgreSQL, so a reader that has seen
/// a position other than 0 below `oldest` has missed events that are gone,
/// and must reload instead.
///
/// # Errors
/// Storage failures.
pub fn bounds(conn: &mut DbConn, feed: Feed) -> Result<(Option<i64>, i64), CoreError> {
    Ok((events::oldest(conn, feed)?, events::head(conn, feed)?))
}

/// A message an event names, as it is now (`None` once it is gone). The
/// feed it came from already decided that its reader may see it.
///
/// # Errors
/// Storage failures.
pub fn message(conn: &mut DbConn, id: MessageId) -> Result<Option<Message>, CoreError> {
    Ok(messages::find(conn, id)?)
}

/// The order an order's event is about, as it is now.
///
/// # Errors
/// Storage failures.
pub fn order(conn: &mut DbConn, thread: ThreadId) -> Result<Option<Order>, CoreError> {
    Ok(orders::find(conn, OrderId(thread.get()))?)
}
