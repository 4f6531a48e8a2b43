//! Storage errors.
//!
//! Policy: callers never inspect diesel error kinds. Unique and foreign-key
//! violations become [`StoreError::Conflict`] here, in [`From<diesel::result::Error>`],
//! a missing row becomes [`StoreError::NotFound`], and everything else keeps its
//! source so the log shows the whole chain. None of these messages is meant for
//! clients: adapters show a generic text for every variant but the first two.

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("row not found")]
    NotFound,
    /// A uniqueness or reference rule refused the write, or a concurrent change won.
    #[error("conflict on {constraint}")]
    Conflict {
        /// The constraint's name or the engine's description of it.
        constraint: String,
    },
    /// No connection could be had from the pool.
    #[error("connection pool")]
    Pool(#[source] diesel::r2d2::PoolError),
    /// A connection could not be opened.
    #[error("connecting to the database")]
    Connect(#[source] diesel::ConnectionError),
    /// An SQLite database file could not be opened or is not a database.
    #[error("opening the SQLite database file {path}")]
    Open {
        /// The file, as configured.
        path: String,
        /// What SQLite said.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The connection to the database was lost, or a statement could not
    /// be sent on it (PostgreSQL restarted, the network dropped).
    #[error("the database connection was lost")]
    Lost(#[source] diesel::result::Error),
    /// A query failed.
    #[error("database query")]
    Query(#[source] diesel::result::Error),
    /// Migrations failed.
    #[error("running migrations: {0}")]
    Migration(String),
    /// A stored value could not be read back (e.g. malformed JSON in a text column).
    #[error("corrupt stored value in {0}")]
    Corrupt(&'static str),
    /// The configuration names something unusable (e.g. a bad schema name).
    #[error("invalid database configuration: {0}")]
    Config(String),
}

impl From<diesel::result::Error> for StoreError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error as E};
        match err {
            E::NotFound => Self::NotFound,
            E::DatabaseError(
                Kind::UniqueViolation | Kind::ForeignKeyViolation | Kind::SerializationFailure,
                info,
            ) => Self::Conflict {
                constraint: info
                    .constraint_name()
                    .map_or_else(|| info.message().to_owned(), str::to_owned),
            },
            E::DatabaseError(Kind::ClosedConnection | Kind::UnableToSendCommand, _) => {
                crate::conn::note_lost_connection();
                Self::Lost(err)
            }
            other => Self::Query(other),
        }
    }
}

impl StoreError {
    /// Whether the database could not be reached (a lost connection, a
    /// refused one, or no connection free before the checkout timeout):
    /// the request may succeed if tried again shortly, and nothing it
    /// asked for was done unless its commit was what failed.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Lost(_) | Self::Connect(_) | Self::Pool(_))
    }

    /// Whether a connection that worked was lost during the call: a read
    /// may be run again on a fresh one.
    pub fn is_lost(&self) -> bool {
        matches!(self, Self::Lost(_))
    }
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        Self::Pool(err)
    }
}
