//! Uploads (`files`) over content-addressed blobs (`blobs`).
//!
//! Content is stored once per SHA-256; each upload is its own row with its own
//! random public id, owner and (once attached) thread. The object in storage and
//! its `blobs` row live and die together: see [`touch_blob`] and
//! [`delete_blob_if_unused`] for how garbage collection and uploads of the same
//! bytes avoid losing content to each other.

use chrono::{DateTime, Utc};
use colloq_domain::file::{FileKind, FileMeta, StoredFile};
use colloq_domain::ids::{FileId, ThreadId, UserId};
use diesel::prelude::*;

use crate::schema::{blobs, files};
use crate::stamp::Stamp;
use crate::{DbConn, StoreError, from_db_time, to_db_time};

#[derive(Queryable, Selectable)]
#[diesel(table_name = files)]
struct FileRow {
    id: i64,
    fid: String,
    name: String,
    uploader_id: i64,
    scope_user_id: Option<i64>,
    thread_id: Option<i64>,
    created_at: Stamp,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = blobs)]
struct BlobRow {
    sha256: String,
    md5: String,
    size: i64,
    mime: String,
    extension: String,
    kind: i32,
    width: Option<i32>,
    height: Option<i32>,
}

fn to_file((f, b): (FileRow, BlobRow)) -> StoredFile {
    let dimensions = match (b.width, b.height) {
        (Some(w), Some(h)) => Some((
            u32::try_from(w).unwrap_or_default(),
            u32::try_from(h).unwrap_or_default(),
        )),
        _ => None,
    };
    StoredFile {
        id: FileId(f.id),
        fid: f.fid,
        name: f.name,
        uploader: UserId(f.uploader_id),
        scope_user: f.scope_user_id.map(UserId),
        thread: f.thread_id.map(ThreadId),
        meta: FileMeta {
            sha256: b.sha256,
            md5: b.md5,
            size: u64::try_from(b.size).unwrap_or_default(),
            mime: b.mime,
            extension: b.extension,
            kind: FileKind::from_code(b.kind),
            dimensions,
        },
        created_at: from_db_time(f.created_at),
    }
}

/// A new upload.
#[derive(Debug, Clone, Copy)]
pub struct NewFile<'a> {
    /// Its public id.
    pub fid: &'a str,
    /// The cleaned client file name.
    pub name: &'a str,
    /// The uploader.
    pub uploader: UserId,
    /// For Fresns uploads, the conversation partner named at upload time.
    pub scope_user: Option<UserId>,
    /// The content.
    pub meta: &'a FileMeta,
}

/// Records that `meta`'s content is in use as of `now`, creating its row when it
/// is new. Call inside a write transaction, before the object is stored.
///
/// The update locks an existing row (PostgreSQL) or runs under the single writer
/// (SQLite), so it either waits for a concurrent [`delete_blob_if_unused`] to
/// finish, after which the row is recreated and the caller stores the object
/// again, or makes that deletion see a fresh `last_seen_at` and keep the content.
///
/// # Errors
/// [`StoreError::Conflict`] when a concurrent upload created the same row first
/// (PostgreSQL); retry.
pub fn touch_blob(
    conn: &mut DbConn,
    meta: &FileMeta,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let now = to_db_time(now);
    let updated = diesel::update(blobs::table.find(&meta.sha256))
        .set(blobs::last_seen_at.eq(now))
        .execute(conn)?;
    if updated == 0 {
        let (width, height) = meta.dimensions.map_or((None, None), |(w, h)| {
            (i32::try_from(w).ok(), i32::try_from(h).ok())
        });
        diesel::insert_into(blobs::table)
            .values((
                blobs::sha256.eq(&meta.sha256),
                blobs::md5.eq(&meta.md5),
                blobs::size.eq(i64::try_from(meta.size).unwrap_or(i64::MAX)),
                blobs::mime.eq(&meta.mime),
                blobs::extension.eq(&meta.extension),
                blobs::kind.eq(meta.kind.code()),
                blobs::width.eq(width),
                blobs::height.eq(height),
                blobs::last_seen_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Inserts an upload row (its blob row must exist: see [`touch_blob`]).
///
/// # Errors
/// [`StoreError::Conflict`] on a duplicate fid or a missing blob row.
pub fn insert(
    conn: &mut DbConn,
    file: NewFile<'_>,
    now: DateTime<Utc>,
) -> Result<StoredFile, StoreError> {
    let created_at = to_db_time(now);
    let id: i64 = diesel::insert_into(files::table)
        .values((
            files::fid.eq(file.fid),
            files::sha256.eq(&file.meta.sha256),
            files::name.eq(file.name),
            files::uploader_id.eq(file.uploader.get()),
            files::scope_user_id.eq(file.scope_user.map(UserId::get)),
            files::created_at.eq(created_at),
        ))
        .returning(files::id)
        .get_result(conn)?;
    // Content metadata is a function of the bytes, so an existing blob row
    // holds exactly `file.meta`: nothing needs reading back.
    Ok(StoredFile {
        id: FileId(id),
        fid: file.fid.to_owned(),
        name: file.name.to_owned(),
        uploader: file.uploader,
        scope_user: file.scope_user,
        thread: None,
        meta: file.meta.clone(),
        created_at: from_db_time(created_at),
    })
}

/// Removes an upload row (when storing its object failed).
///
/// # Errors
/// On database failure.
pub fn delete(conn: &mut DbConn, id: FileId) -> Result<(), StoreError> {
    diesel::delete(files::table.find(id.get())).execute(conn)?;
    Ok(())
}

/// The upload with public id `fid`.
///
/// # Errors
/// On database failure.
pub fn find_by_fid(conn: &mut DbConn, fid: &str) -> Result<Option<StoredFile>, StoreError> {
    files::table
        .inner_join(blobs::table.on(blobs::sha256.eq(files::sha256)))
        .filter(files::fid.eq(fid))
        .select((FileRow::as_select(), BlobRow::as_select()))
        .first(conn)
        .optional()
        .map(|row| row.map(to_file))
        .map_err(StoreError::from)
}

/// The uploads with the given ids (for rendering a page of messages).
///
/// # Errors
/// On database failure.
pub fn by_ids(conn: &mut DbConn, ids: &[FileId]) -> Result<Vec<StoredFile>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    files::table
        .inner_join(blobs::table.on(blobs::sha256.eq(files::sha256)))
        .filter(files::id.eq_any(ids.iter().map(|i| i.get())))
        .select((FileRow::as_select(), BlobRow::as_select()))
        .load(conn)
        .map(|rows| rows.into_iter().map(to_file).collect())
        .map_err(StoreError::from)
}

/// Marks an upload as attached to `thread` (idempotent).
///
/// # Errors
/// On database failure.
pub fn attach(conn: &mut DbConn, id: FileId, thread: ThreadId) -> Result<(), StoreError> {
    diesel::update(files::table.find(id.get()))
        .set(files::thread_id.eq(thread.get()))
        .execute(conn)?;
    Ok(())
}

/// Deletes uploads never attached and created before `cutoff`; returns how many.
///
/// # Errors
/// On database failure.
pub fn delete_unattached(conn: &mut DbConn, cutoff: DateTime<Utc>) -> Result<usize, StoreError> {
    diesel::delete(
        files::table
            .filter(files::thread_id.is_null())
            .filter(files::created_at.lt(to_db_time(cutoff))),
    )
    .execute(conn)
    .map_err(StoreError::from)
}

/// Content no upload references any more and nobody touched since `cutoff`.
///
/// # Errors
/// On database failure.
pub fn unused_blobs(conn: &mut DbConn, cutoff: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
    blobs::table
        .filter(blobs::last_seen_at.lt(to_db_time(cutoff)))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            files::table.filter(files::sha256.eq(blobs::sha256)),
        )))
        .select(blobs::sha256)
        .load(conn)
        .map_err(StoreError::from)
}

/// Deletes the row of content `sha256` if it is still unused and untouched since
/// `cutoff`; returns whether it did. Call inside a write transaction and delete
/// the object before committing, so that a concurrent upload of the same bytes
/// (which touches the row first) either keeps the content or stores it again.
///
/// # Errors
/// On database failure.
pub fn delete_blob_if_unused(
    conn: &mut DbConn,
    sha256: &str,
    cutoff: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let deleted = diesel::delete(
        blobs::table
            .filter(blobs::sha256.eq(sha256))
            .filter(blobs::last_seen_at.lt(to_db_time(cutoff)))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                files::table.filter(files::sha256.eq(blobs::sha256)),
            ))),
    )
    .execute(conn)?;
    Ok(deleted > 0)
}
