//! Messages of every kind of thread, kept in one store.

use chrono::{DateTime, Utc};

use crate::DomainError;
use crate::file::FileKind;
use crate::ids::{FileId, MessageId, ThreadId, UserId};

/// The kind of a message (AnQiCMS `message_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// Plain text.
    Text,
    /// An image URL.
    Image,
    /// A staff quote (staff only).
    Quote,
    /// A video URL.
    Video,
    /// A file URL.
    File,
    /// An audio URL.
    Audio,
    /// A location.
    Location,
    /// A contact card.
    Contact,
    /// A sticker.
    Sticker,
    /// Anything else.
    Unknown,
}

impl MessageType {
    /// Every type, in the documented order.
    pub const ALL: [Self; 10] = [
        Self::Text,
        Self::Image,
        Self::Quote,
        Self::Video,
        Self::File,
        Self::Audio,
        Self::Location,
        Self::Contact,
        Self::Sticker,
        Self::Unknown,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Image => "image",
            Self::Quote => "quote",
            Self::Video => "video",
            Self::File => "file",
            Self::Audio => "audio",
            Self::Location => "location",
            Self::Contact => "contact",
            Self::Sticker => "sticker",
            Self::Unknown => "unknown",
        }
    }

    /// Parses a wire name.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] naming `message_type` and listing the valid names.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == raw)
            .ok_or_else(|| {
                DomainError::invalid(
                    "message_type",
                    "must be one of text, image, quote, video, file, audio, location, contact, sticker, unknown",
                )
            })
    }
}

impl MessageType {
    /// The message type a Fresns file message of `kind` is stored as.
    pub fn for_file(kind: FileKind) -> Self {
        match kind {
            FileKind::Image => Self::Image,
            FileKind::Video => Self::Video,
            FileKind::Audio => Self::Audio,
            FileKind::Document => Self::File,
        }
    }

    /// Whether a message of this type may carry an uploaded file at all.
    pub fn carries_files(self) -> bool {
        FileKind::ALL.into_iter().any(|kind| self.accepts(kind))
    }

    /// Whether a message of this type may carry an uploaded file of `kind`
    /// (`file` carries anything; text-like types carry none).
    pub fn accepts(self, kind: FileKind) -> bool {
        match self {
            Self::File => true,
            Self::Image | Self::Sticker => kind == FileKind::Image,
            Self::Video => kind == FileKind::Video,
            Self::Audio => kind == FileKind::Audio,
            Self::Text | Self::Quote | Self::Location | Self::Contact | Self::Unknown => false,
        }
    }
}

/// Who sent a message, in the thread's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SenderRole {
    /// A customer or a community user.
    User,
    /// Site staff (AnQiCMS `admin`).
    Staff,
    /// colloq itself, recording an event (AnQiCMS `system`).
    System,
}

impl SenderRole {
    /// The storage code.
    pub fn code(self) -> i32 {
        match self {
            Self::User => 0,
            Self::Staff => 1,
            Self::System => 2,
        }
    }

    /// The role for a storage code; unknown codes read as `System` so an old
    /// binary never fails on rows written by a newer one.
    pub fn from_code(code: i32) -> Self {
        match code {
            0 => Self::User,
            1 => Self::Staff,
            _ => Self::System,
        }
    }
}

/// A client's `Idempotency-Key` for a send: 1 to 255 visible ASCII
/// characters (a UUID, typically).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Validates a key as sent.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] naming `Idempotency-Key`.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if (1..=255).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(DomainError::invalid(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            ))
        }
    }
}

impl AsRef<str> for IdempotencyKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A message body: non-empty after trimming, at most 10,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    /// The maximum length in characters: enough for any chat message, and a
    /// bound on what one request can store.
    pub const MAX_CHARS: usize = 10_000;

    /// Validates a body. Surrounding white space is kept: it may matter in code
    /// snippets; only an all-blank body is refused.
    ///
    /// # Errors
    /// [`DomainError::Invalid`] naming `content`.
    pub fn parse(raw: String) -> Result<Self, DomainError> {
        if raw.trim().is_empty() {
            return Err(DomainError::invalid("content", "is required"));
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "content",
                "must be at most 10000 characters",
            ));
        }
        Ok(Self(raw))
    }

    /// A body written by colloq itself (system notes), trusted as is.
    pub fn system(text: String) -> Self {
        Self(text)
    }

    /// The text.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl AsRef<str> for MessageBody {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A message about to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// The sender; `None` for system messages.
    pub sender: Option<UserId>,
    /// The sender's role.
    pub role: SenderRole,
    /// The sender's display name at send time.
    pub sender_name: String,
    /// The kind.
    pub kind: MessageType,
    /// The content.
    pub body: MessageBody,
    /// The uploaded file the message carries.
    pub file: Option<FileId>,
}

impl NewMessage {
    /// A system note on a thread.
    pub fn system(text: String) -> Self {
        Self {
            sender: None,
            role: SenderRole::System,
            sender_name: "system".to_owned(),
            kind: MessageType::Text,
            body: MessageBody::system(text),
            file: None,
        }
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its id.
    pub id: MessageId,
    /// Its thread.
    pub thread: ThreadId,
    /// Its position in the thread, 1-based and gap-free.
    pub seq: i64,
    /// The sender; `None` for system messages.
    pub sender: Option<UserId>,
    /// The sender's role.
    pub role: SenderRole,
    /// The sender's display name at send time.
    pub sender_name: String,
    /// The kind.
    pub kind: MessageType,
    /// The content.
    pub body: String,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// The recipient, for direct messages.
    pub recipient: Option<UserId>,
    /// Whether the recipient has read it (direct messages).
    pub read: bool,
    /// The uploaded file it carries.
    pub file: Option<FileId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_round_trip_and_unknown_names_fail() {
        for t in MessageType::ALL {
            assert_eq!(MessageType::parse(t.as_str()), Ok(t));
        }
        assert!(MessageType::parse("ttext").is_err());
        assert!(MessageType::parse("TEXT").is_err());
    }

    #[test]
    fn bodies_are_bounded() {
        assert!(MessageBody::parse("  ".to_owned()).is_err());
        assert!(MessageBody::parse("é".repeat(10_000)).is_ok());
        assert!(MessageBody::parse("é".repeat(10_001)).is_err());
    }

    #[test]
    fn roles_round_trip() {
        for r in [SenderRole::User, SenderRole::Staff, SenderRole::System] {
            assert_eq!(SenderRole::from_code(r.code()), r);
        }
    }
}
