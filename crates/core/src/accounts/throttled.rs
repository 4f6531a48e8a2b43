use chrono::{DateTime, Duration, Utc};
use colloq_auth::password::verify_password;
use colloq_domain::ids::AccountId;
use colloq_domain::user::{LoginName, PlainPassword, User};
use colloq_persistence::{DbConn, accounts, relations};

use crate::throttle::Throttle;
use crate::{CoreError, Refusal};

/// Failed logins an account may have in an hour before further attempts are
/// refused outright (Fresns 34306).
const MAX_FAILURES_PER_HOUR: i64 = 5;

fn locked_out(
    conn: &mut DbConn,
    account: AccountId,
    from: &Origin,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    if relations::login_failures_since(conn, account, &from.0, now - Duration::hours(1))?
        >= MAX_FAILURES_PER_HOUR
    {
        crate::telemetry::login_locked();
        return Err(CoreError::Refused(Refusal::TooManyAttempts));
    }
    Ok(())
}

/// An account login that tells its failures apart (Fresns reports them with
/// different codes) and refuses after five failures in an hour. Failures are
/// recorded outside any transaction so they stick.
///
/// `names` are the spellings one login may be stored under (a phone number
/// with and without its country code); the first that names an account is
/// the one whose password is checked, so a login hashes once, found or not.
///
/// Every password check spends one unit of the account's budget in
/// `throttle`, shared by all login doors. The five-failure lock counts the
/// failures from `from` only: a stranger's guesses lock the stranger out,
/// not the owner, and the account's budget slows guesses from everywhere.
///
/// # Errors
/// [`Refusal::UnknownAccount`], [`Refusal::TooManyAttempts`], [`Refusal::WrongPassword`],
/// [`CoreError::RateLimited`].
pub fn login_account(
    conn: &mut DbConn,
    names: &[LoginName],
    password: &PlainPassword,
    (throttle, from): (&Throttle, &Origin),
    now: DateTime<Utc>,
) -> Result<User, CoreError> {
    let mut found = None;
    for name in names {
        found = accounts::find_credentials(conn, name)?;
        if found.is_some() {
            break;
        }
    }
    let Some(credentials) = found else {
        // Hash anyway so response time does not tell whether the account exists.
        let _ = verify_password(None, password.expose());
        crate::telemetry::login_failed();
        return Err(CoreError::Refused(Refusal::UnknownAccount));
    };
    throttle.login(credentials.user.account_id)?;
    locked_out(conn, credentials.user.account_id, from, now)?;
    if verify_password(Some(&credentials.password_hash), password.expose()).is_err() {
        crate::telemetry::login_failed();
        relations::record_login_failure(conn, credentials.user.account_id, &from.0, now)?;
        return Err(CoreError::Refused(Refusal::WrongPassword));
    }
    Ok(credentials.user)
}

/// Where a login attempt comes from: the client's address as text, empty
/// when unknown (the CLI, in-process tests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin(String);

impl Origin {
    /// An attempt from `address`.
    pub fn of(address: Option<std::net::IpAddr>) -> Self {
        Self(address.map(|a| a.to_string()).unwrap_or_default())
    }
}

/// Whom `user/auth` switches to: all digits is a uid, anything else a username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    /// By numeric uid.
    Uid(i64),
    /// By username.
    Username(String),
}

impl UserRef {
    /// Reads Fresns' `uidOrUsername`.
    pub fn parse(raw: &str) -> Self {
        match raw.parse::<i64>() {
            Ok(uid) if raw.chars().all(|c| c.is_ascii_digit()) => Self::Uid(uid),
            _ => Self::Username(raw.to_owned()),
        }
    }
}

/// A profile by reference, deleted or not.
///
/// # Errors
/// Storage failures.
pub fn find_user(conn: &mut DbConn, reference: &UserRef) -> Result<Option<User>, CoreError> {
    Ok(match reference {
        UserRef::Uid(uid) => accounts::find_by_uid(conn, *uid)?,
        UserRef::Username(name) => accounts::find_by_username(conn, name)?,
    })
}

/// Switches a logged-in account to one of its profiles, checking the profile's
/// own password when it has one.
///
/// # Errors
/// [`Refusal::UnknownUser`], [`Refusal::UserNotOfAccount`],
/// [`Refusal::TooManyAttempts`], [`Refusal::PasswordRequired`],
/// [`Refusal::WrongUserPassword`].
pub fn switch_user(
    conn: &mut DbConn,
    account: &User,
    target: &UserRef,
    password: Option<&PlainPassword>,
    from: &Origin,
    now: DateTime<Utc>,
) -> Result<User, CoreError> {
    let user = find_user(conn, target)?
        .filter(|u| !u.deleted)
        .ok_or(CoreError::Refused(Refusal::UnknownUser))?;
    if user.account_id != account.account_id {
        return Err(CoreError::Refused(Refusal::UserNotOfAccount));
    }
    locked_out(conn, user.account_id, from, now)?;
    if let Some(hash) = accounts::profile_password_hash(conn, user.id)? {
        let offered = password.ok_or(CoreError::Refused(Refusal::PasswordRequired))?;
        if verify_password(Some(&hash), offered.expose()).is_err() {
            crate::telemetry::login_failed();
            relations::record_login_failure(conn, user.account_id, &from.0, now)?;
            return Err(CoreError::Refused(Refusal::WrongUserPassword));
        }
    }
    Ok(user)
}
