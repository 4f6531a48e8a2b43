use std::sync::Arc;

use actix_web::web;
use chrono::{DateTime, Utc};
use colloq_core::{Clock, CoreError};
use colloq_persistence::{DbConn, DbPool, StoreError, Writer};
use colloq_storage::{BlobStore, StorageError};
use metrics_exporter_prometheus::PrometheusHandle;

use colloq_core::throttle::{Budgets, Throttle};

use crate::Settings;
use crate::fresns::UserInfoMemo;
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
    fresns_users: Arc<UserInfoMemo>,
    metrics: Option<PrometheusHandle>,
    throttle: Arc<Throttle>,
    address_limits: Arc<AddressLimits>,
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
            fresns_users: Arc::default(),
            metrics: None,
            throttle: Arc::new(throttle),
            address_limits: Arc::new(address_limits),
        })
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

    /// The Fresns User Info objects this server rendered recently.
    pub(crate) fn fresns_users(&self) -> &UserInfoMemo {
        &self.fresns_users
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
        web::block(move || {
            let mut conn = pool
                .get()
                .map_err(|e| E::from(CoreError::from(StoreError::from(e))))?;
            f(&mut conn, now)
        })
        .await
        .map_err(|_canceled| E::from(CoreError::Unavailable("the blocking thread pool is gone")))?
    }
}
