//! Accounts: register, log in, look up.

mod login;
mod register;
mod throttled;

pub use login::login;
pub use register::register;
pub use throttled::{Origin, UserRef, find_user, login_account, switch_user};

use colloq_domain::user::User;
use colloq_persistence::DbConn;

use crate::CoreError;

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
