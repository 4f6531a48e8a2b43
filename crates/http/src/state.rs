use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Dialect state by type (see [`AppState::extension`]).
type Extensions = HashMap<TypeId, Arc<dyn Any + Send + Sync>>;

use actix_web::web;
use chrono::{DateTime, Utc};
use colloq_core::{Clock, CoreError};
use colloq_persistence::{DbConn, DbPool, Writer};
use colloq_storage::{BlobStore, StorageError};
use metrics_exporter_prometheus::PrometheusHandle;

use colloq_core::throttle::{Budgets, Throttle};

use crate::Settings;
use crate::live::Live;
use crate::throttle::AddressLimits;

/// What every handler shares: the pool, the writer of the hot writes, the file
/// store, the settings and the clock.
#[derive(Clone)]
pub struct AppState {
    pool: DbPool,
    writer: Writer,
    store: BlobStore,
    settings: Arc<Settings>,
    clock: Clock,
    extensions: Arc<Mutex<Extensions>>,
    metrics: Option<PrometheusHandle>,
    throttle: Arc<Throttle>,
    address_limits: Arc<AddressLimits>,
    live: Live,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    /// State over a migrated pool and the writer for the same database, with
    /// the file store the settings describe.
    ///
    /// # Errors
    /// When the file store's configuration cannot be used.
    pub fn new(
        pool: DbPool,
        writer: Writer,
        settings: Settings,
        clock: Clock,
    ) -> Result<Self, StorageError> {
        let store = BlobStore::from_settings(&settings.files)?;
        let limits = &settings.limits;
        let throttle = Throttle::new(Budgets {
            logins_per_account_per_minute: limits.logins_per_account_per_minute,
            sends_per_user_per_second: limits.sends_per_user_per_second,
        });
        let address_limits = AddressLimits::new(limits, &settings.http);
        Ok(Self {
            pool,
            writer,
            store,
            settings: Arc::new(settings),
            clock,
            extensions: Arc::default(),
            metrics: None,
            throttle: Arc::new(throttle),
            address_limits: Arc::new(address_limits),
            live: Live::local(),
        })
    }

    /// This state, telling open streams of changes through `live` (the
    /// in-process bus by default).
    #[must_use]
    pub fn with_live(mut self, live: Live) -> Self {
        self.live = live;
        self
    }

    /// The bus of live delivery.
    pub fn live(&self) -> &Live {
        &self.live
    }

    /// This state, serving what `handle`'s recorder records at `/metrics`.
    #[must_use]
    pub fn with_metrics(mut self, handle: PrometheusHandle) -> Self {
        self.metrics = Some(handle);
        self
    }

    /// The Prometheus recorder's handle, when one is installed.
    pub(crate) fn metrics(&self) -> Option<&PrometheusHandle> {
        self.metrics.as_ref()
    }

    /// How many pooled connections are open and idle.
    pub(crate) fn pool_state(&self) -> colloq_persistence::PoolState {
        self.pool.state()
    }

    /// Whether the database answers a query.
    pub(crate) async fn check_database(&self) -> Result<(), String> {
        self.run(|conn, _now| colloq_core::health::check_database(conn))
            .await
            .map_err(|e| crate::error_chain::ErrorChain(&e).to_string())
    }

    /// Whether the SQLite writer commits (always true on PostgreSQL, where
    /// each request writes in its own transaction).
    pub(crate) async fn check_writer(&self) -> Result<(), String> {
        let writer = self.writer.clone();
        match web::block(move || writer.flush(std::time::Duration::from_secs(2))).await {
            Ok(true) => Ok(()),
            Ok(false) => Err("the writer did not answer".to_owned()),
            Err(_canceled) => Err("the blocking thread pool is gone".to_owned()),
        }
    }

    /// Whether files can be received and stored.
    pub(crate) async fn check_storage(&self) -> Result<(), String> {
        self.store
            .probe(&self.settings.files.incoming_dir())
            .await
            .map_err(|e| crate::error_chain::ErrorChain(&e).to_string())
    }

    /// Where sends commit (see [`Writer`]).
    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    /// The file store.
    pub fn store(&self) -> &BlobStore {
        &self.store
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The budgets per account and per user, shared by both dialects.
    pub(crate) fn throttle(&self) -> &Arc<Throttle> {
        &self.throttle
    }

    /// The limits per client address.
    pub(crate) fn address_limits(&self) -> &AddressLimits {
        &self.address_limits
    }

    /// The state of type `T` a dialect keeps for itself (a cache, say): one
    /// per application, shared by every worker, made on first use. The
    /// application knows no dialect's types; a dialect takes its state once
    /// per worker when it is mounted, not once per request.
    pub(crate) fn extension<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut extensions = self
            .extensions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = extensions
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()));
        // Keyed by the type's id, so the downcast cannot fail.
        Arc::clone(entry)
            .downcast::<T>()
            .unwrap_or_else(|_other| Arc::new(T::default()))
    }

    /// Runs a use case on the blocking thread pool with a pooled connection.
    ///
    /// Checking a connection out of r2d2 blocks too, so it happens inside the
    /// closure, never on an async worker. One call is one unit of work: a use case
    /// that needs atomicity opens its transaction inside `f`.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T, CoreError>
    where
        F: FnOnce(&mut DbConn, DateTime<Utc>) -> Result<T, CoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.run_with(f).await
    }

    /// Runs a read on the blocking thread pool: `f` inside one read snapshot
    /// (see [`colloq_core::snapshot::read`]) on a pooled connection. When that connection
    /// turns out to be lost (PostgreSQL restarted or a proxy cut it between
    /// the checkout's ping and the read), the whole read runs once more on a
    /// fresh connection; the lost one is discarded by the pool. A read
    /// changes nothing, so running it twice is safe; writes are never re-run
    /// (their commit may have happened) and answer 503 instead.
    pub(crate) async fn read_with<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: Fn(&mut DbConn, DateTime<Utc>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<CoreError> + ConnectionLost + Send + 'static,
    {
        let pool = self.pool.clone();
        let now = self.clock.now();
        web::block(move || {
            let attempt = || {
                let mut conn = pool.get().map_err(|e| E::from(CoreError::from(e)))?;
                colloq_core::snapshot::read(&mut conn, |conn| f(conn, now))
            };
            match attempt() {
                Err(err) if err.connection_lost() => {
                    tracing::warn!("a read lost its database connection; reading again");
                    metrics::counter!("colloq_db_read_retries_total").increment(1);
                    attempt()
                }
                done => done,
            }
        })
        .await
        .map_err(|_canceled| E::from(CoreError::Unavailable("the blocking thread pool is gone")))?
    }

    /// [`run`](Self::run) for closures with their own error type (an adapter's,
    /// when parameter errors are reported from inside the call).
    pub(crate) async fn run_with<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn, DateTime<Utc>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<CoreError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let now = self.clock.now();
        let (result, notices) = web::block(move || {
            colloq_core::events::collecting(|| {
                let mut conn = pool.get().map_err(|e| E::from(CoreError::from(e)))?;
                f(&mut conn, now)
            })
        })
        .await
        .map_err(|_canceled| E::from(CoreError::Unavailable("the blocking thread pool is gone")))?;
        // Committed: the open streams of every feed it told may read now.
        self.live.publish(&notices);
        result
    }
}

/// An error that can say the database connection was lost during the call.
pub(crate) trait ConnectionLost {
    fn connection_lost(&self) -> bool;
}

impl ConnectionLost for CoreError {
    fn connection_lost(&self) -> bool {
        Self::connection_lost(self)
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use colloq_core::{Clock, CoreError};
    use colloq_persistence::testing::TestDatabase;
    use colloq_persistence::{DbConn, StoreError, Writer};
    use diesel::RunQueryDsl;

    use super::AppState;
    use crate::Settings;

    fn state(db: &TestDatabase) -> (AppState, tempfile::TempDir) {
        let pool = db.pool(2).unwrap();
        let writer = Writer::start(&db.manager().unwrap());
        let mut settings = Settings::default();
        let files = tempfile::tempdir().unwrap();
        settings.files.dir = files.path().join("store");
        let state = AppState::new(pool, writer, settings, Clock::default()).unwrap();
        (state, files)
    }

    /// Ends this connection's PostgreSQL backend, as a restart or a proxy
    /// would; the statement itself fails on the lost connection.
    fn lose(conn: &mut DbConn) -> Result<(), CoreError> {
        if let DbConn::Postgres(pg) = conn {
            diesel::sql_query("SELECT pg_terminate_backend(pg_backend_pid())")
                .execute(pg)
                .map_err(StoreError::from)?;
        }
        Ok(())
    }

    fn select_one(conn: &mut DbConn) -> Result<(), CoreError> {
        let query = diesel::sql_query("SELECT 1");
        match conn {
            DbConn::Postgres(pg) => query.execute(pg),
            DbConn::Sqlite(lite) => query.execute(lite),
        }
        .map_err(StoreError::from)?;
        Ok(())
    }

    #[actix_web::test]
    async fn a_read_that_loses_its_connection_runs_once_more_on_a_fresh_one() {
        let db = TestDatabase::new().unwrap();
        let (state, _files) = state(&db);
        let is_pg = matches!(db.engine(), colloq_persistence::Engine::Postgres);
        let attempts = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&attempts);
        let read = state
            .read_with(move |conn, _now| {
                if counted.fetch_add(1, Ordering::SeqCst) == 0 {
                    lose(conn)?;
                }
                select_one(conn)
            })
            .await;
        assert!(read.is_ok(), "{read:?}");
        // SQLite has no connection to lose: the read ran once.
        let expected = if is_pg { 2 } else { 1 };
        assert_eq!(attempts.load(Ordering::SeqCst), expected);

        // Lost twice: the second loss is the answer (503 in both dialects).
        let attempts = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&attempts);
        let read = state
            .read_with(move |conn, _now| {
                counted.fetch_add(1, Ordering::SeqCst);
                lose(conn)?;
                select_one(conn)
            })
            .await;
        if is_pg {
            assert!(read.as_ref().is_err_and(|e| e.is_transient()), "{read:?}");
            assert_eq!(attempts.load(Ordering::SeqCst), 2);
        }
        // The pool replaced the lost connections: the next read works at once.
        assert!(state.read_with(|conn, _| select_one(conn)).await.is_ok());
    }

    #[test]
    fn a_dialect_state_is_one_per_application_whatever_the_clone() {
        #[derive(Default)]
        struct Counter(AtomicUsize);
        let db = TestDatabase::new().unwrap();
        let (state, _files) = state(&db);
        let worker = state.clone();
        state
            .extension::<Counter>()
            .0
            .fetch_add(1, Ordering::SeqCst);
        assert_eq!(worker.extension::<Counter>().0.load(Ordering::SeqCst), 1);
        let (other, _other_files) = self::state(&db);
        assert_eq!(other.extension::<Counter>().0.load(Ordering::SeqCst), 0);
    }

    #[actix_web::test]
    async fn a_read_that_fails_otherwise_is_not_run_again() {
        let db = TestDatabase::new().unwrap();
        let (state, _files) = state(&db);
        let attempts = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&attempts);
        let read: Result<(), CoreError> = state
            .read_with(move |_conn, _now| {
                counted.fetch_add(1, Ordering::SeqCst);
                Err(CoreError::from(StoreError::NotFound))
            })
            .await;
        assert!(read.is_err());
        assert_eq!(attempts.load(Ordering::SeqCst), 1);
    }
}
