use chrono::{DateTime, Utc};
use colloq_domain::conversation::{Conversation, may_message};
use colloq_domain::file::StoredFile;
use colloq_domain::message::{Message, MessageBody, MessageType, NewMessage, SenderRole};
use colloq_domain::user::User;
use colloq_persistence::{DbConn, conversations, messages, write_transaction};

use super::read::relation;
use crate::accounts::{UserRef, find_user};
use crate::{CoreError, Refusal};

/// What a direct message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectContent {
    /// Text.
    Text(MessageBody),
    /// An upload, by its public id.
    File(String),
}

/// Sends a message from `sender` to the user `to` names, creating their
/// conversation on first contact. The recipient's permission and the blocked
/// words are checked first; a file must be the sender's own upload for this
/// recipient, not attached to another conversation. The message is committed
/// before this returns. Returns the message, its conversation, and the file it
/// carries.
///
/// # Errors
/// [`Refusal::UnknownUser`], [`Refusal::Messaging`], [`Refusal::BlockedWords`],
/// [`Refusal::File`].
pub fn send_direct_message(
    conn: &mut DbConn,
    sender: &User,
    to: &UserRef,
    content: DirectContent,
    blocked_words: &[String],
    now: DateTime<Utc>,
) -> Result<(Message, Conversation, Option<StoredFile>), CoreError> {
    let recipient = find_user(conn, to)?.ok_or(CoreError::Refused(Refusal::UnknownUser))?;
    let facts = relation(conn, sender, &recipient)?;
    may_message(sender, &recipient, facts)
        .map_err(|r| CoreError::Refused(Refusal::Messaging(r)))?;
    if let DirectContent::Text(body) = &content {
        let lowered = body.as_ref().to_lowercase();
        if blocked_words
            .iter()
            .any(|w| !w.is_empty() && lowered.contains(&w.to_lowercase()))
        {
            return Err(CoreError::Refused(Refusal::BlockedWords));
        }
    }
    write_transaction(conn, |conn| {
        let conversation = match conversations::find_pair(conn, sender.id, recipient.id)? {
            Some(existing) => existing,
            None => conversations::create(conn, sender.id, recipient.id, now)?,
        };
        let (kind, body, file) = match &content {
            DirectContent::Text(body) => (MessageType::Text, body.clone(), None),
            DirectContent::File(fid) => {
                let file = crate::files::attach(
                    conn,
                    fid,
                    sender.id,
                    conversation.id,
                    Some(recipient.id),
                    None,
                )?;
                // The body keeps a readable trace; clients get File Info.
                let body = MessageBody::system(format!("/files/{}", file.fid));
                (MessageType::for_file(file.meta.kind), body, Some(file))
            }
        };
        let message = NewMessage {
            sender: Some(sender.id),
            role: SenderRole::User,
            sender_name: sender.nickname.clone(),
            kind,
            body,
            file: file.as_ref().map(|f| f.id),
        };
        let stored = messages::append_direct(conn, conversation.id, &message, recipient.id, now)?;
        conversations::record_message(conn, &conversation, sender.id, stored.created_at)?;
        let conversation =
            conversations::find(conn, conversation.id)?.ok_or(CoreError::NotVisible)?;
        Ok((stored, conversation, file))
    })
}
