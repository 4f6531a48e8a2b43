//! Disposable databases for tests (feature `test-support`).
//!
//! Every test gets its own state, so tests run in parallel with no ordering, no
//! teardown code and no retries. With `COLLOQ_TEST_DATABASE_URL` set to a
//! `postgres://` URL, each [`TestDatabase`] is a fresh schema in that database,
//! dropped when the value is dropped; otherwise it is a fresh SQLite file in a
//! temporary directory.

use std::time::Duration;

use diesel::connection::SimpleConnection;

use crate::{DbManager, DbPool, Engine, PoolOptions, StoreError, build_pool};

/// The variable naming the PostgreSQL server for tests.
pub const TEST_DATABASE_URL: &str = "COLLOQ_TEST_DATABASE_URL";

/// One test's own database.
pub struct TestDatabase {
    url: String,
    schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("engine", &self.engine())
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl TestDatabase {
    /// A fresh, empty database on the engine the environment selects.
    ///
    /// # Errors
    /// When the temporary directory or the schema cannot be created.
    pub fn new() -> Result<Self, StoreError> {
        match std::env::var(TEST_DATABASE_URL) {
            Ok(url) if !url.trim().is_empty() => Self::postgres(url),
            _ => Self::sqlite(),
        }
    }

    fn sqlite() -> Result<Self, StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Config(e.to_string()))?;
        let url = dir.path().join("test.db").to_string_lossy().into_owned();
        Ok(Self {
            url,
            schema: None,
            _dir: Some(dir),
        })
    }

    fn postgres(url: String) -> Result<Self, StoreError> {
        let mut bytes = [0_u8; 8];
        getrandom::fill(&mut bytes).map_err(|e| StoreError::Config(e.to_string()))?;
        let schema = format!("test_{}", u64::from_le_bytes(bytes));
        let mut conn = DbManager::new(&url, None)?.open()?;
        conn.batch_execute(&format!("CREATE SCHEMA {schema}"))?;
        Ok(Self {
            url,
            schema: Some(schema),
            _dir: None,
        })
    }

    /// The engine under test.
    pub fn engine(&self) -> Engine {
        if self.schema.is_some() {
            Engine::Postgres
        } else {
            Engine::Sqlite
        }
    }

    /// The database URL (an SQLite path or the PostgreSQL URL).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The PostgreSQL schema of this test, if on PostgreSQL.
    pub fn pg_schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// A manager for connections to this database.
    ///
    /// # Errors
    /// Never for the names this type makes.
    pub fn manager(&self) -> Result<DbManager, StoreError> {
        DbManager::new(&self.url, self.schema.clone())
    }

    /// A migrated pool over this database.
    ///
    /// # Errors
    /// Connection or migration failures.
    pub fn pool(&self, max_size: u32) -> Result<DbPool, StoreError> {
        build_pool(
            self.manager()?,
            PoolOptions {
                max_size,
                checkout_timeout: Duration::from_secs(30),
            },
        )
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(schema) = &self.schema else { return };
        let dropped = DbManager::new(&self.url, None)
            .and_then(|m| m.open())
            .and_then(|mut conn| {
                conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .map_err(StoreError::from)
            });
        if let Err(err) = dropped {
            tracing::warn!(%schema, error = %err, "could not drop a test schema");
        }
    }
}

/// Waits until every event committed before the call can be read: on
/// PostgreSQL, until every transaction running at the call has ended (see
/// [`crate::events`]; another test's transaction may be in flight), on SQLite
/// at once. A test that writes and then reads a feed calls it in between, as
/// a live reader would retry.
///
/// # Panics
/// When other transactions keep the feed back for ten seconds.
pub fn settle(conn: &mut crate::DbConn) {
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;

    #[derive(QueryableByName)]
    struct Xid {
        #[diesel(sql_type = BigInt)]
        xid: i64,
    }
    if matches!(conn, crate::DbConn::Sqlite(_)) {
        return;
    }
    let mut xid = |sql: &str| {
        diesel::sql_query(sql)
            .get_result::<Xid>(conn)
            .map(|x| x.xid)
            .unwrap_or_else(|err| panic!("{sql}: {err}"))
    };
    let started = std::time::Instant::now();
    let running = xid("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xid");
    while xid("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xid") < running {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "transactions older than this test's writes are still running"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}
