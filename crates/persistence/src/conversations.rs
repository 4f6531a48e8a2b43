//! Conversations and the per-side state of their messages. Every write keeps the
//! per-side counters (`*_message_count`, `*_unread_count`) exact in the same
//! transaction, so lists and panels read counters instead of counting rows.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use colloq_domain::conversation::{Conversation, Side};
use colloq_domain::ids::{MessageId, ThreadId, UserId};
use colloq_domain::message::Message;
use colloq_domain::page::{PageRequest, Paged};
use colloq_domain::user::User;
use diesel::prelude::*;

use crate::accounts::{AccountRow, UserRow, to_user};
use crate::messages::MessageRow;
use crate::schema::{accounts, blocks, conversations as c, follows, messages as m, threads, users};
use crate::stamp::Stamp;
use crate::{DbConn, Quiet, StoreError, from_db_time, to_db_time};

/// The `threads.kind` of conversations.
pub(crate) const THREAD_KIND_CONVERSATION: i32 = 2;

#[derive(Queryable, Selectable)]
#[diesel(table_name = c)]
pub(crate) struct ConversationRow {
    id: i64,
    a_user_id: i64,
    b_user_id: i64,
    a_is_display: bool,
    b_is_display: bool,
    a_is_pin: bool,
    b_is_pin: bool,
    a_message_count: i64,
    b_message_count: i64,
    a_unread_count: i64,
    b_unread_count: i64,
    latest_message_at: Option<Stamp>,
}

impl From<ConversationRow> for Conversation {
    fn from(r: ConversationRow) -> Self {
        Self {
            id: ThreadId(r.id),
            a: Side {
                user: UserId(r.a_user_id),
                display: r.a_is_display,
                pinned: r.a_is_pin,
                message_count: r.a_message_count,
                unread_count: r.a_unread_count,
            },
            b: Side {
                user: UserId(r.b_user_id),
                display: r.b_is_display,
                pinned: r.b_is_pin,
                message_count: r.b_message_count,
                unread_count: r.b_unread_count,
            },
            latest_message_at: r.latest_message_at.map(from_db_time),
        }
    }
}

/// The conversation with this id.
///
/// # Errors
/// Query failures.
pub fn find(conn: &mut DbConn, id: ThreadId) -> Result<Option<Conversation>, StoreError> {
    native!(conn, |conn| c::table
        .find(id.get())
        .select(ConversationRow::as_select())
        .first(conn)
        .optional())
    .map(|row| row.map(Conversation::from))
    .map_err(StoreError::from)
}

/// The query of [`find_for_viewer`], also explained by `plans::viewer_read`.
macro_rules! viewer_read {
    ($id:expr, $viewer:expr) => {{
        let me: i64 = $viewer;
        let other_id =
            diesel::dsl::case_when(c::a_user_id.eq(me), c::b_user_id).otherwise(c::a_user_id);
        c::table
            .inner_join(threads::table)
            .left_join(users::table.on(users::id.eq(other_id)))
            .left_join(accounts::table.on(accounts::id.eq(users::account_id)))
            // Both keyed by the pair, so each joins at most one row.
            .left_join(
                follows::table.on(follows::follower_id
                    .eq(users::id)
                    .and(follows::followee_id.eq(me))),
            )
            .left_join(
                blocks::table.on(blocks::blocker_id
                    .eq(users::id)
                    .and(blocks::blocked_id.eq(me))),
            )
            .filter(c::id.eq($id))
            .select((
                ConversationRow::as_select(),
                threads::message_count,
                Option::<UserRow>::as_select(),
                Option::<AccountRow>::as_select(),
                follows::follower_id.nullable().is_not_null(),
                blocks::blocker_id.nullable().is_not_null(),
            ))
    }};
}
#[cfg(feature = "test-support")]
pub(crate) use viewer_read;

/// What a page of a conversation's messages reads before the page, as one of
/// its participants sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewerRead {
    /// The conversation.
    pub conversation: Conversation,
    /// The number of messages ever sent in it (its thread's length).
    pub length: i64,
    /// The participant who is not the viewer, when their profile exists,
    /// with whether they follow the viewer and whether they blocked them.
    pub other: Option<(User, bool, bool)>,
}

/// The conversation, its length, and its other participant with their
/// standing towards `viewer`, in one read: every message page needs all
/// three, and two statements cost a visible share of a page (the profile is
/// in docs/benchmarks.md, "Profiles behind the code"). When
/// `viewer` takes no part, `other` is whichever participant is not them (the
/// caller refuses such a viewer anyway).
///
/// # Errors
/// Query failures.
pub fn find_for_viewer(
    conn: &mut DbConn,
    id: ThreadId,
    viewer: UserId,
) -> Result<Option<ViewerRead>, StoreError> {
    native!(conn, |conn| viewer_read!(id.get(), viewer.get())
        .first::<(
            ConversationRow,
            i64,
            Option<UserRow>,
            Option<AccountRow>,
            bool,
            bool
        )>(conn)
        .optional())
    .map(|row| {
        row.map(
            |(conversation, length, user, account, follows, blocked)| ViewerRead {
                conversation: conversation.into(),
                length,
                other: user
                    .zip(account)
                    .map(|profile| (to_user(profile), follows, blocked)),
            },
        )
    })
    .map_err(StoreError::from)
}

/// The conversation between two users, in either orientation.
///
/// # Errors
/// Query failures.
pub fn find_pair(
    conn: &mut DbConn,
    x: UserId,
    y: UserId,
) -> Result<Option<Conversation>, StoreError> {
    let (low, high) = if x <= y { (x, y) } else { (y, x) };
    c::table
        .filter(c::low_user_id.eq(low.get()))
        .filter(c::high_user_id.eq(high.get()))
        .select(ConversationRow::as_select())
        .first(conn)
        .optional()
        .map(|row| row.map(Conversation::from))
        .map_err(StoreError::from)
}

/// Creates the conversation of `a` (who writes first) and `b`. Call inside a
/// write transaction.
///
/// # Errors
/// [`StoreError::Conflict`] when the pair already has one.
pub fn create(
    conn: &mut DbConn,
    a: UserId,
    b: UserId,
    now: DateTime<Utc>,
) -> Result<Conversation, StoreError> {
    let now = to_db_time(now);
    let id = crate::messages::create_thread(conn, THREAD_KIND_CONVERSATION, now)?;
    diesel::insert_into(c::table)
        .values((
            c::id.eq(id),
            c::a_user_id.eq(a.get()),
            c::b_user_id.eq(b.get()),
            c::low_user_id.eq(a.min(b).get()),
            c::high_user_id.eq(a.max(b).get()),
            c::created_at.eq(now),
        ))
        .execute(conn)?;
    find(conn, ThreadId(id))?.ok_or(StoreError::NotFound)
}

/// A page of `me`'s displayed conversations, latest message first, optionally
/// only those `me` pinned (or did not).
///
/// # Errors
/// Query failures.
pub fn list_for(
    conn: &mut DbConn,
    me: UserId,
    pinned: Option<bool>,
    page: PageRequest,
) -> Result<Paged<Conversation>, StoreError> {
    let me = me.get();
    let base = || {
        let mine_a = c::a_user_id.eq(me).and(c::a_is_display.eq(true));
        let mine_b = c::b_user_id.eq(me).and(c::b_is_display.eq(true));
        let q = c::table.into_boxed();
        match pinned {
            None => q.filter(mine_a.or(mine_b)),
            Some(p) => q.filter(
                mine_a
                    .and(c::a_is_pin.eq(p))
                    .or(mine_b.and(c::b_is_pin.eq(p))),
            ),
        }
    };
    let total: i64 = base().count().get_result(conn)?;
    let items = base()
        .order((c::latest_message_at.desc(), c::id.desc()))
        .limit(page.size())
        .offset(page.offset())
        .select(ConversationRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Conversation::from)
        .collect();
    Ok(Paged { items, total })
}

/// Adds to one side's counters.
fn adjust(
    conn: &mut DbConn,
    id: ThreadId,
    side_a: bool,
    messages: i64,
    unread: i64,
) -> Result<(), StoreError> {
    let target = c::table.find(id.get());
    if side_a {
        diesel::update(target)
            .set((
                c::a_message_count.eq(c::a_message_count + messages),
                c::a_unread_count.eq(c::a_unread_count + unread),
            ))
            .execute(conn)?;
    } else {
        diesel::update(target)
            .set((
                c::b_message_count.eq(c::b_message_count + messages),
                c::b_unread_count.eq(c::b_unread_count + unread),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Records a message `sender` just sent: both sides see the conversation again,
/// both counts grow, the recipient has one more unread.
///
/// # Errors
/// Query failures.
pub fn record_message(
    conn: &mut DbConn,
    conversation: &Conversation,
    sender: UserId,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let sender_is_a = conversation.a.user == sender;
    // One statement for both sides (a send is the hot write, and it holds
    // SQLite's write lock), which returns nothing: no sender needs the row.
    let _: Vec<i32> = native!(conn, |conn| Quiet(
        diesel::update(c::table.find(conversation.id.get())).set((
            c::a_is_display.eq(true),
            c::b_is_display.eq(true),
            c::latest_message_at.eq(to_db_time(at)),
            c::a_message_count.eq(c::a_message_count + 1),
            c::b_message_count.eq(c::b_message_count + 1),
            c::a_unread_count.eq(c::a_unread_count + i64::from(!sender_is_a)),
            c::b_unread_count.eq(c::b_unread_count + i64::from(sender_is_a)),
        ))
    )
    .load(conn))?;
    Ok(())
}

/// Toggles `me`'s pin flag; returns the new value.
///
/// # Errors
/// Query failures.
pub fn toggle_pin(
    conn: &mut DbConn,
    conversation: &Conversation,
    me: UserId,
) -> Result<bool, StoreError> {
    let target = c::table.find(conversation.id.get());
    let pinned = !conversation.side_of(me).is_some_and(|s| s.pinned);
    if conversation.is_a(me) {
        diesel::update(target)
            .set(c::a_is_pin.eq(pinned))
            .execute(conn)?;
    } else {
        diesel::update(target)
            .set(c::b_is_pin.eq(pinned))
            .execute(conn)?;
    }
    Ok(pinned)
}

/// `me`'s conversation counters: displayed conversations, unread messages.
///
/// # Errors
/// Query failures.
pub fn panel(conn: &mut DbConn, me: UserId) -> Result<(i64, i64), StoreError> {
    let me = me.get();
    let rows: Vec<(i64, i64, bool, bool, i64, i64)> = c::table
        .filter(c::a_user_id.eq(me).or(c::b_user_id.eq(me)))
        .select((
            c::a_user_id,
            c::b_user_id,
            c::a_is_display,
            c::b_is_display,
            c::a_unread_count,
            c::b_unread_count,
        ))
        .load(conn)?;
    Ok(rows.into_iter().fold(
        (0, 0),
        |(count, unread), (a, _b, a_show, b_show, a_unread, b_unread)| {
            if a == me {
                (count + i64::from(a_show), unread + a_unread)
            } else {
                (count + i64::from(b_show), unread + b_unread)
            }
        },
    ))
}

/// Where a page of a conversation starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Page number and size, newest first or oldest first.
    Page {
        /// The page.
        page: PageRequest,
        /// Newest first (Fresns `orderDirection=desc`).
        newest_first: bool,
        /// The thread's length, as [`find_for_viewer`] read it.
        length: i64,
        /// Whether `me` deleted any message of the thread (their side's count
        /// is below the length). Without deletions a rank is a seq, and the
        /// deleted seqs need not be read.
        has_deletions: bool,
    },
    /// Up to `limit` messages just before `seq`, newest first.
    Before {
        /// Exclusive bound.
        seq: i64,
        /// How many.
        limit: i64,
    },
    /// Up to `limit` messages just after `seq`, oldest first.
    After {
        /// Exclusive bound.
        seq: i64,
        /// How many.
        limit: i64,
    },
}

/// The seqs of messages `me` deleted in a thread, ascending (two partial-index reads).
fn deleted_seqs(conn: &mut DbConn, thread: ThreadId, me: UserId) -> Result<Vec<i64>, StoreError> {
    let mut seqs: Vec<i64> = m::table
        .filter(m::thread_id.eq(thread.get()))
        .filter(m::sender_id.eq(me.get()))
        .filter(m::sender_deleted_at.is_not_null())
        .select(m::seq)
        .load(conn)?;
    seqs.extend(
        m::table
            .filter(m::thread_id.eq(thread.get()))
            .filter(m::recipient_id.eq(me.get()))
            .filter(m::recipient_deleted_at.is_not_null())
            .select(m::seq)
            .load::<i64>(conn)?,
    );
    seqs.sort_unstable();
    Ok(seqs)
}

/// The seq of the `rank`-th (1-based) message still visible, given the deleted
/// seqs in ascending order.
fn seq_at_rank(rank: i64, deleted: &[i64]) -> i64 {
    let mut seq = rank;
    for &d in deleted {
        if d <= seq {
            seq += 1;
        } else {
            break;
        }
    }
    seq
}

/// Messages of a conversation visible to `me`, in time order (which is `seq`
/// order). A page costs the same at any depth: its first seq is computed from
/// the thread's length and `me`'s deletions, then read as one index range.
///
/// # Errors
/// Query failures.
pub fn visible_page(
    conn: &mut DbConn,
    thread: ThreadId,
    me: UserId,
    window: Window,
) -> Result<Vec<Message>, StoreError> {
    let me_id = me.get();
    let visible = m::sender_id
        .eq(me_id)
        .and(m::sender_deleted_at.is_null())
        .or(m::recipient_id
            .eq(me_id)
            .and(m::recipient_deleted_at.is_null()));
    // The selection is added per engine: `as_select` names its backend.
    let base = m::table
        .filter(m::thread_id.eq(thread.get()))
        .filter(visible);
    let rows = match window {
        Window::Before { seq, limit } => native!(conn, |c| base
            .filter(m::seq.lt(seq))
            .order(m::seq.desc())
            .limit(limit)
            .select(MessageRow::as_select())
            .load(c))?,
        Window::After { seq, limit } => native!(conn, |c| base
            .filter(m::seq.gt(seq))
            .order(m::seq.asc())
            .limit(limit)
            .select(MessageRow::as_select())
            .load(c))?,
        Window::Page {
            page,
            newest_first,
            length,
            has_deletions,
        } => {
            let deleted = if has_deletions {
                deleted_seqs(conn, thread, me)?
            } else {
                Vec::new()
            };
            let visible_count = length - i64::try_from(deleted.len()).unwrap_or(length);
            let skipped = page.offset();
            if skipped >= visible_count {
                return Ok(Vec::new());
            }
            // Both ends of the page's seq range are known, so the read is a bounded
            // index range on any planner (an open-ended `seq <= x LIMIT n` let
            // PostgreSQL choose a scan of the whole thread for early pages).
            let ranks = if newest_first {
                (
                    (visible_count - skipped - page.size() + 1).max(1),
                    visible_count - skipped,
                )
            } else {
                (skipped + 1, (skipped + page.size()).min(visible_count))
            };
            let (low, high) = (
                seq_at_rank(ranks.0, &deleted),
                seq_at_rank(ranks.1, &deleted),
            );
            let range = base.filter(m::seq.between(low, high));
            if newest_first {
                native!(conn, |c| range
                    .order(m::seq.desc())
                    .select(MessageRow::as_select())
                    .load(c))?
            } else {
                native!(conn, |c| range
                    .order(m::seq.asc())
                    .select(MessageRow::as_select())
                    .load(c))?
            }
        }
    };
    Ok(rows.into_iter().map(Message::from).collect())
}

/// Which messages an action on a conversation covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every message of one conversation.
    Conversation(ThreadId),
    /// These message ids, in any conversations.
    Messages(Vec<i64>),
}

fn in_selection<'a>(selection: &'a Selection) -> m::BoxedQuery<'a, crate::conn::MultiBackend> {
    let q = m::table.filter(m::recipient_id.is_not_null()).into_boxed();
    match selection {
        Selection::Conversation(thread) => q.filter(m::thread_id.eq(thread.get())),
        Selection::Messages(ids) => q.filter(m::id.eq_any(ids)),
    }
}

fn unread_for(
    q: m::BoxedQuery<'_, crate::conn::MultiBackend>,
    me: UserId,
) -> m::BoxedQuery<'_, crate::conn::MultiBackend> {
    q.filter(m::recipient_id.eq(me.get()))
        .filter(m::recipient_read_at.is_null())
}

/// Adjusts the counters of `me`'s side in each thread by the given deltas.
fn adjust_mine(
    conn: &mut DbConn,
    me: UserId,
    deltas: BTreeMap<i64, (i64, i64)>,
) -> Result<(), StoreError> {
    for (thread, delta) in deltas {
        if let Some(conversation) = find(conn, ThreadId(thread))? {
            adjust_side(conn, &conversation, me, delta)?;
        }
    }
    Ok(())
}

fn adjust_side(
    conn: &mut DbConn,
    conversation: &Conversation,
    me: UserId,
    (messages, unread): (i64, i64),
) -> Result<(), StoreError> {
    adjust(
        conn,
        conversation.id,
        conversation.is_a(me),
        messages,
        unread,
    )
}

/// The messages an action changed, by conversation, each list in id order.
pub type Changed = BTreeMap<ThreadId, Vec<MessageId>>;

fn changed(pairs: impl IntoIterator<Item = (i64, i64)>) -> Changed {
    let mut by_thread = Changed::new();
    for (id, thread) in pairs {
        by_thread
            .entry(ThreadId(thread))
            .or_default()
            .push(MessageId(id));
    }
    for ids in by_thread.values_mut() {
        ids.sort_unstable();
    }
    by_thread
}

/// Marks messages `me` received as read. Messages that are not `me`'s, or already
/// read, are ignored. Returns each conversation it changed with the messages
/// it marked there.
///
/// # Errors
/// Query failures.
pub fn mark_read(
    conn: &mut DbConn,
    me: UserId,
    selection: &Selection,
    now: DateTime<Utc>,
) -> Result<Vec<(Conversation, Vec<MessageId>)>, StoreError> {
    // Only unread messages still shown to me were counted as unread.
    let counted: Vec<i64> = unread_for(in_selection(selection), me)
        .filter(m::recipient_deleted_at.is_null())
        .select(m::thread_id)
        .load(conn)?;
    let marked: Vec<(i64, i64)> = unread_for(in_selection(selection), me)
        .select((m::id, m::thread_id))
        .load(conn)?;
    let ids: Vec<i64> = marked.iter().map(|(id, _)| *id).collect();
    diesel::update(m::table.filter(m::id.eq_any(&ids)))
        .set(m::recipient_read_at.eq(to_db_time(now)))
        .execute(conn)?;
    let mut uncounted = BTreeMap::new();
    for thread in counted {
        *uncounted.entry(ThreadId(thread)).or_insert(0) += 1;
    }
    let mut result = Vec::new();
    for (thread, messages) in changed(marked) {
        let Some(conversation) = find(conn, thread)? else {
            continue;
        };
        if let Some(&read) = uncounted.get(&thread) {
            adjust_side(conn, &conversation, me, (0, -read))?;
        }
        result.push((conversation, messages));
    }
    Ok(result)
}

/// Hides messages from `me`'s side only; the other participant still sees them.
/// Returns the messages it hid.
///
/// # Errors
/// Query failures.
pub fn delete_for(
    conn: &mut DbConn,
    me: UserId,
    selection: &Selection,
    now: DateTime<Utc>,
) -> Result<Changed, StoreError> {
    let now = to_db_time(now);
    let sent: Vec<(i64, i64)> = in_selection(selection)
        .filter(m::sender_id.eq(me.get()))
        .filter(m::sender_deleted_at.is_null())
        .select((m::id, m::thread_id))
        .load(conn)?;
    let received: Vec<(i64, i64, Option<NaiveDateTime>)> = in_selection(selection)
        .filter(m::recipient_id.eq(me.get()))
        .filter(m::recipient_deleted_at.is_null())
        .select((m::id, m::thread_id, m::recipient_read_at))
        .load(conn)?;
    let sent_ids: Vec<i64> = sent.iter().map(|(id, _)| *id).collect();
    let received_ids: Vec<i64> = received.iter().map(|(id, _, _)| *id).collect();
    diesel::update(m::table.filter(m::id.eq_any(&sent_ids)))
        .set(m::sender_deleted_at.eq(now))
        .execute(conn)?;
    diesel::update(m::table.filter(m::id.eq_any(&received_ids)))
        .set(m::recipient_deleted_at.eq(now))
        .execute(conn)?;
    let mut deltas: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for &(_, thread) in &sent {
        deltas.entry(thread).or_default().0 -= 1;
    }
    for &(_, thread, read_at) in &received {
        let entry = deltas.entry(thread).or_default();
        entry.0 -= 1;
        entry.1 -= i64::from(read_at.is_none());
    }
    adjust_mine(conn, me, deltas)?;
    let hidden = sent
        .into_iter()
        .chain(received.into_iter().map(|(id, thread, _)| (id, thread)));
    Ok(changed(hidden))
}

/// Takes a conversation out of `me`'s list (a send from either side brings it back).
///
/// # Errors
/// Query failures.
pub fn hide(conn: &mut DbConn, conversation: &Conversation, me: UserId) -> Result<(), StoreError> {
    let target = c::table.find(conversation.id.get());
    if conversation.is_a(me) {
        diesel::update(target)
            .set(c::a_is_display.eq(false))
            .execute(conn)?;
    } else {
        diesel::update(target)
            .set(c::b_is_display.eq(false))
            .execute(conn)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::seq_at_rank;

    #[test]
    fn ranks_skip_deleted_seqs() {
        assert_eq!(seq_at_rank(1, &[]), 1);
        assert_eq!(seq_at_rank(1, &[1, 2]), 3);
        assert_eq!(seq_at_rank(3, &[2, 5]), 4);
        assert_eq!(seq_at_rank(4, &[2, 5]), 6);
        assert_eq!(seq_at_rank(2, &[5, 6]), 2);
    }
}
