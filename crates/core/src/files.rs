//! Uploads: recording what arrived, finding it again, and collecting what was
//! never used. Receiving the bytes and storing them is the caller's (see
//! `colloq-storage`); these use cases only touch the database.

use chrono::{DateTime, Utc};
use colloq_auth::token::random_string;
use colloq_domain::file::{AttachRefusal, FileMeta, StoredFile};
use colloq_domain::ids::{FileId, ThreadId, UserId};
use colloq_domain::message::MessageType;
use colloq_domain::user::User;
use colloq_persistence::files::{self, NewFile};
use colloq_persistence::{DbConn, StoreError, write_transaction};

use crate::{CoreError, Refusal};

const FID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// 22 characters of 62: just over 130 bits, so a file URL cannot be guessed.
const FID_LEN: usize = 22;
const NAME_MAX_CHARS: usize = 200;

/// Whether `c` changes how the text around it is shown rather than being
/// shown: the bidirectional marks, embeddings, overrides and isolates (a
/// U+202E makes `photo\u{202E}gpj.exe` read as `photoexe.jpg`), and the
/// line and paragraph separators.
fn is_display_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
            | '\u{2028}' | '\u{2029}' | '\u{FEFF}'
    )
}

/// A client's file name made safe to show: the last path segment, without
/// control or bidirectional-override characters, at most 200 characters;
/// `file` when nothing is left.
pub fn clean_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_display_control(*c))
        .take(NAME_MAX_CHARS)
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() || trimmed == "." || trimmed == ".." {
        "file".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// Records an upload by `uploader` of content `meta` whose object the caller is
/// about to store (after this returns: see `colloq_persistence::files`).
///
/// # Errors
/// Storage failures.
pub fn record_upload(
    conn: &mut DbConn,
    uploader: &User,
    meta: &FileMeta,
    name: &str,
    scope_user: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<StoredFile, CoreError> {
    let fid = random_string(FID_ALPHABET, FID_LEN)?;
    let record = |conn: &mut DbConn| {
        write_transaction(conn, |conn| {
            files::touch_blob(conn, meta, now)?;
            files::insert(
                conn,
                NewFile {
                    fid: &fid,
                    name,
                    uploader: uploader.id,
                    scope_user,
                    meta,
                },
                now,
            )
        })
    };
    match record(conn) {
        // Two first uploads of the same bytes raced to create the content row
        // (PostgreSQL): the row exists now, so once more succeeds.
        Err(StoreError::Conflict { .. }) => record(conn).map_err(CoreError::from),
        other => other.map_err(CoreError::from),
    }
}

/// Removes an upload whose content could not be stored.
///
/// # Errors
/// Storage failures.
pub fn forget_upload(conn: &mut DbConn, id: FileId) -> Result<(), CoreError> {
    files::delete(conn, id).map_err(CoreError::from)
}

/// The upload with public id `fid`. Knowing the fid is the permission to read
/// the file (it is 130 random bits, shown only to those who may see it).
///
/// # Errors
/// Storage failures.
pub fn find(conn: &mut DbConn, fid: &str) -> Result<Option<StoredFile>, CoreError> {
    if fid.len() != FID_LEN || !fid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(None);
    }
    files::find_by_fid(conn, fid).map_err(CoreError::from)
}

/// The uploads carried by a page of messages.
///
/// # Errors
/// Storage failures.
pub fn carried(conn: &mut DbConn, ids: &[FileId]) -> Result<Vec<StoredFile>, CoreError> {
    files::by_ids(conn, ids).map_err(CoreError::from)
}

/// Checks that `sender` may attach upload `fid` to a message of `kind` in
/// `thread` (with `partner` on the other side, for conversations) and marks it
/// attached there. Call inside the transaction that stores the message.
///
/// # Errors
/// [`Refusal::File`].
pub(crate) fn attach(
    conn: &mut DbConn,
    fid: &str,
    sender: UserId,
    thread: ThreadId,
    partner: Option<UserId>,
    kind: Option<MessageType>,
) -> Result<StoredFile, CoreError> {
    let refused = |r| CoreError::Refused(Refusal::File(r));
    let file = find(conn, fid)?.ok_or(refused(AttachRefusal::Unknown))?;
    file.may_attach(sender, thread, partner).map_err(refused)?;
    if kind.is_some_and(|k| !k.accepts(file.meta.kind)) {
        return Err(refused(AttachRefusal::WrongKind));
    }
    files::attach(conn, file.id, thread)?;
    Ok(file)
}

/// What [`collect_garbage`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Uploads never attached, older than the grace period.
    pub uploads: usize,
    /// Contents no upload referenced any more.
    pub contents: usize,
}

/// Removes uploads never attached to a message that are older than `cutoff`,
/// then every content nothing references, calling `delete_object` for each
/// while its row's deletion is still uncommitted (so an upload of the same
/// bytes racing with this either keeps the content or stores it again).
///
/// # Errors
/// Storage failures, or the first failure of `delete_object` (that content is
/// kept and the next run retries it).
pub fn collect_garbage<E>(
    conn: &mut DbConn,
    cutoff: DateTime<Utc>,
    mut delete_object: impl FnMut(&str) -> Result<(), E>,
) -> Result<GcReport, CoreError>
where
    CoreError: From<E>,
{
    let uploads = write_transaction(conn, |conn| files::delete_unattached(conn, cutoff))?;
    let mut contents = 0;
    for sha256 in files::unused_blobs(conn, cutoff)? {
        let deleted = write_transaction(conn, |conn| {
            if files::delete_blob_if_unused(conn, &sha256, cutoff)? {
                delete_object(&sha256)?;
                Ok::<_, CoreError>(true)
            } else {
                Ok(false)
            }
        })?;
        contents += usize::from(deleted);
    }
    Ok(GcReport { uploads, contents })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\Users\\a\\photo.jpg"), "photo.jpg");
        assert_eq!(clean_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(clean_name("photo\u{202E}gpj.exe"), "photogpj.exe");
        assert_eq!(
            clean_name("\u{2066}a\u{200F}b\u{2069}\u{FEFF}.png"),
            "ab.png"
        );
        assert_eq!(clean_name("报告 v2.pdf"), "报告 v2.pdf");
        assert_eq!(clean_name(""), "file");
        assert_eq!(clean_name(".."), "file");
        assert_eq!(clean_name(&"x".repeat(500)).chars().count(), 200);
    }
}
