//! Connections, the pool, engine selection and migrations.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use diesel::connection::{
    AnsiTransactionManager, SimpleConnection, TransactionDepthChange, TransactionManager,
    TransactionManagerStatus,
};
use diesel::prelude::*;
use diesel::r2d2::{ManageConnection, Pool, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use parking_lot::{ArcMutexGuard, Mutex, RawMutex};

use crate::StoreError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// A connection to either engine. Queries written once against this type run on
/// both; the few engine-specific statements `match` on the variant.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// PostgreSQL.
    Postgres(diesel::PgConnection),
    /// Embedded SQLite.
    Sqlite(diesel::SqliteConnection),
}

/// The storage engine, decided by the URL's scheme and never by trying to connect
/// (SQLite would accept any string as a file name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// `sqlite://path`, `sqlite:path`, `file:…`, or a plain path.
    Sqlite,
    /// `postgres://…` or `postgresql://…`.
    Postgres,
}

/// What the refusals of [`Engine::from_url`] offer instead.
const ACCEPTED: &str = "give postgres://… or postgresql://… for PostgreSQL, \
     or sqlite://PATH or a plain file path for SQLite";

impl Engine {
    /// The engine a URL names.
    ///
    /// # Errors
    /// [`StoreError::Config`] for an empty URL, a scheme colloq does not speak
    /// (a typo such as `postgress://` must not become an SQLite file of that
    /// name), or an in-memory SQLite database (each pooled connection would
    /// get its own empty one). The message shows what was read, without a
    /// password.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.trim().is_empty() {
            return Err(StoreError::Config(format!(
                "the database URL is empty: {ACCEPTED}"
            )));
        }
        if let Some((scheme, _)) = url.split_once("://")
            && !scheme.contains(['/', '\\'])
        {
            return match scheme.to_ascii_lowercase().as_str() {
                "postgres" | "postgresql" => Ok(Self::Postgres),
                "sqlite" if !sqlite_path(url).is_empty() => Self::sqlite(url),
                "sqlite" => Err(StoreError::Config(format!(
                    "the database URL `{url}` names no file: {ACCEPTED}"
                ))),
                _ => Err(StoreError::Config(format!(
                    "the database URL `{}` has the scheme `{scheme}://`, which colloq does \
                     not support: {ACCEPTED}",
                    redacted(url)
                ))),
            };
        }
        Self::sqlite(url)
    }

    fn sqlite(url: &str) -> Result<Self, StoreError> {
        let path = sqlite_path(url);
        if path == ":memory:" || path.contains("mode=memory") {
            return Err(StoreError::Config(format!(
                "the database URL `{url}` is an in-memory SQLite database, which every \
                 connection would see empty: give a file path"
            )));
        }
        Ok(Self::Sqlite)
    }
}

/// `url` with the credentials of its authority replaced by `…`, for messages.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest.get(..authority_end).and_then(|a| a.rfind('@')) {
        Some(at) => format!("{scheme}://…{}", rest.get(at..).unwrap_or_default()),
        None => url.to_owned(),
    }
}

/// The SQLite file name for a URL: `sqlite://x.db` → `x.db`.
fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// Opens pooled connections of the engine the URL names and prepares each one.
#[derive(Clone)]
pub struct DbManager {
    url: String,
    engine: Engine,
    pg_schema: Option<String>,
}

impl std::fmt::Debug for DbManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("DbManager")
            .field("engine", &self.engine)
            .field("pg_schema", &self.pg_schema)
            .finish_non_exhaustive()
    }
}

impl DbManager {
    /// A manager for `url`. `pg_schema` puts every PostgreSQL connection in that
    /// schema (tests use one schema per test; operators may share a database).
    ///
    /// # Errors
    /// [`StoreError::Config`] for a URL [`Engine::from_url`] refuses, or a
    /// schema name that is not a plain identifier.
    pub fn new(url: &str, pg_schema: Option<String>) -> Result<Self, StoreError> {
        if let Some(schema) = &pg_schema {
            let plain = !schema.is_empty()
                && schema.len() <= 63
                && schema
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !plain {
                return Err(StoreError::Config(
                    "the PostgreSQL schema must be lower-case letters, digits and '_'".to_owned(),
                ));
            }
        }
        Ok(Self {
            url: url.to_owned(),
            engine: Engine::from_url(url)?,
            pg_schema,
        })
    }

    /// The engine this manager connects to.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Opens and prepares one connection.
    ///
    /// # Errors
    /// [`StoreError::Connect`] or [`StoreError::Query`].
    pub fn open(&self) -> Result<DbConn, StoreError> {
        match self.engine {
            Engine::Sqlite => {
                // SQLite's own message ("unable to open database file") names no
                // file; the operator needs to know which one.
                let path = sqlite_path(&self.url);
                let opening = |source: Box<dyn std::error::Error + Send + Sync>| StoreError::Open {
                    path: path.to_owned(),
                    source,
                };
                let mut conn =
                    diesel::SqliteConnection::establish(path).map_err(|e| opening(Box::new(e)))?;
                // Foreign keys are off unless asked for on every connection; the
                // busy timeout lets writers queue instead of failing at once.
                // These are also the first statements, so a file that is not a
                // database fails here.
                conn.batch_execute(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;",
                )
                .map_err(|e| opening(Box::new(e)))?;
                Ok(DbConn::Sqlite(conn))
            }
            Engine::Postgres => {
                let mut conn =
                    diesel::PgConnection::establish(&self.url).map_err(StoreError::Connect)?;
                if let Some(schema) = &self.pg_schema {
                    conn.batch_execute(&format!("SET search_path TO {schema}"))?;
                }
                Ok(DbConn::Postgres(conn))
            }
        }
    }
}

/// How long the pool keeps trying to open a PostgreSQL connection, and how
/// often, before it reports the database unreachable. r2d2 backs off between
/// failed attempts (200 ms doubling to half the checkout timeout), so after
/// an outage its next attempt could come seconds after the server is back;
/// trying every 100 ms here reconnects within 100 ms of it. The attempts run
/// on r2d2's own helper threads, never on a request's.
const RECONNECT_WINDOW: Duration = Duration::from_secs(30);
const RECONNECT_EVERY: Duration = Duration::from_millis(100);

thread_local! {
    /// Set when a statement on this thread found its connection lost, so the
    /// pool drops that connection when it is returned (r2d2 asks on the same
    /// thread, as the use case ends) instead of handing it out again.
    static LOST_HERE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Notes that the connection in use on this thread was found lost.
pub(crate) fn note_lost_connection() {
    LOST_HERE.set(true);
    metrics::counter!("colloq_db_connections_lost_total").increment(1);
}

impl ManageConnection for DbManager {
    type Connection = DbConn;
    type Error = StoreError;

    fn connect(&self) -> Result<DbConn, StoreError> {
        let started = std::time::Instant::now();
        loop {
            match self.open() {
                Err(StoreError::Connect(_))
                    if self.engine == Engine::Postgres
                        && started.elapsed() + RECONNECT_EVERY < RECONNECT_WINDOW =>
                {
                    std::thread::sleep(RECONNECT_EVERY);
                }
                other => return other,
            }
        }
    }

    /// PostgreSQL connections are checked when checked out: after a server
    /// restart every pooled connection is dead, and a request must not be
    /// the one to find out. (SQLite has no server to lose.)
    fn is_valid(&self, conn: &mut DbConn) -> Result<(), StoreError> {
        match conn {
            DbConn::Postgres(_) => conn.ping().map_err(StoreError::from),
            DbConn::Sqlite(_) => Ok(()),
        }
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        LOST_HERE.replace(false) || conn.is_broken()
    }
}

/// Runs a trivial query, to tell whether the database answers.
///
/// # Errors
/// [`StoreError::Query`] when it does not.
pub fn ping(conn: &mut DbConn) -> Result<(), StoreError> {
    conn.ping().map_err(StoreError::from)
}

/// A pool of prepared connections.
pub type DbPool = Pool<DbManager>;

/// How big the pool is and how long a checkout may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// Most connections open at once.
    pub max_size: u32,
    /// How long a request waits for a free connection before failing.
    pub checkout_timeout: Duration,
}

/// Builds the pool after migrating the database (so no request ever meets an
/// old schema).
///
/// # Errors
/// Connection, migration or pool errors.
pub fn build_pool(manager: DbManager, options: PoolOptions) -> Result<DbPool, StoreError> {
    let mut conn = manager.open()?;
    migrate(&mut conn)?;
    drop(conn);
    Pool::builder()
        .max_size(options.max_size)
        .event_handler(Box::new(PoolEvents))
        // `DbManager::is_valid` pings PostgreSQL connections only.
        .test_on_check_out(true)
        .connection_timeout(options.checkout_timeout)
        .build(manager)
        .map_err(StoreError::Pool)
}

/// Reports the pool's checkouts to the `metrics` facade (a no-op until the
/// binary installs a recorder): how long each checkout waited, and how many
/// gave up after the checkout timeout.
#[derive(Debug)]
struct PoolEvents;

impl diesel::r2d2::HandleEvent for PoolEvents {
    fn handle_checkout(&self, event: diesel::r2d2::event::CheckoutEvent) {
        metrics::histogram!("colloq_db_pool_checkout_wait_seconds")
            .record(event.duration().as_secs_f64());
    }

    fn handle_timeout(&self, _event: diesel::r2d2::event::TimeoutEvent) {
        metrics::counter!("colloq_db_pool_checkout_timeouts_total").increment(1);
    }
}

/// Runs the pending migrations of the connection's engine.
///
/// # Errors
/// [`StoreError::Migration`] when a migration fails.
pub fn migrate(conn: &mut DbConn) -> Result<(), StoreError> {
    let migrations = match conn {
        DbConn::Sqlite(inner) => {
            // WAL lets readers go on while one writer writes; it is a property of
            // the file, so setting it once here is enough.
            inner.batch_execute("PRAGMA journal_mode = WAL;")?;
            SQLITE_MIGRATIONS
        }
        DbConn::Postgres(inner) => {
            // Several nodes may start at once on one database: the first
            // migrates while the others wait, then find nothing pending. (Keyed
            // by schema, so deployments in other schemas do not wait.)
            inner.batch_execute("SELECT pg_advisory_lock(hashtext(current_schema()))")?;
            let migrated = conn
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|_| ())
                .map_err(|e| StoreError::Migration(e.to_string()));
            if let DbConn::Postgres(inner) = conn {
                inner.batch_execute("SELECT pg_advisory_unlock(hashtext(current_schema()))")?;
            }
            return migrated;
        }
    };
    conn.run_pending_migrations(migrations)
        .map(|_| ())
        .map_err(|e| StoreError::Migration(e.to_string()))
}

/// The migrations of `conn`'s engine.
#[cfg(feature = "test-support")]
fn migrations_of(conn: &DbConn) -> diesel_migrations::EmbeddedMigrations {
    match conn {
        DbConn::Sqlite(_) => SQLITE_MIGRATIONS,
        DbConn::Postgres(_) => POSTGRES_MIGRATIONS,
    }
}

/// Reverts every migration (for the reversibility test).
///
/// # Errors
/// [`StoreError::Migration`] when a down migration fails.
#[cfg(feature = "test-support")]
pub fn revert_all(conn: &mut DbConn) -> Result<(), StoreError> {
    let migrations = migrations_of(conn);
    conn.revert_all_migrations(migrations)
        .map(|_| ())
        .map_err(|e| StoreError::Migration(e.to_string()))
}

/// Reverts the newest migration (for tests of what a migration does to the
/// rows already stored).
///
/// # Errors
/// [`StoreError::Migration`] when its down migration fails.
#[cfg(feature = "test-support")]
pub fn revert_latest(conn: &mut DbConn) -> Result<(), StoreError> {
    let migrations = migrations_of(conn);
    conn.revert_last_migration(migrations)
        .map(|_| ())
        .map_err(|e| StoreError::Migration(e.to_string()))
}

/// SQLite allows one writer at a time. Writers that find the database locked wait
/// in SQLite's busy handler, which sleeps in growing steps (up to 100 ms), so under
/// load most of a write's latency would be sleeping. Queuing writers on a lock of
/// the process's instead hands the database over the moment it is free. There is
/// one lock per database file, so writers to different databases (tests, or two
/// stores in one process) never wait for each other.
static SQLITE_WRITERS: LazyLock<Mutex<HashMap<String, Arc<Mutex<()>>>>> =
    LazyLock::new(Mutex::default);

/// Holds a database's writer lock until the write transaction has ended.
pub(crate) type WriterGuard = ArcMutexGuard<RawMutex, ()>;

/// The writer lock of the database `inner` is connected to, by the file
/// SQLite reports for its main schema.
fn writer_lock(inner: &mut diesel::SqliteConnection) -> QueryResult<Arc<Mutex<()>>> {
    #[derive(QueryableByName)]
    struct MainFile {
        #[diesel(sql_type = diesel::sql_types::Text)]
        file: String,
    }
    let main: MainFile =
        diesel::sql_query("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .get_result(inner)?;
    Ok(Arc::clone(
        SQLITE_WRITERS.lock().entry(main.file).or_default(),
    ))
}

/// Begins a write transaction that holds SQLite's write lock from the start:
/// the database's lock in this process (see [`SQLITE_WRITERS`]), then `BEGIN
/// IMMEDIATE`. The returned guard keeps the process's lock until the
/// transaction has ended. On PostgreSQL, a plain `BEGIN` and no lock.
pub(crate) fn begin_write(conn: &mut DbConn) -> QueryResult<Option<WriterGuard>> {
    let DbConn::Sqlite(inner) = conn else {
        <DbConn as Connection>::TransactionManager::begin_transaction(conn)?;
        return Ok(None);
    };
    let writer = writer_lock(inner)?.lock_arc();
    AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
    Ok(Some(writer))
}

/// Whether an SQLite connection is inside a transaction already.
pub(crate) fn in_transaction(inner: &mut diesel::SqliteConnection) -> QueryResult<bool> {
    Ok(
        AnsiTransactionManager::transaction_manager_status_mut(inner)
            .transaction_depth()?
            .is_some(),
    )
}

/// Runs `f` in a transaction that takes the write lock up front.
///
/// On SQLite a deferred transaction that reads first and writes later fails with
/// `SQLITE_BUSY` (without waiting) when another writer committed meanwhile;
/// `BEGIN IMMEDIATE` queues behind the busy timeout instead, and within this
/// process writers queue on the database's lock first. PostgreSQL uses an ordinary
/// transaction; row-level conflicts are handled by the statements.
///
/// # Errors
/// Whatever `f` returns, or the failure to begin or commit.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    // The change feed's notices leave with the commit, or not at all.
    let (result, notices) = crate::events::collecting(|| transaction(conn, f));
    if result.is_ok() {
        crate::events::pass_on(notices);
    }
    result
}

fn transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let DbConn::Sqlite(inner) = conn else {
        return conn.transaction(f);
    };
    // Inside an outer transaction (a batch) the lock is already held: nest with a
    // savepoint as usual.
    if in_transaction(inner)? {
        return conn.transaction(f);
    }
    let _writer = begin_write(conn)?;
    match f(conn) {
        Ok(value) => {
            <DbConn as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(err) => {
            if let Err(rollback) =
                <DbConn as Connection>::TransactionManager::rollback_transaction(conn)
            {
                tracing::error!(error = %rollback, "rollback failed");
            }
            Err(err)
        }
    }
}

/// Runs `f`, which only reads, in one read transaction on SQLite.
///
/// An SQLite statement outside a transaction opens and closes its own read
/// transaction, and in WAL mode each of those takes and drops a shared-memory
/// lock (a `fcntl` when no other connection of the process holds it). A request
/// that makes six reads paid that six times.
/// One deferred transaction pays it once, and gives the reads one snapshot, so
/// a count and the page read after it agree even while messages arrive.
///
/// PostgreSQL runs `f` as it is: a transaction there is two more round trips,
/// and its statements have no such per-statement cost.
///
/// `f` must not write: a deferred SQLite transaction that writes after reading
/// fails with `SQLITE_BUSY` when another writer committed meanwhile (use
/// [`write_transaction`] for that).
///
/// # Errors
/// Whatever `f` returns, or the failure to begin or end the transaction.
pub fn read_snapshot<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let DbConn::Sqlite(inner) = conn else {
        return f(conn);
    };
    if in_transaction(inner)? {
        return f(conn);
    }
    // diesel's transaction manager sends BEGIN and COMMIT through
    // `sqlite3_exec`, which parses them again on every call; as statements of
    // static type they are prepared once per
    // connection. The manager is told, so that nesting and the pool's
    // broken-connection check see the transaction.
    Begin.execute(inner)?;
    if let Err(err) = track(inner, TransactionDepthChange::IncreaseDepth) {
        // The manager is already broken; end the transaction all the same.
        let _ended = end(inner, false);
        return Err(err.into());
    }
    let result = f(conn);
    if let DbConn::Sqlite(inner) = conn
        && let Err(err) = end(inner, true)
    {
        return result.and(Err(err.into()));
    }
    result
}

/// Ends a [`read_snapshot`] transaction. Nothing was written, so COMMIT ends it
/// whether or not the reads failed. A connection whose transaction could not
/// be ended is marked broken, so the pool drops it rather than hand out one
/// that pins old WAL frames and serves stale reads.
fn end(inner: &mut diesel::SqliteConnection, tracked: bool) -> QueryResult<()> {
    let ended = Commit.execute(inner).and_then(|_| {
        if tracked {
            track(inner, TransactionDepthChange::DecreaseDepth)
        } else {
            Ok(())
        }
    });
    if let Err(err) = &ended {
        tracing::error!(error = %err, "ending a read transaction failed");
        AnsiTransactionManager::transaction_manager_status_mut(inner).set_in_error();
    }
    ended
}

/// Runs `f` in a savepoint of the transaction `conn` is in: one write of the
/// group committer's batch, rolled back alone when it fails.
///
/// On SQLite the savepoint's statements are prepared once per connection, as
/// [`read_snapshot`]'s are: diesel's transaction manager sends them through
/// `sqlite3_exec`, which parses them again for every write of every batch.
/// The manager is told, so that a transaction nested in `f` nests under it.
pub(crate) fn savepoint<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let DbConn::Sqlite(inner) = conn else {
        return conn.transaction(f);
    };
    Savepoint.execute(inner)?;
    track(inner, TransactionDepthChange::IncreaseDepth)?;
    let result = f(conn);
    let DbConn::Sqlite(inner) = conn else {
        return result; // a connection does not change its engine
    };
    let ended = match &result {
        Ok(_) => Release.execute(inner),
        Err(_) => RollbackTo
            .execute(inner)
            .and_then(|_| Release.execute(inner)),
    }
    .and_then(|_| track(inner, TransactionDepthChange::DecreaseDepth));
    if let Err(err) = ended {
        // The batch's state is unknown: its commit must not happen.
        tracing::error!(error = %err, "ending a write's savepoint failed");
        AnsiTransactionManager::transaction_manager_status_mut(inner).set_in_error();
        return result.and(Err(err.into()));
    }
    result
}

/// `BEGIN` and `COMMIT` for [`read_snapshot`], and the savepoint statements
/// of [`savepoint`]: unit types, so their `QueryId` is static and diesel
/// caches their prepared statements.
macro_rules! fixed_statement {
    ($name:ident, $sql:literal) => {
        #[derive(diesel::query_builder::QueryId)]
        struct $name;

        impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for $name {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
            ) -> QueryResult<()> {
                out.push_sql($sql);
                Ok(())
            }
        }

        impl RunQueryDsl<diesel::SqliteConnection> for $name {}
    };
}

fixed_statement!(Begin, "BEGIN");
fixed_statement!(Commit, "COMMIT");
fixed_statement!(Savepoint, "SAVEPOINT colloq_write");
fixed_statement!(Release, "RELEASE colloq_write");
fixed_statement!(RollbackTo, "ROLLBACK TO colloq_write");

fn track(inner: &mut diesel::SqliteConnection, change: TransactionDepthChange) -> QueryResult<()> {
    match AnsiTransactionManager::transaction_manager_status_mut(inner) {
        TransactionManagerStatus::Valid(status) => status.change_transaction_depth(change),
        TransactionManagerStatus::InError => Err(diesel::result::Error::BrokenTransactionManager),
    }
}
