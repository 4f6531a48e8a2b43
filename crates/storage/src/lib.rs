//! File storage for colloq: uploads received as streams, recognised from their
//! bytes, and stored once per distinct content on a local directory or an
//! S3-compatible bucket.
//!
//! Depends on `colloq-domain` only among colloq's crates; the HTTP layer feeds it
//! chunks and the core records what it learned.
//!
//! - [`inspect`]: which formats are accepted, decided from the first bytes.
//! - [`Ingest`]: receiving one upload into a temporary file with hashes and limits.
//! - [`BlobStore`]: the backends, behind one interface.
//! - [`FileSettings`], the configuration.

mod ingest;
pub mod inspect;
mod settings;
mod store;

pub use ingest::{Ingest, IngestError, Ingested, Limits, Policy};
pub use settings::{Backend, FileSettings, MaxMib, S3Settings};
pub use store::{BlobStore, StorageError};
