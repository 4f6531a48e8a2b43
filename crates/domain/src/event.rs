//! The change feed: what happened to a thread, told to everyone who may see it.
//!
//! Every state change a participant could see is recorded, in the same
//! transaction as the change, once per [`Feed`] that should hear of it. A
//! feed's positions increase, with gaps, and once a reader has seen position
//! `n` nothing can still appear at or below it, so a reader that resumes
//! after `n` can neither miss nor repeat an event. Events name what changed (a message, a status); the
//! dialects read the current state and render it in their own shape.

use chrono::{DateTime, Utc};

use crate::ids::{MessageId, ThreadId, UserId};
use crate::order::OrderStatus;
use crate::user::Viewer;

/// Whose events: one user's, or those every staff member of the site shares
/// (staff see every order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feed {
    /// Everything one user takes part in: their orders, their conversations.
    User(UserId),
    /// Every order, for the site's staff.
    Staff,
}

impl Feed {
    /// The feed that answers this viewer's questions: staff acting as staff
    /// read the staff feed; everyone else, their own.
    pub fn of(viewer: &Viewer) -> Self {
        if viewer.as_staff {
            Self::Staff
        } else {
            Self::User(viewer.user.id)
        }
    }

    /// The number that keys the feed in storage. User ids are positive, so
    /// the staff feed takes 0.
    pub fn key(self) -> i64 {
        match self {
            Self::User(id) => id.get(),
            Self::Staff => 0,
        }
    }

    /// The feed a stored key names.
    pub fn from_key(key: i64) -> Self {
        if key == 0 {
            Self::Staff
        } else {
            Self::User(UserId(key))
        }
    }
}

impl std::fmt::Display for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::User(id) => write!(f, "user.{id}"),
            Self::Staff => f.write_str("staff"),
        }
    }
}

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A message was added to the thread (by a participant; an order's
    /// status notes come with [`Change::OrderStatusChanged`]).
    MessageAppended {
        /// The message.
        message: MessageId,
    },
    /// The actor read these messages they had received.
    MessagesRead {
        /// The messages now read, in id order.
        messages: Vec<MessageId>,
    },
    /// The actor read everything they had received in the conversation.
    ConversationRead {
        /// The newest message that became read.
        through: MessageId,
    },
    /// The actor deleted these messages on their side only.
    MessagesDeleted {
        /// The messages, in id order.
        messages: Vec<MessageId>,
    },
    /// The actor deleted the whole conversation on their side: every message
    /// is gone for them, and it left their list until the next message.
    ConversationHidden,
    /// The actor pinned or unpinned the conversation on their side.
    ConversationPinned {
        /// The new state.
        pinned: bool,
    },
    /// A customer opened an order (the thread is the order).
    OrderCreated,
    /// An order's fields changed (the customer's edit, staff's images).
    OrderUpdated,
    /// An order moved from one status to another, with the system message
    /// that records it in the thread.
    OrderStatusChanged {
        /// The status before.
        from: OrderStatus,
        /// The status now.
        to: OrderStatus,
        /// The system message appended with the change.
        note: MessageId,
    },
}

impl Change {
    /// The message the change is about, when it is about one.
    pub fn message(&self) -> Option<MessageId> {
        match self {
            Self::MessageAppended { message } => Some(*message),
            Self::ConversationRead { through } => Some(*through),
            Self::OrderStatusChanged { note, .. } => Some(*note),
            _ => None,
        }
    }
}

/// A change to record, and every feed that should hear of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The feeds, each told once.
    pub audience: Vec<Feed>,
    /// The thread changed.
    pub thread: ThreadId,
    /// Who made the change (none for colloq's own).
    pub actor: Option<UserId>,
    /// What changed.
    pub change: Change,
}

/// One recorded event, as one feed sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The feed.
    pub feed: Feed,
    /// Its place in the feed: above every event the feed told before it.
    pub position: i64,
    /// The thread changed.
    pub thread: ThreadId,
    /// Who made the change.
    pub actor: Option<UserId>,
    /// What changed.
    pub change: Change,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_keys_round_trip() {
        for feed in [Feed::Staff, Feed::User(UserId(1)), Feed::User(UserId(42))] {
            assert_eq!(Feed::from_key(feed.key()), feed);
        }
        assert_eq!(Feed::User(UserId(7)).to_string(), "user.7");
        assert_eq!(Feed::Staff.to_string(), "staff");
    }
}
