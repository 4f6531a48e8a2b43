//! Storage for colloq: diesel 2 over embedded SQLite or PostgreSQL, chosen by the
//! database URL, through one code path ([`DbConn`], a `diesel::MultiConnection`).
//!
//! May depend on `colloq-domain` and diesel; never on a web framework (CI checks).
//! Functions take `&mut DbConn` and return domain types; the caller owns the
//! transaction (wrap several calls in [`write_transaction`]). Row structs are
//! private: nothing above this crate sees a diesel type but [`DbConn`] and
//! [`DbPool`].
//!
//! Layout:
//! - [`conn`]: the connection enum, the pool, engine selection, migrations.
//! - [`accounts`], [`tokens`], [`orders`], [`messages`], [`files`]: one module per table family.
//! - `error`: [`StoreError`].

/// Runs a hot query on the engine's own connection instead of through
/// [`DbConn`]. diesel's `MultiConnection` rebuilds a query's SQL text, and walks
/// it again to decide whether it may be cached, on every execution, even when
/// the prepared statement is already cached; on the engine's own connection a
/// query of static type is found in the statement cache by its `TypeId` alone.
/// perf put that rebuilding at a fifth of a Fresns message page's CPU. The
/// body is compiled once per engine, so it stays one query written once.
macro_rules! native {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::DbConn::Sqlite($c) => $body,
            $crate::DbConn::Postgres($c) => $body,
        }
    };
}

pub mod accounts;
pub mod app_keys;
pub mod bulk;
pub mod conn;
pub mod conversations;
pub mod error;
pub mod files;
pub mod messages;
pub mod orders;
pub mod plans;
pub mod relations;
mod schema;
mod stamp;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod tokens;

pub use conn::{
    DbConn, DbManager, DbPool, Engine, PoolOptions, build_pool, migrate, read_snapshot, revert_all,
    write_transaction,
};
/// diesel's query error, for callers that implement `From` for [`write_transaction`].
pub use diesel::result::Error as QueryError;
pub use error::StoreError;

use chrono::{DateTime, NaiveDateTime, Utc};

/// Timestamps are stored as UTC without zone (contract §2: time is stored in UTC).
fn to_db_time(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc()
}

fn from_db_time(t: impl Into<NaiveDateTime>) -> DateTime<Utc> {
    t.into().and_utc()
}
