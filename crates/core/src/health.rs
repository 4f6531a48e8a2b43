//! Whether the database answers, for readiness probes.

use colloq_persistence::DbConn;

use crate::CoreError;

/// Runs a trivial query on `conn`.
///
/// # Errors
/// [`CoreError::Store`] when the database does not answer.
pub fn check_database(conn: &mut DbConn) -> Result<(), CoreError> {
    Ok(colloq_persistence::ping(conn)?)
}
