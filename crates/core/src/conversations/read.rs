use chrono::{DateTime, Utc};
use colloq_domain::conversation::{Conversation, MessagingRefusal, Relation, may_message};
use colloq_domain::event::{Change, Feed};
use colloq_domain::file::StoredFile;
use colloq_domain::ids::{MessageId, ThreadId, UserId};
use colloq_domain::message::Message;
use colloq_domain::page::{Cursor, PageRequest, Paged, Seek};
use colloq_domain::user::User;
use colloq_persistence::conversations::{self, Selection, Window};
use colloq_persistence::{DbConn, accounts, messages, relations, write_transaction};

use crate::events::{Outbox, conversation_audience};
use crate::{CoreError, Refusal};

/// The facts the messaging rule needs about `recipient`'s view of `sender`.
pub(super) fn relation(
    conn: &mut DbConn,
    sender: &User,
    recipient: &User,
) -> Result<Relation, CoreError> {
    // Messaging oneself is refused before any relation matters; every message
    // page renders the viewer's own profile, so skip two reads there.
    if sender.id == recipient.id {
        return Ok(Relation::default());
    }
    let (recipient_follows_sender, recipient_blocked_sender) =
        relations::standing(conn, recipient.id, sender.id)?;
    Ok(Relation {
        recipient_follows_sender,
        recipient_blocked_sender,
    })
}

/// Whether `viewer` may message `target` (shown in every Fresns User Info).
///
/// # Errors
/// Storage failures; the refusal itself is the `Ok(Err(..))` value.
pub fn messaging_permission(
    conn: &mut DbConn,
    viewer: &User,
    target: &User,
) -> Result<Result<(), MessagingRefusal>, CoreError> {
    let facts = relation(conn, viewer, target)?;
    Ok(may_message(viewer, target, facts))
}

/// `users`, each with whether `viewer` may message them.
///
/// # Errors
/// Storage failures.
pub fn messaging_permissions(
    conn: &mut DbConn,
    viewer: &User,
    users: Vec<User>,
) -> Result<Participants, CoreError> {
    users
        .into_iter()
        .map(|user| {
            let may = messaging_permission(conn, viewer, &user)?;
            Ok((user, may))
        })
        .collect()
}

/// A conversation as one participant sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationSummary {
    /// The conversation.
    pub conversation: Conversation,
    /// The other participant; `None` when their profile is gone.
    pub other: Option<User>,
    /// The latest message, whoever deleted it.
    pub latest: Option<Message>,
    /// Whether the viewer may message `other` (`Ok` when there is no other).
    pub may_message: Result<(), MessagingRefusal>,
}

fn visible_user(conn: &mut DbConn, id: UserId) -> Result<Option<User>, CoreError> {
    Ok(accounts::find(conn, id)?.filter(|u| !u.deleted))
}

fn summary(
    conn: &mut DbConn,
    me: &User,
    conversation: Conversation,
    with_latest: bool,
) -> Result<ConversationSummary, CoreError> {
    let other = visible_user(conn, conversation.other(me.id))?;
    let latest = if with_latest {
        messages::latest(conn, conversation.id, 1)?.pop()
    } else {
        None
    };
    let may_message = match &other {
        Some(other) => messaging_permission(conn, me, other)?,
        None => Ok(()),
    };
    Ok(ConversationSummary {
        conversation,
        other,
        latest,
        may_message,
    })
}

/// `me`'s displayed conversations, latest message first.
///
/// # Errors
/// Storage failures.
pub fn list_conversations(
    conn: &mut DbConn,
    me: &User,
    pinned: Option<bool>,
    page: PageRequest,
) -> Result<Paged<ConversationSummary>, CoreError> {
    let found = conversations::list_for(conn, me.id, pinned, page)?;
    let items = found
        .items
        .into_iter()
        .map(|c| summary(conn, me, c, true))
        .collect::<Result<_, _>>()?;
    Ok(Paged {
        items,
        total: found.total,
    })
}

/// The conversation, if `me` takes part (hidden ones included), in upstream's
/// order of checks.
fn participant_view(conn: &mut DbConn, me: &User, id: ThreadId) -> Result<Conversation, CoreError> {
    let conversation =
        conversations::find(conn, id)?.ok_or(CoreError::Refused(Refusal::UnknownConversation))?;
    check_participant(&conversation, me)?;
    Ok(conversation)
}

fn check_participant(conversation: &Conversation, me: &User) -> Result<(), CoreError> {
    if conversation.side_of(me.id).is_none() {
        return Err(CoreError::Refused(Refusal::NotParticipant));
    }
    if conversation.a.user == conversation.b.user {
        return Err(CoreError::Refused(Refusal::SelfConversation));
    }
    Ok(())
}

/// One conversation with its counters for `me`.
///
/// # Errors
/// [`Refusal::UnknownConversation`], [`Refusal::NotParticipant`], [`Refusal::SelfConversation`].
pub fn conversation_detail(
    conn: &mut DbConn,
    me: &User,
    id: ThreadId,
) -> Result<ConversationSummary, CoreError> {
    let conversation = participant_view(conn, me, id)?;
    summary(conn, me, conversation, false)
}

/// A page of a conversation's messages, with what rendering it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagePage {
    /// The messages, in the order asked for.
    pub messages: Paged<Message>,
    /// The participants still shown, each with whether the viewer may
    /// message them.
    pub participants: Participants,
    /// The uploads the page's file messages carry.
    pub files: Vec<StoredFile>,
}

/// A page of the messages `me` still sees, in time order, and both participants
/// (absent when their profile is gone), each with whether `me` may message
/// them. Listing marks nothing read.
///
/// # Errors
/// As [`conversation_detail`].
pub fn conversation_messages(
    conn: &mut DbConn,
    me: &User,
    id: ThreadId,
    cursor: Cursor,
    newest_first: bool,
) -> Result<MessagePage, CoreError> {
    let conversations::ViewerRead {
        conversation,
        length,
        other,
    } = conversations::find_for_viewer(conn, id, me.id)?
        .ok_or(CoreError::Refused(Refusal::UnknownConversation))?;
    check_participant(&conversation, me)?;
    // The side's counter is exact (kept in the same transaction as every send
    // and deletion), so it is both the total and the test for deletions.
    let total = conversation.side_of(me.id).map_or(0, |s| s.message_count);
    let window = match cursor {
        Cursor::Page(page) => Window::Page {
            page,
            newest_first,
            length,
            has_deletions: total < length,
        },
        Cursor::Before { id: anchor, limit } => Window::Before {
            seq: crate::threads::anchor(conn, id, Seek::Before, anchor)?,
            limit,
        },
        Cursor::After { id: anchor, limit } => Window::After {
            seq: crate::threads::anchor(conn, id, Seek::After, anchor)?,
            limit,
        },
    };
    // A seek comes back in its index's order: newest first before the anchor,
    // oldest first after it. A client reads it like a page, so it gets the
    // order it asked for (`orderDirection`) in both cases.
    let seek_newest_first = match window {
        Window::Page { .. } => None,
        Window::Before { .. } => Some(true),
        Window::After { .. } => Some(false),
    };
    let mut items = conversations::visible_page(conn, id, me.id, window)?;
    if seek_newest_first.is_some_and(|newest| newest != newest_first) {
        items.reverse();
    }
    dress(conn, me, &conversation, other, items, total)
}

/// One message of a conversation as `me` sees it (a page of one, with the
/// participants and the file it carries), or `None` when `me` does not see
/// it (deleted on `me`'s side, or not in this conversation).
///
/// # Errors
/// As [`conversation_detail`].
pub fn conversation_message(
    conn: &mut DbConn,
    me: &User,
    id: ThreadId,
    message: MessageId,
) -> Result<Option<MessagePage>, CoreError> {
    let conversations::ViewerRead {
        conversation,
        length: _,
        other,
    } = conversations::find_for_viewer(conn, id, me.id)?
        .ok_or(CoreError::Refused(Refusal::UnknownConversation))?;
    check_participant(&conversation, me)?;
    let Some(seq) = messages::seq_of(conn, id, message)? else {
        return Ok(None);
    };
    let window = Window::After {
        seq: seq - 1,
        limit: 1,
    };
    let items: Vec<Message> = conversations::visible_page(conn, id, me.id, window)?
        .into_iter()
        .filter(|m| m.id == message)
        .collect();
    if items.is_empty() {
        return Ok(None);
    }
    let total = conversation.side_of(me.id).map_or(0, |s| s.message_count);
    dress(conn, me, &conversation, other, items, total).map(Some)
}

/// A page of messages with the conversation's participants (each with
/// whether `me` may message them) and the files the messages carry.
fn dress(
    conn: &mut DbConn,
    me: &User,
    conversation: &Conversation,
    mut other: Option<(User, bool, bool)>,
    items: Vec<Message>,
    total: i64,
) -> Result<MessagePage, CoreError> {
    let mut people = Vec::with_capacity(2);
    for user in [conversation.a.user, conversation.b.user] {
        if user == me.id {
            // The caller's own profile was just read with their token.
            if !me.deleted {
                people.push((me.clone(), may_message(me, me, Relation::default())));
            }
        } else if let Some((other, follows, blocked)) = other.take()
            && !other.deleted
        {
            let relation = Relation {
                recipient_follows_sender: follows,
                recipient_blocked_sender: blocked,
            };
            let may = may_message(me, &other, relation);
            people.push((other, may));
        }
    }
    let carried: Vec<_> = items.iter().filter_map(|m| m.file).collect();
    let files = crate::files::carried(conn, &carried)?;
    Ok(MessagePage {
        messages: Paged { items, total },
        participants: people,
        files,
    })
}

/// The participants of a conversation still shown, each with whether the viewer
/// may message them.
pub type Participants = Vec<(User, Result<(), MessagingRefusal>)>;

/// A conversation-wide action needs `me` to take part; a missing conversation
/// answers the same (upstream gives 36602 for both here).
fn require_participant(
    conn: &mut DbConn,
    me: &User,
    selection: &Selection,
) -> Result<Option<Conversation>, CoreError> {
    match selection {
        Selection::Conversation(id) => conversations::find(conn, *id)?
            .filter(|c| c.side_of(me.id).is_some())
            .map(Some)
            .ok_or(CoreError::Refused(Refusal::NotParticipant)),
        Selection::Messages(_) => Ok(None),
    }
}

/// Marks what `me` received as read: a whole conversation or chosen messages
/// (others' messages and unknown ids are ignored).
///
/// # Errors
/// [`Refusal::NotParticipant`] for a conversation `me` is not in.
pub fn mark_read(
    conn: &mut DbConn,
    me: &User,
    selection: &Selection,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    write_transaction(conn, |conn| {
        require_participant(conn, me, selection)?;
        let marked = conversations::mark_read(conn, me.id, selection, now)?;
        let mut outbox = Outbox::default();
        for (conversation, messages) in marked {
            // Both sides hear of it: the reader's other devices, and the
            // sender, whose messages now show as read.
            let change = match (selection, messages.last()) {
                (Selection::Conversation(_), Some(&through)) => {
                    Change::ConversationRead { through }
                }
                _ => Change::MessagesRead { messages },
            };
            let audience = conversation_audience(&conversation);
            outbox.push(&audience, conversation.id, Some(me.id), change);
        }
        outbox.record(conn, now)
    })
}

/// Deletes on `me`'s side only: a whole conversation (it also leaves `me`'s
/// list) or chosen messages.
///
/// # Errors
/// [`Refusal::NotParticipant`] for a conversation `me` is not in.
pub fn delete_messages(
    conn: &mut DbConn,
    me: &User,
    selection: &Selection,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    write_transaction(conn, |conn| {
        let conversation = require_participant(conn, me, selection)?;
        let hidden = conversations::delete_for(conn, me.id, selection, now)?;
        // Only `me`'s side changed, so only `me` hears of it.
        let mut outbox = Outbox::default();
        let mine = [Feed::User(me.id)];
        if let Some(conversation) = conversation {
            conversations::hide(conn, &conversation, me.id)?;
            outbox.push(
                &mine,
                conversation.id,
                Some(me.id),
                Change::ConversationHidden,
            );
        } else {
            for (thread, messages) in hidden {
                let change = Change::MessagesDeleted { messages };
                outbox.push(&mine, thread, Some(me.id), change);
            }
        }
        outbox.record(conn, now)
    })
}

/// Toggles `me`'s pin; returns the new state.
///
/// # Errors
/// [`Refusal::UnknownConversation`], [`Refusal::NotParticipant`].
pub fn toggle_pin(
    conn: &mut DbConn,
    me: &User,
    id: ThreadId,
    now: DateTime<Utc>,
) -> Result<bool, CoreError> {
    write_transaction(conn, |conn| {
        let conversation = conversations::find(conn, id)?
            .ok_or(CoreError::Refused(Refusal::UnknownConversation))?;
        if conversation.side_of(me.id).is_none() {
            return Err(CoreError::Refused(Refusal::NotParticipant));
        }
        let pinned = conversations::toggle_pin(conn, &conversation, me.id)?;
        let mut outbox = Outbox::default();
        let change = Change::ConversationPinned { pinned };
        outbox.push(&[Feed::User(me.id)], id, Some(me.id), change);
        outbox.record(conn, now)?;
        Ok(pinned)
    })
}

/// `me`'s conversation counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panel {
    /// Conversations in `me`'s list.
    pub conversation_count: i64,
    /// Messages `me` received and has not read.
    pub unread_messages: i64,
}

/// `me`'s conversation counters, read from maintained counters.
///
/// # Errors
/// Storage failures.
pub fn panel(conn: &mut DbConn, me: &User) -> Result<Panel, CoreError> {
    let (conversation_count, unread_messages) = conversations::panel(conn, me.id)?;
    Ok(Panel {
        conversation_count,
        unread_messages,
    })
}
