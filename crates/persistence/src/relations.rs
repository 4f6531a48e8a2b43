//! Who follows and blocks whom (read by the messaging permission; there is no
//! follow API yet), and recent login failures (for throttling).

use chrono::{DateTime, Utc};
use colloq_domain::ids::{AccountId, UserId};
use diesel::prelude::*;

use crate::schema::{blocks, follows, login_failures};
use crate::{DbConn, StoreError, to_db_time};

/// The two facts of the messaging rule as SQL: whether `recipient` follows
/// `sender`, and whether `recipient` blocked `sender`. A message page reads
/// them with its conversation instead (`conversations::find_for_viewer`).
#[diesel::dsl::auto_type(no_type_alias)]
fn standing_of(recipient: i64, sender: i64) -> _ {
    (
        diesel::dsl::exists(
            follows::table
                .filter(follows::follower_id.eq(recipient))
                .filter(follows::followee_id.eq(sender)),
        ),
        diesel::dsl::exists(
            blocks::table
                .filter(blocks::blocker_id.eq(recipient))
                .filter(blocks::blocked_id.eq(sender)),
        ),
    )
}

/// Whether `recipient` follows `sender`, and whether `recipient` blocked
/// `sender`: the two facts of the messaging rule, in one read.
///
/// # Errors
/// Query failures.
pub fn standing(
    conn: &mut DbConn,
    recipient: UserId,
    sender: UserId,
) -> Result<(bool, bool), StoreError> {
    native!(conn, |c| diesel::select(standing_of(
        recipient.get(),
        sender.get()
    ))
    .get_result(c))
    .map_err(StoreError::from)
}

/// Records that `follower` follows `followee`.
///
/// # Errors
/// [`StoreError::Conflict`] when already recorded.
pub fn follow(
    conn: &mut DbConn,
    follower: UserId,
    followee: UserId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(follows::table)
        .values((
            follows::follower_id.eq(follower.get()),
            follows::followee_id.eq(followee.get()),
            follows::created_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records that `blocker` blocks `blocked`.
///
/// # Errors
/// [`StoreError::Conflict`] when already recorded.
pub fn block(
    conn: &mut DbConn,
    blocker: UserId,
    blocked: UserId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(blocks::table)
        .values((
            blocks::blocker_id.eq(blocker.get()),
            blocks::blocked_id.eq(blocked.get()),
            blocks::created_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a failed login of an account from a client address (empty when
/// unknown).
///
/// # Errors
/// Query failures.
pub fn record_login_failure(
    conn: &mut DbConn,
    account: AccountId,
    address: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::account_id.eq(account.get()),
            login_failures::address.eq(address),
            login_failures::created_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Failed logins of an account from one client address since `since`.
///
/// # Errors
/// Query failures.
pub fn login_failures_since(
    conn: &mut DbConn,
    account: AccountId,
    address: &str,
    since: DateTime<Utc>,
) -> Result<i64, StoreError> {
    login_failures::table
        .filter(login_failures::account_id.eq(account.get()))
        .filter(login_failures::address.eq(address))
        .filter(login_failures::created_at.ge(to_db_time(since)))
        .count()
        .get_result(conn)
        .map_err(StoreError::from)
}
