use chrono::{DateTime, Utc};
use colloq_domain::conversation::may_message;
use colloq_domain::file::StoredFile;
use colloq_domain::message::{
    IdempotencyKey, Message, MessageBody, MessageType, NewMessage, SenderRole,
};
use colloq_domain::user::User;
use colloq_persistence::{DbConn, Writer, conversations, read_snapshot};

use super::read::relation;
use crate::accounts::{UserRef, find_user};
use crate::events::{Outbox, conversation_audience};
use crate::idempotency::{Keyed, stored_by};
use crate::threads;
use crate::{CoreError, Refusal};

/// What a direct message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectContent {
    /// Text.
    Text(MessageBody),
    /// An upload, by its public id.
    File(String),
}

/// A direct message: what it carries, and the client's key for retrying it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectMessage {
    /// The text or the file.
    pub content: DirectContent,
    /// The client's `Idempotency-Key`, when it sent one.
    pub key: Option<IdempotencyKey>,
}

/// A sent direct message (its `thread` is the conversation), and its file.
type Sent = (Message, Option<StoredFile>);

/// A message stored before, with its file, as sending it answered.
fn sent_before(conn: &mut DbConn, message: Message) -> Result<Sent, CoreError> {
    let file = match message.file {
        Some(id) => crate::files::carried(conn, &[id])?.pop(),
        None => None,
    };
    Ok((message, file))
}

/// Sends a message from `sender` to the user `to` names, creating their
/// conversation on first contact. The recipient's permission and the blocked
/// words are checked first; a file must be the sender's own upload for this
/// recipient, not attached to another conversation. The message is committed
/// (by `writer`) before this returns. Returns the message (its `thread` is
/// the conversation) and the file it carries.
///
/// # Errors
/// [`Refusal::UnknownUser`], [`Refusal::Messaging`], [`Refusal::BlockedWords`],
/// [`Refusal::File`].
pub fn send_direct_message(
    conn: &mut DbConn,
    writer: &Writer,
    sender: &User,
    to: &UserRef,
    DirectMessage { content, key }: DirectMessage,
    blocked_words: &[String],
    now: DateTime<Utc>,
) -> Result<Sent, CoreError> {
    // The checks read in one snapshot, outside SQLite's write lock, which
    // every sender of the process queues for.
    let (recipient, existing) = read_snapshot(conn, |conn| {
        let recipient = find_user(conn, to)?.ok_or(CoreError::Refused(Refusal::UnknownUser))?;
        let facts = relation(conn, sender, &recipient)?;
        may_message(sender, &recipient, facts)
            .map_err(|r| CoreError::Refused(Refusal::Messaging(r)))?;
        let existing = conversations::find_pair(conn, sender.id, recipient.id)?;
        Ok::<_, CoreError>((recipient, existing))
    })?;
    if let DirectContent::Text(body) = &content {
        let lowered = body.as_ref().to_lowercase();
        if blocked_words
            .iter()
            .any(|w| !w.is_empty() && lowered.contains(&w.to_lowercase()))
        {
            return Err(CoreError::Refused(Refusal::BlockedWords));
        }
    }
    let (from, to, sender_name) = (sender.id, recipient.id, sender.nickname.clone());
    let keyed = key.map(|key| {
        let recipient = to.get().to_string();
        let (kind, carried) = match &content {
            DirectContent::Text(body) => ("text", body.as_ref()),
            DirectContent::File(fid) => ("file", fid.as_str()),
        };
        Keyed::new(from, key, &[recipient.as_str(), kind, carried])
    });
    let job_key = keyed.clone();
    let sent = writer.write(conn, move |conn| {
        if let Some(stored) = stored_by(job_key.as_ref(), conn, now)? {
            return sent_before(conn, stored);
        }
        // A conversation is never deleted (each side only hides it), so one
        // found above still exists. A first contact looks again under the lock:
        // the pair's other user may have just written first.
        let conversation = match existing {
            Some(existing) => existing,
            None => match conversations::find_pair(conn, from, to)? {
                Some(existing) => existing,
                None => conversations::create(conn, from, to, now)?,
            },
        };
        let (kind, body, file) = match content {
            DirectContent::Text(body) => (MessageType::Text, body, None),
            DirectContent::File(fid) => {
                let file = crate::files::attach(conn, &fid, from, conversation.id, Some(to), None)?;
                // The body keeps the file's id as a readable trace; each
                // dialect renders the file itself (and its URL) from `file`.
                let body = MessageBody::system(file.fid.to_string());
                (MessageType::for_file(file.meta.kind), body, Some(file))
            }
        };
        let message = NewMessage {
            sender: Some(from),
            role: SenderRole::User,
            sender_name,
            kind,
            body,
            file: file.as_ref().map(|f| f.id),
        };
        let mut outbox = Outbox::default();
        let audience = conversation_audience(&conversation);
        let stored = threads::append(
            conn,
            &mut outbox,
            conversation.id,
            &audience,
            &message,
            Some(to),
            now,
        )?;
        conversations::record_message(conn, &conversation, from, stored.created_at)?;
        if let Some(key) = &job_key {
            key.remember(conn, stored.id, now)?;
        }
        outbox.record(conn, now)?;
        Ok((stored, file))
    });
    match (sent, keyed) {
        // A concurrent request with the same key stored first (see
        // `crate::idempotency`).
        (Err(CoreError::Conflict), Some(key)) => match key.stored(conn, now)? {
            Some(stored) => sent_before(conn, stored),
            None => Err(CoreError::Conflict),
        },
        (sent, _) => sent,
    }
}
