//! Conversations: direct messages between two users (Fresns). Each side keeps its
//! own display, pin, message and unread state; deleting is per side.

use chrono::{DateTime, Utc};

use crate::ids::{ThreadId, UserId};
use crate::user::User;

/// Who may start messaging a user (Fresns `conversationLimit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConversationLimit {
    /// `1`: everyone.
    Everyone,
    /// `2`: only users this user follows.
    Followed,
    /// `3`: users this user follows, and verified users.
    FollowedOrVerified,
    /// `4`: nobody.
    Nobody,
}

impl ConversationLimit {
    /// The wire and storage code.
    pub fn code(self) -> i32 {
        match self {
            Self::Everyone => 1,
            Self::Followed => 2,
            Self::FollowedOrVerified => 3,
            Self::Nobody => 4,
        }
    }

    /// The limit for a stored code; unknown codes read as the most permissive
    /// documented default, `Everyone`.
    pub fn from_code(code: i32) -> Self {
        match code {
            2 => Self::Followed,
            3 => Self::FollowedOrVerified,
            4 => Self::Nobody,
            _ => Self::Everyone,
        }
    }
}

/// Why a user may not message another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessagingRefusal {
    /// The recipient is the sender.
    SelfMessage,
    /// The recipient's profile was deleted.
    RecipientDeleted,
    /// The sender or the recipient is disabled.
    Disabled,
    /// The recipient accepts no messages, or has blocked the sender.
    RecipientRefusesAll,
    /// The recipient accepts messages only from users they follow.
    RequiresFollow,
    /// The recipient accepts messages only from users they follow or verified users.
    RequiresFollowOrVerified,
}

/// Facts about the relation between sender and recipient that the rule needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Relation {
    /// The recipient follows the sender.
    pub recipient_follows_sender: bool,
    /// The recipient has blocked the sender.
    pub recipient_blocked_sender: bool,
}

/// Whether `sender` may message `recipient` (Fresns' permission check, in its
/// order). The follow test uses the documented meaning — "users *the recipient*
/// follows" — not upstream's inverted query.
///
/// # Errors
/// The first [`MessagingRefusal`] that applies.
pub fn may_message(
    sender: &User,
    recipient: &User,
    relation: Relation,
) -> Result<(), MessagingRefusal> {
    if sender.id == recipient.id {
        return Err(MessagingRefusal::SelfMessage);
    }
    if recipient.deleted {
        return Err(MessagingRefusal::RecipientDeleted);
    }
    if !recipient.enabled || !sender.enabled {
        return Err(MessagingRefusal::Disabled);
    }
    match recipient.conversation_limit {
        _ if relation.recipient_blocked_sender => Err(MessagingRefusal::RecipientRefusesAll),
        ConversationLimit::Nobody => Err(MessagingRefusal::RecipientRefusesAll),
        ConversationLimit::FollowedOrVerified
            if !relation.recipient_follows_sender && !sender.verified =>
        {
            Err(MessagingRefusal::RequiresFollowOrVerified)
        }
        ConversationLimit::Followed if !relation.recipient_follows_sender => {
            Err(MessagingRefusal::RequiresFollow)
        }
        _ => Ok(()),
    }
}

/// One participant's view of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Side {
    /// The participant.
    pub user: UserId,
    /// Whether it shows in their list (cleared by their delete, set by any send).
    pub display: bool,
    /// Their pin flag.
    pub pinned: bool,
    /// Messages visible to them.
    pub message_count: i64,
    /// Messages they received and have not read (nor deleted).
    pub unread_count: i64,
}

/// A stored conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// Its id, also its thread's id.
    pub id: ThreadId,
    /// The side that sent the first message.
    pub a: Side,
    /// The side that received it.
    pub b: Side,
    /// When the latest message was sent.
    pub latest_message_at: Option<DateTime<Utc>>,
}

impl Conversation {
    /// `me`'s side, if `me` takes part. In a conversation with oneself (which
    /// colloq never creates) that is side `b`, as upstream toggles.
    pub fn side_of(&self, me: UserId) -> Option<&Side> {
        if self.b.user == me {
            Some(&self.b)
        } else if self.a.user == me {
            Some(&self.a)
        } else {
            None
        }
    }

    /// Whether `me` is side `a`.
    pub fn is_a(&self, me: UserId) -> bool {
        self.a.user == me && self.b.user != me
    }

    /// The other participant, seen from `me`.
    pub fn other(&self, me: UserId) -> UserId {
        if self.a.user == me {
            self.b.user
        } else {
            self.a.user
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::AccountId;

    fn user(id: i64) -> User {
        User {
            id: UserId(id),
            uid: id,
            account_id: AccountId(id),
            aid: String::new(),
            username: format!("u{id}"),
            nickname: String::new(),
            avatar_url: String::new(),
            email: None,
            phone: None,
            is_staff: false,
            conversation_limit: ConversationLimit::Everyone,
            enabled: true,
            verified: false,
            deleted: false,
            has_password: false,
            created_at: DateTime::<Utc>::default(),
            updated_at: DateTime::<Utc>::default(),
        }
    }

    #[test]
    fn the_checks_run_in_upstream_order() {
        let me = user(1);
        let mut them = user(2);
        let none = Relation::default();
        assert_eq!(
            may_message(&me, &me, none),
            Err(MessagingRefusal::SelfMessage)
        );
        assert_eq!(may_message(&me, &them, none), Ok(()));
        them.conversation_limit = ConversationLimit::Followed;
        assert_eq!(
            may_message(&me, &them, none),
            Err(MessagingRefusal::RequiresFollow)
        );
        let followed = Relation {
            recipient_follows_sender: true,
            ..Relation::default()
        };
        assert_eq!(may_message(&me, &them, followed), Ok(()));
        them.conversation_limit = ConversationLimit::FollowedOrVerified;
        assert_eq!(
            may_message(&me, &them, none),
            Err(MessagingRefusal::RequiresFollowOrVerified)
        );
        let mut verified = user(1);
        verified.verified = true;
        assert_eq!(may_message(&verified, &them, none), Ok(()));
        them.conversation_limit = ConversationLimit::Nobody;
        assert_eq!(
            may_message(&me, &them, followed),
            Err(MessagingRefusal::RecipientRefusesAll)
        );
        them.conversation_limit = ConversationLimit::Everyone;
        let blocked = Relation {
            recipient_blocked_sender: true,
            ..Relation::default()
        };
        assert_eq!(
            may_message(&me, &them, blocked),
            Err(MessagingRefusal::RecipientRefusesAll)
        );
        them.enabled = false;
        assert_eq!(
            may_message(&me, &them, none),
            Err(MessagingRefusal::Disabled)
        );
        them.deleted = true;
        assert_eq!(
            may_message(&me, &them, none),
            Err(MessagingRefusal::RecipientDeleted)
        );
    }

    #[test]
    fn limits_round_trip() {
        for l in [
            ConversationLimit::Everyone,
            ConversationLimit::Followed,
            ConversationLimit::FollowedOrVerified,
            ConversationLimit::Nobody,
        ] {
            assert_eq!(ConversationLimit::from_code(l.code()), l);
        }
    }
}
