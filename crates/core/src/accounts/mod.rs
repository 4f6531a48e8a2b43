//! Accounts: register, log in, look up.

mod login;
mod register;

pub use login::login;
pub use register::register;

use colloq_domain::ids::UserId;
use colloq_domain::user::User;
use colloq_persistence::DbConn;

use crate::CoreError;

/// The user with this profile id.
///
/// # Errors
/// [`CoreError::NotVisible`] when there is none.
pub fn user(conn: &mut DbConn, id: UserId) -> Result<User, CoreError> {
    colloq_persistence::accounts::find(conn, id)?.ok_or(CoreError::NotVisible)
}
