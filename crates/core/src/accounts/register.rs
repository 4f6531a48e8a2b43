use chrono::{DateTime, Utc};
use colloq_auth::password::hash_password;
use colloq_auth::token::{random_in, random_string};
use colloq_domain::user::{NewUser, User};
use colloq_persistence::accounts::{self, NewAccount, Taken};
use colloq_persistence::{DbConn, write_transaction};

use crate::CoreError;

const AID_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Creates an account with its primary profile.
///
/// The password is hashed before the transaction starts, so the write lock is
/// never held during the deliberately slow hash.
///
/// # Errors
/// [`CoreError::Taken`] naming `user_name`, `email` or `phone`; storage failures.
pub fn register(conn: &mut DbConn, new: NewUser, now: DateTime<Utc>) -> Result<User, CoreError> {
    let password_hash = hash_password(new.password.expose())?;
    let aid = random_string(AID_ALPHABET, 8)?;
    // Fresns shows uids as 8-digit numbers; a collision only costs a retry by the
    // client (the unique index refuses it as a conflict).
    let uid = random_in(10_000_000, 100_000_000)?;
    let username = new.username.as_ref();
    let email = new.email.as_ref().map(AsRef::as_ref);
    let phone = new.phone.as_ref().map(AsRef::as_ref);
    write_transaction(conn, |conn| {
        if let Some(taken) = accounts::first_taken(conn, username, email, phone)? {
            return Err(CoreError::Taken(match taken {
                Taken::Username => "user_name",
                Taken::Email => "email",
                Taken::Phone => "phone",
            }));
        }
        let account = NewAccount {
            aid: &aid,
            uid,
            username,
            nickname: new.nickname.as_deref().unwrap_or(username),
            email,
            phone,
            password_hash: &password_hash,
            is_staff: new.is_staff,
        };
        Ok(accounts::create(conn, account, now)?)
    })
}
