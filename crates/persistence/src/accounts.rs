//! Accounts and their user profiles.

use chrono::{DateTime, NaiveDateTime, Utc};
use colloq_domain::conversation::ConversationLimit;
use colloq_domain::ids::{AccountId, UserId};
use colloq_domain::user::{LoginName, User};
use diesel::prelude::*;

use crate::app_keys::AppKeyRow;
use crate::schema::{accounts, app_keys, auth_tokens, users};
use crate::stamp::Stamp;
use crate::tokens::{TokenRecord, TokenRow, token_columns};
use crate::{DbConn, StoreError, from_db_time, to_db_time};
use colloq_domain::client::AppKey;

#[derive(Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub(crate) struct AccountRow {
    id: i64,
    aid: String,
    email: Option<String>,
    phone: Option<String>,
    is_staff: bool,
    created_at: Stamp,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    id: i64,
    uid: i64,
    username: String,
    nickname: String,
    avatar_url: String,
    updated_at: Stamp,
    // Whether the profile has its own password; the hash itself is only read
    // where it is checked (Credentials, profile_password_hash).
    #[diesel(select_expression = users::password_hash.is_not_null())]
    #[diesel(select_expression_type = diesel::dsl::IsNotNull<users::password_hash>)]
    has_password: bool,
    conversation_limit: i32,
    is_enabled: bool,
    is_verified: bool,
    #[diesel(select_expression = users::deleted_at.is_not_null())]
    #[diesel(select_expression_type = diesel::dsl::IsNotNull<users::deleted_at>)]
    deleted: bool,
}

pub(crate) fn to_user((user, account): (UserRow, AccountRow)) -> User {
    User {
        id: UserId(user.id),
        uid: user.uid,
        account_id: AccountId(account.id),
        aid: account.aid,
        username: user.username,
        nickname: user.nickname,
        avatar_url: user.avatar_url,
        email: account.email,
        phone: account.phone,
        is_staff: account.is_staff,
        conversation_limit: ConversationLimit::from_code(user.conversation_limit),
        enabled: user.is_enabled,
        verified: user.is_verified,
        deleted: user.deleted,
        has_password: user.has_password,
        created_at: from_db_time(account.created_at),
        updated_at: from_db_time(user.updated_at),
    }
}

/// One profile with its account, by any filter on the joined tables.
macro_rules! user_where {
    ($conn:expr, $filter:expr) => {
        native!($conn, |c| users::table
            .inner_join(accounts::table)
            .filter($filter)
            .select((UserRow::as_select(), AccountRow::as_select()))
            .first(c)
            .optional())
        .map(|row| row.map(to_user))
        .map_err(StoreError::from)
    };
}

/// The stored parts of a new account with its primary profile.
#[derive(Debug, Clone, Copy)]
pub struct NewAccount<'a> {
    /// Public account id (Fresns `aid`).
    pub aid: &'a str,
    /// Public profile id (Fresns `uid`).
    pub uid: i64,
    /// Login and profile name.
    pub username: &'a str,
    /// Display name.
    pub nickname: &'a str,
    /// E-mail, if any.
    pub email: Option<&'a str>,
    /// Phone, if any.
    pub phone: Option<&'a str>,
    /// The PHC string of the password hash.
    pub password_hash: &'a str,
    /// Staff account.
    pub is_staff: bool,
}

/// Inserts an account and its primary profile. Call inside a transaction.
///
/// # Errors
/// [`StoreError::Conflict`] when a unique value (username, e-mail, phone, aid,
/// uid) is taken.
pub fn create(
    conn: &mut DbConn,
    new: NewAccount<'_>,
    now: DateTime<Utc>,
) -> Result<User, StoreError> {
    let now = to_db_time(now);
    let account_id: i64 = diesel::insert_into(accounts::table)
        .values((
            accounts::aid.eq(new.aid),
            accounts::email.eq(new.email),
            accounts::phone.eq(new.phone),
            accounts::password_hash.eq(new.password_hash),
            accounts::is_staff.eq(new.is_staff),
            accounts::created_at.eq(now),
            accounts::updated_at.eq(now),
        ))
        .returning(accounts::id)
        .get_result(conn)?;
    let user_id: i64 = diesel::insert_into(users::table)
        .values((
            users::account_id.eq(account_id),
            users::uid.eq(new.uid),
            users::username.eq(new.username),
            users::nickname.eq(new.nickname),
            users::is_primary.eq(true),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .returning(users::id)
        .get_result(conn)?;
    find(conn, UserId(user_id))?.ok_or(StoreError::NotFound)
}

/// The user with this profile id.
///
/// # Errors
/// Query failures.
pub fn find(conn: &mut DbConn, id: UserId) -> Result<Option<User>, StoreError> {
    user_where!(conn, users::id.eq(id.get()))
}

/// The primary profile of an account.
///
/// # Errors
/// Query failures.
pub fn find_by_account(conn: &mut DbConn, id: AccountId) -> Result<Option<User>, StoreError> {
    user_where!(
        conn,
        users::account_id
            .eq(id.get())
            .and(users::is_primary.eq(true))
    )
}

/// A user with the stored password hash, for login.
#[derive(Debug)]
pub struct Credentials {
    /// The person.
    pub user: User,
    /// The PHC string to verify against.
    pub password_hash: String,
}

/// Finds the login record for a user name, e-mail or phone.
///
/// # Errors
/// Query failures.
pub fn find_credentials(
    conn: &mut DbConn,
    login: &LoginName,
) -> Result<Option<Credentials>, StoreError> {
    let query = users::table
        .inner_join(accounts::table)
        .filter(users::is_primary.eq(true))
        .select((
            UserRow::as_select(),
            AccountRow::as_select(),
            accounts::password_hash,
        ))
        .into_boxed();
    let query = match login {
        LoginName::Username(name) => query.filter(users::username.eq(name.as_str())),
        LoginName::Email(email) => query.filter(accounts::email.eq(email.as_ref())),
        LoginName::Phone(phone) => query.filter(accounts::phone.eq(phone.as_ref())),
    };
    query
        .first::<(UserRow, AccountRow, String)>(conn)
        .optional()
        .map(|row| {
            row.map(|(user, account, password_hash)| Credentials {
                user: to_user((user, account)),
                password_hash,
            })
        })
        .map_err(StoreError::from)
}

/// Which unique value of a new account is already taken, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// The user name.
    Username,
    /// The e-mail address.
    Email,
    /// The phone number.
    Phone,
}

/// Checks the unique values of a new account before inserting it, so the caller
/// can say which one is taken (a constraint error alone cannot, portably).
///
/// # Errors
/// Query failures.
pub fn first_taken(
    conn: &mut DbConn,
    username: &str,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<Option<Taken>, StoreError> {
    let name_taken: bool = diesel::select(diesel::dsl::exists(
        users::table.filter(users::username.eq(username)),
    ))
    .get_result(conn)?;
    if name_taken {
        return Ok(Some(Taken::Username));
    }
    if let Some(email) = email {
        let taken: bool = diesel::select(diesel::dsl::exists(
            accounts::table.filter(accounts::email.eq(email)),
        ))
        .get_result(conn)?;
        if taken {
            return Ok(Some(Taken::Email));
        }
    }
    if let Some(phone) = phone {
        let taken: bool = diesel::select(diesel::dsl::exists(
            accounts::table.filter(accounts::phone.eq(phone)),
        ))
        .get_result(conn)?;
        if taken {
            return Ok(Some(Taken::Phone));
        }
    }
    Ok(None)
}

/// A profile by its public numeric id (Fresns `uid`), deleted or not.
///
/// # Errors
/// Query failures.
pub fn find_by_uid(conn: &mut DbConn, uid: i64) -> Result<Option<User>, StoreError> {
    user_where!(conn, users::uid.eq(uid))
}

/// A profile by username, deleted or not.
///
/// # Errors
/// Query failures.
pub fn find_by_username(conn: &mut DbConn, username: &str) -> Result<Option<User>, StoreError> {
    user_where!(conn, users::username.eq(username))
}

/// All profiles of an account, primary first.
///
/// # Errors
/// Query failures.
pub fn users_of(conn: &mut DbConn, account: AccountId) -> Result<Vec<User>, StoreError> {
    users::table
        .inner_join(accounts::table)
        .filter(users::account_id.eq(account.get()))
        .order((users::is_primary.desc(), users::id.asc()))
        .select((UserRow::as_select(), AccountRow::as_select()))
        .load(conn)
        .map(|rows| rows.into_iter().map(to_user).collect())
        .map_err(StoreError::from)
}

/// The PHC hash of a profile's own password, if it has one.
///
/// # Errors
/// Query failures.
pub fn profile_password_hash(conn: &mut DbConn, id: UserId) -> Result<Option<String>, StoreError> {
    users::table
        .find(id.get())
        .select(users::password_hash)
        .first::<Option<String>>(conn)
        .optional()
        .map(Option::flatten)
        .map_err(StoreError::from)
}

/// Profile settings that have no API yet (operators and tests set them).
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct ProfileChanges {
    /// Who may message the user (`ConversationLimit` code).
    pub conversation_limit: Option<i32>,
    /// Banned or not.
    pub is_enabled: Option<bool>,
    /// Verified or not.
    pub is_verified: Option<bool>,
    /// Deletion time (`Some(None)` restores).
    pub deleted_at: Option<Option<NaiveDateTime>>,
    /// The profile's own password hash.
    pub password_hash: Option<Option<String>>,
}

/// Applies profile settings.
///
/// # Errors
/// Query failures.
pub fn update_profile(
    conn: &mut DbConn,
    id: UserId,
    changes: &ProfileChanges,
) -> Result<(), StoreError> {
    diesel::update(users::table.find(id.get()))
        .set(changes)
        .execute(conn)?;
    Ok(())
}

/// Whom a Fresns request's token belongs to: an account (`X-Fresns-Aid`, seen
/// through its primary profile) or one profile (`X-Fresns-Uid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder<'a> {
    /// The account with this public id.
    Account(&'a str),
    /// The profile with this public id.
    Profile(i64),
}

/// The profile a Fresns header names and, when a token with this hash exists,
/// that token's record (whoever it belongs to: the caller compares), in one
/// indexed read. Every Fresns request checks its account and user headers.
///
/// # Errors
/// Query failures.
pub fn find_with_token(
    conn: &mut DbConn,
    holder: Holder<'_>,
    hash: &str,
) -> Result<Option<(User, Option<TokenRecord>)>, StoreError> {
    macro_rules! read {
        ($filter:expr) => {
            native!(conn, |c| users::table
                .inner_join(accounts::table)
                .left_join(auth_tokens::table.on(auth_tokens::token_hash.eq(hash)))
                .filter($filter)
                .select((
                    UserRow::as_select(),
                    AccountRow::as_select(),
                    Option::<TokenRow>::as_select(),
                ))
                .first::<(UserRow, AccountRow, Option<TokenRow>)>(c)
                .optional())
        };
    }
    let row = match holder {
        Holder::Account(aid) => read!(accounts::aid.eq(aid).and(users::is_primary.eq(true))),
        Holder::Profile(uid) => read!(users::uid.eq(uid)),
    }?;
    Ok(row.map(|(user, account, token)| (to_user((user, account)), token.map(TokenRecord::from))))
}

/// [`find_with_token`] for an account (`X-Fresns-Aid`) by id only: the
/// account, when it exists with its primary profile, and the token's record.
/// A request acting as one of the account's users needs no more of it;
/// decoding the primary profile too showed in a Fresns page's profile.
///
/// # Errors
/// Query failures.
pub fn find_account_with_token(
    conn: &mut DbConn,
    aid: &str,
    hash: &str,
) -> Result<Option<(AccountId, Option<TokenRecord>)>, StoreError> {
    native!(conn, |c| users::table
        .inner_join(accounts::table)
        .left_join(auth_tokens::table.on(auth_tokens::token_hash.eq(hash)))
        .filter(accounts::aid.eq(aid).and(users::is_primary.eq(true)))
        .select((accounts::id, Option::<TokenRow>::as_select()))
        .first::<(i64, Option<TokenRow>)>(c)
        .optional())
    .map(|row| row.map(|(account, token)| (AccountId(account), token.map(TokenRecord::from))))
    .map_err(StoreError::from)
}

/// What a request acting as a user presents, read by [`find_key_and_user`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserWithTokens {
    /// The profile the uid header names.
    pub user: User,
    /// Whether it is its account's primary profile.
    pub primary: bool,
    /// The record of the account token's hash, whoever it belongs to.
    pub account_token: Option<TokenRecord>,
    /// The record of the user token's hash, whoever it belongs to.
    pub user_token: Option<TokenRecord>,
}

/// The query of [`find_key_and_user`], also explained by `plans::key_and_user`.
macro_rules! key_and_user {
    ($app_id:expr, $uid:expr, $account_hash:expr, $user_hash:expr) => {{
        // Owned binds: diesel's aliased joins need a `'static` query.
        let (account_token, user_token) =
            diesel::alias!(auth_tokens as account_token, auth_tokens as user_token);
        app_keys::table
            .left_join(users::table.on(users::uid.eq($uid)))
            .left_join(accounts::table.on(accounts::id.eq(users::account_id)))
            .left_join(
                account_token.on(account_token
                    .field(auth_tokens::token_hash)
                    .eq($account_hash.to_owned())),
            )
            .left_join(
                user_token.on(user_token
                    .field(auth_tokens::token_hash)
                    .eq($user_hash.to_owned())),
            )
            .filter(app_keys::app_id.eq($app_id.to_owned()))
            .select((
                AppKeyRow::as_select(),
                Option::<UserRow>::as_select(),
                Option::<AccountRow>::as_select(),
                users::is_primary.nullable(),
                account_token.fields(token_columns()).nullable(),
                user_token.fields(token_columns()).nullable(),
            ))
    }};
}
#[cfg(feature = "test-support")]
pub(crate) use key_and_user;

/// The app key with this id, the profile with this uid, and the records of
/// both presented tokens' hashes, in one read: everything a Fresns request
/// acting as a user checks when the profile is its account's primary one
/// (the caller compares). It replaces three statements, each a round trip
/// on PostgreSQL. `None` when there is no such key.
///
/// # Errors
/// Query failures.
pub fn find_key_and_user(
    conn: &mut DbConn,
    app_id: &str,
    uid: i64,
    account_hash: &str,
    user_hash: &str,
) -> Result<Option<(AppKey, Option<UserWithTokens>)>, StoreError> {
    native!(conn, |c| key_and_user!(
        app_id,
        uid,
        account_hash,
        user_hash
    )
    .first::<(
        AppKeyRow,
        Option<UserRow>,
        Option<AccountRow>,
        Option<bool>,
        Option<TokenRow>,
        Option<TokenRow>
    )>(c)
    .optional())
    .map(|row| {
        row.map(|(key, user, account, primary, account_token, user_token)| {
            let presented = user.zip(account).map(|profile| UserWithTokens {
                user: to_user(profile),
                primary: primary.unwrap_or(false),
                account_token: account_token.map(TokenRecord::from),
                user_token: user_token.map(TokenRecord::from),
            });
            (AppKey::from(key), presented)
        })
    })
    .map_err(StoreError::from)
}

/// The token with this hash joined to its profile and account, selecting
/// `$select` as `$row`: one definition of the join behind both token checks,
/// so that they accept exactly the same tokens.
macro_rules! token_row {
    ($conn:expr, $hash:expr, $select:expr, $row:ty) => {
        native!($conn, |c| auth_tokens::table
            .inner_join(users::table.inner_join(accounts::table))
            .filter(auth_tokens::token_hash.eq($hash))
            .select($select)
            .first::<$row>(c)
            .optional())
    };
}

/// A token bound to a profile and that profile, in one indexed read (the hot
/// path of every authenticated request): `(scope, expires_at, user)`.
///
/// # Errors
/// Query failures.
pub fn find_by_token(
    conn: &mut DbConn,
    hash: &str,
) -> Result<Option<(String, DateTime<Utc>, User)>, StoreError> {
    token_row!(
        conn,
        hash,
        (
            auth_tokens::scope,
            auth_tokens::expires_at,
            UserRow::as_select(),
            AccountRow::as_select(),
        ),
        (String, Stamp, UserRow, AccountRow)
    )
    .map(|row| {
        row.map(|(scope, expires, user, account)| {
            (scope, from_db_time(expires), to_user((user, account)))
        })
    })
    .map_err(StoreError::from)
}

/// A token's holder by id, as [`find_token_holder`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHolder {
    /// What the token may be used for.
    pub scope: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// The profile it acts as.
    pub user: UserId,
    /// The profile's account.
    pub account: AccountId,
    /// Whether the account is staff.
    pub is_staff: bool,
}

/// [`find_by_token`] without the profile: the token's scope and expiry and
/// who holds it, by id. The same joins, so a token answers here exactly when
/// it answers there; five columns instead of nineteen, the cheapest check
/// for the hottest AnQiCMS page.
///
/// # Errors
/// Query failures.
pub fn find_token_holder(conn: &mut DbConn, hash: &str) -> Result<Option<TokenHolder>, StoreError> {
    token_row!(
        conn,
        hash,
        (
            auth_tokens::scope,
            auth_tokens::expires_at,
            users::id,
            accounts::id,
            accounts::is_staff,
        ),
        (String, Stamp, i64, i64, bool)
    )
    .map(|row| {
        row.map(|(scope, expires_at, user, account, is_staff)| TokenHolder {
            scope,
            expires_at: from_db_time(expires_at),
            user: UserId(user),
            account: AccountId(account),
            is_staff,
        })
    })
    .map_err(StoreError::from)
}
