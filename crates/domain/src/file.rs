//! Uploaded files: what colloq learned from their bytes, and the rules for
//! attaching them to messages.

use chrono::{DateTime, Utc};

use crate::ids::{FileId, ThreadId, UserId};

/// The four kinds of file both dialects know (Fresns `type` codes 1–4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A picture with known dimensions.
    Image,
    /// A video.
    Video,
    /// A sound recording.
    Audio,
    /// Anything else that is allowed: PDF, office documents, archives, text.
    Document,
}

impl FileKind {
    /// Every kind, in code order.
    pub const ALL: [Self; 4] = [Self::Image, Self::Video, Self::Audio, Self::Document];

    /// The Fresns File Info `type` and the storage code.
    pub fn code(self) -> i32 {
        match self {
            Self::Image => 1,
            Self::Video => 2,
            Self::Audio => 3,
            Self::Document => 4,
        }
    }

    /// The kind for a storage code; unknown codes read as documents, the kind
    /// with no type-specific keys.
    pub fn from_code(code: i32) -> Self {
        match code {
            1 => Self::Image,
            2 => Self::Video,
            3 => Self::Audio,
            _ => Self::Document,
        }
    }

    /// The wire name (`image`, `video`, `audio`, `document`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::Document => "document",
        }
    }

    /// Parses a wire name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// What colloq knows about a file's content, all of it computed from the bytes
/// (never taken from the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    /// SHA-256 of the content, lower-case hex: the storage address.
    pub sha256: String,
    /// MD5 of the content, lower-case hex (both dialects show it).
    pub md5: String,
    /// Length in bytes.
    pub size: u64,
    /// The sniffed MIME type.
    pub mime: String,
    /// The extension that goes with `mime`, without a dot.
    pub extension: String,
    /// The kind `mime` belongs to.
    pub kind: FileKind,
    /// Pixel dimensions, for images.
    pub dimensions: Option<(u32, u32)>,
}

/// One upload: a name and an owner over content that may be shared with other
/// uploads of the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// Internal id.
    pub id: FileId,
    /// Public id: 128 random bits, so a file URL is a capability nobody can guess.
    pub fid: String,
    /// The client's file name, cleaned (shown, never used as a path).
    pub name: String,
    /// Who uploaded it; only they may attach it.
    pub uploader: UserId,
    /// For Fresns uploads: the conversation partner named at upload time.
    pub scope_user: Option<UserId>,
    /// The thread it is attached to, once it is.
    pub thread: Option<ThreadId>,
    /// The content.
    pub meta: FileMeta,
    /// Upload time.
    pub created_at: DateTime<Utc>,
}

/// Why a file may not be attached where someone tried to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachRefusal {
    /// No such file, or not the sender's: one answer, so fids cannot be probed.
    Unknown,
    /// Already attached to another thread, or uploaded for another partner.
    OtherThread,
    /// The file's kind does not fit the message type.
    WrongKind,
}

impl std::fmt::Display for AttachRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unknown => "the file does not exist or is not yours",
            Self::OtherThread => "the file belongs to another conversation",
            Self::WrongKind => "the file's type does not match the message type",
        })
    }
}

impl StoredFile {
    /// Whether `sender` may attach this file to `thread`, whose other party (for
    /// conversations) is `partner`. A file belongs to one thread: once attached it
    /// may be sent again there, never elsewhere.
    ///
    /// # Errors
    /// The [`AttachRefusal`].
    pub fn may_attach(
        &self,
        sender: UserId,
        thread: ThreadId,
        partner: Option<UserId>,
    ) -> Result<(), AttachRefusal> {
        if self.uploader != sender {
            return Err(AttachRefusal::Unknown);
        }
        if self.thread.is_some_and(|t| t != thread) {
            return Err(AttachRefusal::OtherThread);
        }
        if self.scope_user.is_some() && self.scope_user != partner {
            return Err(AttachRefusal::OtherThread);
        }
        Ok(())
    }
}

/// A byte count as PHP's Fresns prints it: base 1024, at most two decimals, no
/// trailing zeros (`2048` → `"2 KB"`, `1536` → `"1.5 KB"`).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut unit = 0;
    // Integer steps first so exact powers of 1024 never go through floats.
    let mut whole = bytes;
    while whole >= 1024 && unit < UNITS.len() - 1 {
        whole /= 1024;
        unit += 1;
    }
    let divisor = 1024_u64.pow(u32::try_from(unit).unwrap_or(0));
    // Hundredths, rounded half up, computed in integers.
    let hundredths = (u128::from(bytes) * 100 + u128::from(divisor) / 2) / u128::from(divisor);
    let (int, frac) = (hundredths / 100, hundredths % 100);
    let number = match frac {
        0 => format!("{int}"),
        f if f % 10 == 0 => format!("{int}.{}", f / 10),
        f => format!("{int}.{f:02}"),
    };
    format!("{number} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_like_php() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1024), "1 KB");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(2048), "2 KB");
        assert_eq!(human_size(1_000_000), "976.56 KB");
        assert_eq!(human_size(10 * 1024 * 1024), "10 MB");
        assert_eq!(human_size(5 * 1024_u64.pow(4)), "5 TB");
    }

    fn file(uploader: i64, scope: Option<i64>, thread: Option<i64>) -> StoredFile {
        StoredFile {
            id: FileId(1),
            fid: "f".to_owned(),
            name: "a.png".to_owned(),
            uploader: UserId(uploader),
            scope_user: scope.map(UserId),
            thread: thread.map(ThreadId),
            meta: FileMeta {
                sha256: String::new(),
                md5: String::new(),
                size: 1,
                mime: "image/png".to_owned(),
                extension: "png".to_owned(),
                kind: FileKind::Image,
                dimensions: Some((1, 1)),
            },
            created_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    #[test]
    fn only_the_uploader_attaches_and_only_to_one_thread() {
        assert_eq!(
            file(1, None, None).may_attach(UserId(1), ThreadId(5), None),
            Ok(())
        );
        assert_eq!(
            file(1, None, None).may_attach(UserId(2), ThreadId(5), None),
            Err(AttachRefusal::Unknown)
        );
        assert_eq!(
            file(1, None, Some(5)).may_attach(UserId(1), ThreadId(5), None),
            Ok(())
        );
        assert_eq!(
            file(1, None, Some(5)).may_attach(UserId(1), ThreadId(6), None),
            Err(AttachRefusal::OtherThread)
        );
        assert_eq!(
            file(1, Some(2), None).may_attach(UserId(1), ThreadId(6), Some(UserId(2))),
            Ok(())
        );
        assert_eq!(
            file(1, Some(2), None).may_attach(UserId(1), ThreadId(6), Some(UserId(3))),
            Err(AttachRefusal::OtherThread)
        );
    }
}
