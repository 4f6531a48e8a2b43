//! File storage settings (the `[files]` table; `COLLOQ_FILES__*`).

use std::path::PathBuf;

use colloq_domain::file::FileKind;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::ingest::{Limits, Policy};

/// Which backend holds file contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// A local directory (`files.dir`), served by colloq itself.
    #[default]
    Local,
    /// An S3-compatible bucket (`files.s3.*`), also served through colloq.
    S3,
}

/// File settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileSettings {
    /// `COLLOQ_FILES__BACKEND`: `local` (default) or `s3`.
    pub backend: Backend,
    /// `COLLOQ_FILES__DIR`: the local backend's directory. Default `colloq-files`.
    pub dir: PathBuf,
    /// `COLLOQ_FILES__TMP_DIR`: where uploads are received before they are stored.
    /// Default `<dir>/.incoming` (keep it on a disk, not a RAM file system).
    pub tmp_dir: Option<PathBuf>,
    /// `COLLOQ_FILES__PUBLIC_URL`: the origin file URLs start with (e.g.
    /// `https://chat.example.com`). Default: the origin of the request.
    pub public_url: String,
    /// Largest upload per kind in MiB (`COLLOQ_FILES__MAX_MIB__IMAGE`, …). Default 10 each.
    pub max_mib: MaxMib,
    /// `COLLOQ_FILES__GC_GRACE_HOURS`: how old an upload never attached to a
    /// message must be before `colloq gc-files` removes it. Default 24.
    pub gc_grace_hours: u32,
    /// The S3 backend.
    pub s3: S3Settings,
}

impl Default for FileSettings {
    fn default() -> Self {
        Self {
            backend: Backend::Local,
            dir: PathBuf::from("colloq-files"),
            tmp_dir: None,
            public_url: String::new(),
            max_mib: MaxMib::default(),
            gc_grace_hours: 24,
            s3: S3Settings::default(),
        }
    }
}

impl PartialEq for FileSettings {
    fn eq(&self, other: &Self) -> bool {
        self.backend == other.backend
            && self.dir == other.dir
            && self.tmp_dir == other.tmp_dir
            && self.public_url == other.public_url
            && self.max_mib == other.max_mib
            && self.gc_grace_hours == other.gc_grace_hours
            && self.s3 == other.s3
    }
}

impl FileSettings {
    /// Where uploads are received.
    pub fn incoming_dir(&self) -> PathBuf {
        self.tmp_dir
            .clone()
            .unwrap_or_else(|| self.dir.join(".incoming"))
    }

    /// The size limits in bytes.
    pub fn limits(&self) -> Limits {
        let bytes = |mib: u64| mib.saturating_mul(1024 * 1024);
        Limits {
            image: bytes(self.max_mib.image),
            video: bytes(self.max_mib.video),
            audio: bytes(self.max_mib.audio),
            document: bytes(self.max_mib.document),
        }
    }

    /// A policy accepting `allowed` kinds within these limits.
    pub fn policy(&self, allowed: &[FileKind]) -> Policy {
        Policy {
            limits: self.limits(),
            allowed: allowed.to_vec(),
        }
    }
}

/// Per-kind limits in MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MaxMib {
    /// Images.
    pub image: u64,
    /// Videos.
    pub video: u64,
    /// Audio.
    pub audio: u64,
    /// Documents.
    pub document: u64,
}

impl Default for MaxMib {
    fn default() -> Self {
        Self {
            image: 10,
            video: 10,
            audio: 10,
            document: 10,
        }
    }
}

/// S3-compatible storage.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Settings {
    /// `COLLOQ_FILES__S3__BUCKET`.
    pub bucket: String,
    /// `COLLOQ_FILES__S3__REGION`. Default `us-east-1`.
    pub region: String,
    /// `COLLOQ_FILES__S3__ENDPOINT`: for S3-compatible services (MinIO, moto, …).
    pub endpoint: Option<String>,
    /// `COLLOQ_FILES__S3__ACCESS_KEY_ID`.
    pub access_key_id: Option<String>,
    /// `COLLOQ_FILES__S3__SECRET_ACCESS_KEY` (never logged).
    #[serde(skip_serializing)]
    pub secret_access_key: Option<SecretString>,
    /// `COLLOQ_FILES__S3__ALLOW_HTTP`: allow a plain-HTTP endpoint. Default false.
    pub allow_http: bool,
}

impl Default for S3Settings {
    fn default() -> Self {
        Self {
            bucket: String::new(),
            region: "us-east-1".to_owned(),
            endpoint: None,
            access_key_id: None,
            secret_access_key: None,
            allow_http: false,
        }
    }
}

impl PartialEq for S3Settings {
    fn eq(&self, other: &Self) -> bool {
        use secrecy::ExposeSecret;
        self.bucket == other.bucket
            && self.region == other.region
            && self.endpoint == other.endpoint
            && self.access_key_id == other.access_key_id
            && self.allow_http == other.allow_http
            && self
                .secret_access_key
                .as_ref()
                .map(ExposeSecret::expose_secret)
                == other
                    .secret_access_key
                    .as_ref()
                    .map(ExposeSecret::expose_secret)
    }
}

impl Eq for S3Settings {}
impl Eq for FileSettings {}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id.as_ref().map(|_| "…"))
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "…"),
            )
            .field("allow_http", &self.allow_http)
            .finish()
    }
}
