//! Content-addressed objects on a local directory or S3-compatible storage,
//! through the `object_store` crate so both backends share one code path.

use std::ops::Range;
use std::path::Path as FsPath;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart};
use tokio::io::AsyncReadExt;

use crate::settings::{Backend, FileSettings};

/// A storage failure. Its text is for logs, never for clients.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The object does not exist.
    #[error("object not found")]
    NotFound,
    /// The configuration cannot be used.
    #[error("invalid file storage configuration: {0}")]
    Config(String),
    /// The backend failed.
    #[error("object storage")]
    Backend(#[source] object_store::Error),
    /// Reading the local upload failed.
    #[error("reading the upload")]
    Io(#[from] std::io::Error),
}

impl From<object_store::Error> for StorageError {
    fn from(err: object_store::Error) -> Self {
        match err {
            object_store::Error::NotFound { .. } => Self::NotFound,
            other => Self::Backend(other),
        }
    }
}

/// Where file contents live, addressed by their SHA-256.
#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The backend's Display names the bucket or directory, never credentials.
        write!(f, "BlobStore({})", self.inner)
    }
}

/// Parts of a multipart upload: S3's minimum part size, and how many parts may
/// be in flight; together they bound the memory one upload uses.
const PART_SIZE: usize = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT: usize = 2;
const READ_CHUNK: usize = 64 * 1024;

impl BlobStore {
    /// The store the settings describe.
    ///
    /// # Errors
    /// [`StorageError::Config`] when the directory cannot be created or the S3
    /// settings are incomplete.
    pub fn from_settings(settings: &FileSettings) -> Result<Self, StorageError> {
        let inner: Arc<dyn ObjectStore> = match settings.backend {
            Backend::Local => {
                std::fs::create_dir_all(&settings.dir).map_err(|e| {
                    StorageError::Config(format!("creating {}: {e}", settings.dir.display()))
                })?;
                Arc::new(
                    object_store::local::LocalFileSystem::new_with_prefix(&settings.dir)
                        .map_err(|e| StorageError::Config(e.to_string()))?,
                )
            }
            Backend::S3 => {
                let s3 = &settings.s3;
                if s3.bucket.is_empty() {
                    return Err(StorageError::Config(
                        "files.s3.bucket is required for the s3 backend".to_owned(),
                    ));
                }
                let mut builder = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region)
                    .with_allow_http(s3.allow_http);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let Some(key) = &s3.access_key_id {
                    builder = builder.with_access_key_id(key);
                }
                if let Some(secret) = &s3.secret_access_key {
                    use secrecy::ExposeSecret as _;
                    builder = builder.with_secret_access_key(secret.expose_secret());
                }
                Arc::new(
                    builder
                        .build()
                        .map_err(|e| StorageError::Config(e.to_string()))?,
                )
            }
        };
        Ok(Self { inner })
    }

    /// Sharded so no directory (or listing prefix) grows without bound.
    fn path(sha256: &str) -> Path {
        let a = sha256.get(..2).unwrap_or("00");
        let b = sha256.get(2..4).unwrap_or("00");
        Path::from(format!("{a}/{b}/{sha256}"))
    }

    /// Whether content `sha256` is stored.
    ///
    /// # Errors
    /// When the backend fails.
    pub async fn contains(&self, sha256: &str) -> Result<bool, StorageError> {
        match self.inner.head(&Self::path(sha256)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(other) => Err(StorageError::Backend(other)),
        }
    }

    /// Stores the file at `local` as content `sha256` unless it is already there
    /// (the same bytes uploaded twice are stored once). Streams in parts.
    ///
    /// # Errors
    /// When reading the file or the backend fails; nothing partial is left.
    pub async fn ensure(&self, sha256: &str, local: &FsPath) -> Result<(), StorageError> {
        if self.contains(sha256).await? {
            return Ok(());
        }
        let upload = self.inner.put_multipart(&Self::path(sha256)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut file = tokio::fs::File::open(local).await?;
        let mut buf = vec![0_u8; READ_CHUNK];
        loop {
            let read = match file.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    abort(writer).await;
                    return Err(e.into());
                }
            };
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                abort(writer).await;
                return Err(e.into());
            }
            writer.write(buf.get(..read).unwrap_or_default());
        }
        writer.finish().await?;
        Ok(())
    }

    /// The bytes of content `sha256`, all of them or `range`, as a stream.
    ///
    /// # Errors
    /// [`StorageError::NotFound`], or a backend failure.
    pub async fn read(
        &self,
        sha256: &str,
        range: Option<Range<u64>>,
    ) -> Result<BoxStream<'static, Result<Bytes, StorageError>>, StorageError> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let found = self.inner.get_opts(&Self::path(sha256), options).await?;
        Ok(found
            .into_stream()
            .map(|r| r.map_err(StorageError::from))
            .boxed())
    }

    /// Checks that files can be stored: writes and removes a small file in
    /// `incoming` (where uploads are received) and a small object in the
    /// backend. For readiness probes.
    ///
    /// # Errors
    /// The first write or removal that failed.
    pub async fn probe(&self, incoming: &FsPath) -> Result<(), StorageError> {
        tokio::fs::create_dir_all(incoming).await?;
        let local = incoming.join(format!(".readyz-{}", std::process::id()));
        tokio::fs::write(&local, b"ok").await?;
        tokio::fs::remove_file(&local).await?;
        // Outside the two-level shards, so no content name can clash with it.
        let object = Path::from("readyz-probe");
        self.inner
            .put(&object, object_store::PutPayload::from_static(b"ok"))
            .await?;
        match self.inner.delete(&object).await {
            // Another probe may have removed it first.
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(other) => Err(StorageError::Backend(other)),
        }
    }

    /// Removes content `sha256` (absent content is not an error).
    ///
    /// # Errors
    /// When the backend fails.
    pub async fn delete(&self, sha256: &str) -> Result<(), StorageError> {
        match self.inner.delete(&Self::path(sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(other) => Err(StorageError::Backend(other)),
        }
    }
}

async fn abort(writer: WriteMultipart) {
    if let Err(e) = writer.abort().await {
        tracing::warn!(error = %e, "aborting a multipart upload");
    }
}
