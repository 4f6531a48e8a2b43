//! Receiving an upload: chunks go straight to a temporary file while their
//! hashes are computed, the format is decided from the first bytes, and the
//! size limit of that format stops the upload the moment it is crossed. Memory
//! use is one chunk plus the sniffing window, whatever the file's size.

use std::path::{Path, PathBuf};

use colloq_domain::file::{FileKind, FileMeta};
use md5::Md5;
use sha2::{Digest, Sha256};
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

use crate::inspect::{SNIFF_LEN, Sniffed, sniff};

/// Largest size per kind, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Images.
    pub image: u64,
    /// Videos.
    pub video: u64,
    /// Audio.
    pub audio: u64,
    /// Documents.
    pub document: u64,
}

impl Limits {
    /// The limit for `kind`.
    pub fn of(&self, kind: FileKind) -> u64 {
        match kind {
            FileKind::Image => self.image,
            FileKind::Video => self.video,
            FileKind::Audio => self.audio,
            FileKind::Document => self.document,
        }
    }

    /// The largest of the limits: what applies before the kind is known.
    pub fn largest(&self) -> u64 {
        self.image
            .max(self.video)
            .max(self.audio)
            .max(self.document)
    }
}

/// What one upload endpoint accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Size limits.
    pub limits: Limits,
    /// Kinds accepted at all.
    pub allowed: Vec<FileKind>,
}

/// Why an upload was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Zero bytes.
    #[error("the file is empty")]
    Empty,
    /// A format colloq does not accept (or a corrupt image).
    #[error("this file format is not accepted")]
    Unsupported,
    /// A format of a kind this endpoint does not accept.
    #[error("{} files are not accepted here", .0.as_str())]
    NotAllowed(FileKind),
    /// Over the kind's limit.
    #[error("the file is larger than the {} limit for {} files", colloq_domain::file::human_size(*limit), kind.as_str())]
    TooLarge {
        /// The kind (documents when it was not known yet).
        kind: FileKind,
        /// The limit in bytes.
        limit: u64,
    },
    /// The temporary file could not be written.
    #[error("writing the upload to a temporary file")]
    Io(#[from] std::io::Error),
}

/// An upload being received.
pub struct Ingest {
    file: tokio::fs::File,
    path: TempPath,
    md5: Md5,
    sha256: Sha256,
    size: u64,
    head: Vec<u8>,
    sniffed: Option<Sniffed>,
    policy: Policy,
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingest")
            .field("size", &self.size)
            .field("sniffed", &self.sniffed)
            .finish_non_exhaustive()
    }
}

impl Ingest {
    /// Opens a temporary file in `dir` (created if missing).
    ///
    /// # Errors
    /// When the directory or file cannot be created.
    pub async fn start(dir: &Path, policy: Policy) -> Result<Self, IngestError> {
        let dir: PathBuf = dir.to_owned();
        let (file, path) = tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            let named = tempfile::Builder::new()
                .prefix("upload-")
                .tempfile_in(&dir)?;
            Ok::<_, std::io::Error>(named.into_parts())
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(Self {
            file: tokio::fs::File::from_std(file),
            path,
            md5: Md5::new(),
            sha256: Sha256::new(),
            size: 0,
            head: Vec::with_capacity(SNIFF_LEN),
            sniffed: None,
            policy,
        })
    }

    /// Takes the next chunk.
    ///
    /// # Errors
    /// A refusal as soon as the format or the size allows one, or an I/O failure.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), IngestError> {
        self.size += chunk.len() as u64;
        if self.sniffed.is_none() {
            let room = SNIFF_LEN - self.head.len();
            self.head
                .extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
            if self.head.len() >= SNIFF_LEN {
                self.decide(false)?;
            }
        }
        self.check_size()?;
        self.md5.update(chunk);
        self.sha256.update(chunk);
        self.file.write_all(chunk).await?;
        Ok(())
    }

    fn decide(&mut self, complete: bool) -> Result<(), IngestError> {
        let found = sniff(&self.head, complete).ok_or(IngestError::Unsupported)?;
        if !self.policy.allowed.contains(&found.kind) {
            return Err(IngestError::NotAllowed(found.kind));
        }
        self.sniffed = Some(found);
        Ok(())
    }

    fn check_size(&self) -> Result<(), IngestError> {
        let (kind, limit) = match self.sniffed {
            Some(s) => (s.kind, self.policy.limits.of(s.kind)),
            None => (FileKind::Document, self.policy.limits.largest()),
        };
        if self.size > limit {
            return Err(IngestError::TooLarge { kind, limit });
        }
        Ok(())
    }

    /// Ends the upload and describes it.
    ///
    /// # Errors
    /// A refusal (empty, unsupported, corrupt image) or an I/O failure.
    pub async fn finish(mut self) -> Result<Ingested, IngestError> {
        if self.size == 0 {
            return Err(IngestError::Empty);
        }
        if self.sniffed.is_none() {
            self.decide(true)?;
        }
        self.check_size()?;
        self.file.flush().await?;
        drop(self.file);
        let sniffed = self.sniffed.ok_or(IngestError::Unsupported)?;
        let dimensions = if sniffed.kind == FileKind::Image {
            let path = self.path.to_path_buf();
            // The header of most formats is in the first bytes; some JPEGs put it
            // after large metadata, so read the file when the window is not enough.
            let size = match imagesize::blob_size(&self.head) {
                Ok(size) => Ok(size),
                Err(_) => tokio::task::spawn_blocking(move || imagesize::size(path))
                    .await
                    .map_err(std::io::Error::other)?,
            }
            .map_err(|_corrupt| IngestError::Unsupported)?;
            Some((
                u32::try_from(size.width).map_err(|_huge| IngestError::Unsupported)?,
                u32::try_from(size.height).map_err(|_huge| IngestError::Unsupported)?,
            ))
        } else {
            None
        };
        Ok(Ingested {
            meta: FileMeta {
                sha256: hex::encode(self.sha256.finalize()),
                md5: hex::encode(self.md5.finalize()),
                size: self.size,
                mime: sniffed.mime.to_owned(),
                extension: sniffed.extension.to_owned(),
                kind: sniffed.kind,
                dimensions,
            },
            path: self.path,
        })
    }

    /// Drops the partial upload, removing its file off the async workers.
    pub async fn discard(self) {
        drop(self.file);
        remove(self.path).await;
    }
}

/// A received upload, in its temporary file until stored.
pub struct Ingested {
    /// What the bytes are.
    pub meta: FileMeta,
    path: TempPath,
}

impl std::fmt::Debug for Ingested {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingested")
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl Ingested {
    /// Where the bytes are.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the temporary file off the async workers.
    pub async fn discard(self) {
        remove(self.path).await;
    }
}

async fn remove(path: TempPath) {
    let removed = tokio::task::spawn_blocking(move || path.close()).await;
    if let Ok(Err(e)) = removed {
        tracing::warn!(error = %e, "removing a temporary upload file");
    }
}
