use colloq_auth::password::verify_password;
use colloq_domain::user::{LoginName, PlainPassword, User};
use colloq_persistence::{DbConn, accounts};

use crate::CoreError;

/// Checks a login name and password.
///
/// # Errors
/// [`CoreError::InvalidCredentials`] for an unknown name or a wrong password,
/// after the same amount of hashing work in both cases.
pub fn login(
    conn: &mut DbConn,
    name: &LoginName,
    password: &PlainPassword,
) -> Result<User, CoreError> {
    let credentials = accounts::find_credentials(conn, name)?;
    let stored = credentials.as_ref().map(|c| c.password_hash.as_str());
    let checked = verify_password(stored, password.expose())
        .map_err(CoreError::from)
        .and_then(|()| {
            credentials
                .map(|c| c.user)
                .ok_or(CoreError::InvalidCredentials)
        });
    if matches!(checked, Err(CoreError::InvalidCredentials)) {
        crate::telemetry::login_failed();
    }
    checked
}
