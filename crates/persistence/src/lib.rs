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

/// A statement of one fixed SQL text that keeps its prepared statement.
/// diesel caches neither UPDATEs (a changeset of optional fields can produce
/// many SQL texts) nor upserts, hand-written statements, or queries with an
/// SQL literal in them; the ones wrapped in this have one text each, and
/// diesel's cache keys it by that text (the wrapper has no static query id, so
/// a type never stands for two texts). Preparing a send's statements afresh
/// each time was a measurable part of its CPU.
///
/// Run one with `get_result` or `load` (or wrap it in [`Quiet`] when it returns
/// nothing), not `execute`: `execute` hands diesel a reference, and `&T`'s `QueryFragment`
/// does not forward the cache check, so the statement would be prepared every
/// time (a test in `tests/store.rs` watches the cache).
pub(crate) struct Fixed<Q>(Q);

impl<Q> diesel::query_builder::QueryId for Fixed<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// As [`Fixed`], for a statement built with diesel's DSL whose type alone
/// determines its text (no optional changeset, no list of binds; the caller
/// promises it). diesel then keys its prepared statement by that type, and
/// does not build and hash the text again on every execution to find it: for
/// a send's UPDATEs, whose texts name every column they set and return, that
/// was a few microseconds of the SQLite writer's time per send.
pub(crate) struct Shaped<Q>(Q);

impl<Q: 'static> diesel::query_builder::QueryId for Shaped<Q> {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

/// As [`Shaped`], for a statement that returns nothing, run with `load`
/// (which yields no rows) instead of `execute`, which would prepare it again
/// each time (see [`Fixed`]). SQLite answers a `RETURNING` clause from a
/// temporary table it builds for the statement, a cost a send's writer pays
/// for nothing when the caller needs none of the row.
pub(crate) struct Quiet<Q>(Q);

impl<Q: 'static> diesel::query_builder::QueryId for Quiet<Q> {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Q> diesel::query_builder::Query for Quiet<Q> {
    /// No row comes back; the type only lets diesel's `load` run it.
    type SqlType = diesel::sql_types::Integer;
}

/// What [`Fixed`], [`Shaped`] and [`Quiet`] share: a statement diesel may cache.
macro_rules! cacheable {
    ($wrapper:ident) => {
        impl<Q, DB> diesel::query_builder::QueryFragment<DB> for $wrapper<Q>
        where
            Q: diesel::query_builder::QueryFragment<DB>,
            DB: diesel::backend::Backend,
        {
            fn walk_ast<'b>(
                &'b self,
                pass: diesel::query_builder::AstPass<'_, 'b, DB>,
            ) -> diesel::QueryResult<()> {
                self.0.walk_ast(pass)
            }

            fn is_safe_to_cache_prepared(&self, _backend: &DB) -> diesel::QueryResult<bool> {
                Ok(true)
            }
        }

        impl<Q, C> diesel::RunQueryDsl<C> for $wrapper<Q> {}
    };
}

cacheable!(Fixed);
cacheable!(Shaped);
cacheable!(Quiet);

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for Fixed<Q> {
    type SqlType = Q::SqlType;
}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for Shaped<Q> {
    type SqlType = Q::SqlType;
}

pub mod accounts;
pub mod app_keys;
pub mod bulk;
pub mod conn;
pub mod conversations;
pub mod error;
pub mod events;
pub mod files;
pub mod idempotency;
pub mod messages;
pub mod orders;
#[cfg(feature = "test-support")]
pub mod plans;
pub mod relations;
mod schema;
mod stamp;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod tokens;
pub mod writer;

pub use conn::{
    DbConn, DbManager, DbPool, Engine, PoolOptions, build_pool, migrate, ping, read_snapshot,
    redacted, write_transaction,
};
#[cfg(feature = "test-support")]
pub use conn::{revert_all, revert_latest};
/// Why no pooled connection could be had.
pub use diesel::r2d2::PoolError;
/// How many pooled connections are open and idle.
pub use diesel::r2d2::State as PoolState;
/// diesel's query error, for callers that implement `From` for [`write_transaction`].
pub use diesel::result::Error as QueryError;
pub use error::StoreError;
pub use writer::Writer;

use chrono::{DateTime, NaiveDateTime, Utc};

/// Timestamps are stored as UTC without a zone: colloq stores every time in
/// UTC, and each dialect renders it in its client's zone.
fn to_db_time(t: DateTime<Utc>) -> stamp::Stamp {
    stamp::Stamp(t.naive_utc())
}

fn from_db_time(t: impl Into<NaiveDateTime>) -> DateTime<Utc> {
    t.into().and_utc()
}
