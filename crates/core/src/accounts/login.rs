use chrono::{DateTime, Utc};
use colloq_domain::user::{LoginName, PlainPassword, User};
use colloq_persistence::DbConn;

use super::Origin;
use crate::throttle::Throttle;
use crate::{CoreError, Refusal};

/// Checks a login name and password the AnQiCMS way: an unknown name and a
/// wrong password are one answer. It spends the same budgets and honours the
/// same lock as every other door (see [`super::login_account`]), so a guess
/// here counts against the account like a guess through Fresns.
///
/// # Errors
/// [`CoreError::InvalidCredentials`] for an unknown name or a wrong password,
/// after the same amount of hashing work in both cases; the refusals and
/// limits of [`super::login_account`].
pub fn login(
    conn: &mut DbConn,
    name: &LoginName,
    password: &PlainPassword,
    guard: (&Throttle, &Origin),
    now: DateTime<Utc>,
) -> Result<User, CoreError> {
    match super::login_account(conn, std::slice::from_ref(name), password, guard, now) {
        Err(CoreError::Refused(Refusal::UnknownAccount | Refusal::WrongPassword)) => {
            Err(CoreError::InvalidCredentials)
        }
        other => other,
    }
}
