//! Accounts: register, log in, look up.

mod login;
mod register;
mod throttled;

pub use login::login;
pub use register::register;
pub use throttled::{Origin, UserRef, find_user, login_account, switch_user};

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

/// All profiles of the user's account, primary first.
///
/// # Errors
/// Storage failures.
pub fn profiles(conn: &mut DbConn, user: &User) -> Result<Vec<User>, CoreError> {
    Ok(colloq_persistence::accounts::users_of(
        conn,
        user.account_id,
    )?)
}
