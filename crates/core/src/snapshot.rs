//! Read transactions for callers above core, in core's error type.

use colloq_persistence::{DbConn, StoreError, read_snapshot};

use crate::CoreError;

/// Either the caller's own error or a failure to begin or end the snapshot.
enum Failed<E> {
    Caller(E),
    Store(StoreError),
}

impl<E> From<colloq_persistence::QueryError> for Failed<E> {
    fn from(err: colloq_persistence::QueryError) -> Self {
        Self::Store(err.into())
    }
}

/// Runs `f` in one read snapshot (see [`read_snapshot`]): the reads a request
/// makes see one state of the database. A failure of the snapshot itself
/// comes back as [`CoreError::Store`], so callers never see a storage error
/// type.
///
/// # Errors
/// Whatever `f` returns, or the failure to begin or end the snapshot.
pub fn read<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<CoreError>,
{
    read_snapshot(conn, |conn| f(conn).map_err(Failed::Caller)).map_err(|failed| match failed {
        Failed::Caller(err) => err,
        Failed::Store(err) => E::from(CoreError::from(err)),
    })
}
