use chrono::{DateTime, Utc};
use colloq_domain::conversation::{Conversation, may_message};
use colloq_domain::message::{Message, MessageBody, MessageType, NewMessage, SenderRole};
use colloq_domain::user::User;
use colloq_persistence::{DbConn, conversations, messages, write_transaction};

use super::read::relation;
use crate::accounts::{UserRef, find_user};
use crate::{CoreError, Refusal};

/// Sends a text message from `sender` to the user `to` names, creating their
/// conversation on first contact. The recipient's permission and the blocked
/// words are checked first; the message is committed before this returns.
///
/// # Errors
/// [`Refusal::UnknownUser`], [`Refusal::Messaging`], [`Refusal::BlockedWords`].
pub fn send_direct_message(
    conn: &mut DbConn,
    sender: &User,
    to: &UserRef,
    body: MessageBody,
    blocked_words: &[String],
    now: DateTime<Utc>,
) -> Result<(Message, Conversation), CoreError> {
    let recipient = find_user(conn, to)?.ok_or(CoreError::Refused(Refusal::UnknownUser))?;
    let facts = relation(conn, sender, &recipient)?;
    may_message(sender, &recipient, facts)
        .map_err(|r| CoreError::Refused(Refusal::Messaging(r)))?;
    let lowered = body.as_ref().to_lowercase();
    if blocked_words
        .iter()
        .any(|w| !w.is_empty() && lowered.contains(&w.to_lowercase()))
    {
        return Err(CoreError::Refused(Refusal::BlockedWords));
    }
    let message = NewMessage {
        sender: Some(sender.id),
        role: SenderRole::User,
        sender_name: sender.nickname.clone(),
        kind: MessageType::Text,
        body,
    };
    write_transaction(conn, |conn| {
        let conversation = match conversations::find_pair(conn, sender.id, recipient.id)? {
            Some(existing) => existing,
            None => conversations::create(conn, sender.id, recipient.id, now)?,
        };
        let stored = messages::append_direct(conn, conversation.id, &message, recipient.id, now)?;
        conversations::record_message(conn, &conversation, sender.id, stored.created_at)?;
        let conversation =
            conversations::find(conn, conversation.id)?.ok_or(CoreError::NotVisible)?;
        Ok((stored, conversation))
    })
}
