//! Session tokens: issue, authenticate, revoke. A token is bound to a scope
//! (whom it speaks for, how it was opened) so a token of one kind cannot be
//! replayed as another.

use chrono::{DateTime, Duration, Utc};
use colloq_auth::token::{IssuedToken, hash_token};
use colloq_domain::client::AppKey;
use colloq_domain::ids::{AccountId, UserId};
use colloq_domain::user::{User, ViewerId};
use colloq_persistence::accounts::{Holder, UserWithTokens};
use colloq_persistence::tokens::TokenRecord;
use colloq_persistence::{DbConn, accounts, tokens};

use crate::Refusal;

use crate::CoreError;

/// Whom a session speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// One user profile.
    Profile,
    /// A member of the site's staff (a profile with staff rights).
    Staff,
    /// An account, with whichever of its profiles it chooses next.
    Account,
}

/// How a session was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// At the site's own login: the client holds a bearer token.
    Site,
    /// Through a client app's key: every request is signed, and the token is
    /// bound to the key's platform.
    App,
}

/// What a token may be used for: whom it speaks for and how it was opened.
/// A token of one scope never works as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenScope {
    /// Whom it speaks for.
    pub kind: SessionKind,
    /// How it was opened.
    pub channel: Channel,
}

impl TokenScope {
    /// A profile logged in at the site.
    pub const SITE_PROFILE: Self = Self::new(SessionKind::Profile, Channel::Site);
    /// Staff logged in at the site.
    pub const SITE_STAFF: Self = Self::new(SessionKind::Staff, Channel::Site);
    /// An account logged in through an app.
    pub const APP_ACCOUNT: Self = Self::new(SessionKind::Account, Channel::App);
    /// A profile chosen through an app.
    pub const APP_PROFILE: Self = Self::new(SessionKind::Profile, Channel::App);

    /// The scope of this kind, opened this way.
    pub const fn new(kind: SessionKind, channel: Channel) -> Self {
        Self { kind, channel }
    }

    /// The stored name. The four scopes colloq issues keep the names they
    /// were first stored under (from the dialects that first issued them), so
    /// tokens issued before keep working.
    fn as_str(self) -> &'static str {
        match (self.kind, self.channel) {
            (SessionKind::Profile, Channel::Site) => "anqicms:user",
            (SessionKind::Staff, Channel::Site) => "anqicms:staff",
            (SessionKind::Account, Channel::App) => "fresns:account",
            (SessionKind::Profile, Channel::App) => "fresns:user",
            (SessionKind::Account, Channel::Site) => "site:account",
            (SessionKind::Staff, Channel::App) => "app:staff",
        }
    }
}

/// A token just issued: the secret goes to the client once.
#[derive(Debug)]
pub struct Session {
    /// The token.
    pub token: IssuedToken,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Issues and stores a token for `user`.
///
/// # Errors
/// Storage or random-source failures.
pub fn issue(
    conn: &mut DbConn,
    user: &User,
    scope: TokenScope,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<Session, CoreError> {
    issue_for(conn, user.account_id, user.id, scope, ttl, now)
}

/// [`issue`] for a holder known by id (a renewal after [`authenticate_id`]).
///
/// # Errors
/// Storage or random-source failures.
pub fn issue_for(
    conn: &mut DbConn,
    account: AccountId,
    user: UserId,
    scope: TokenScope,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<Session, CoreError> {
    let token = IssuedToken::generate()?;
    let expires_at = now + ttl;
    tokens::insert(
        conn,
        tokens::NewToken {
            hash: token.hash(),
            account,
            user: Some(user),
            scope: scope.as_str(),
            expires_at,
            platform_id: None,
            app_id: None,
            parent_hash: None,
        },
        now,
    )?;
    Ok(Session { token, expires_at })
}

/// The person a valid token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// Who.
    pub user: User,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
}

/// Checks a token presented by a client: it must exist, have this scope and not
/// be expired. `Ok(None)` means "not logged in" whatever the reason.
///
/// # Errors
/// Storage failures only.
pub fn authenticate(
    conn: &mut DbConn,
    presented: &str,
    scope: TokenScope,
    now: DateTime<Utc>,
) -> Result<Option<Authenticated>, CoreError> {
    let Some((token_scope, expires_at, user)) =
        accounts::find_by_token(conn, &hash_token(presented))?
    else {
        return Ok(None);
    };
    Ok(accepts(scope, &token_scope, expires_at, user.is_staff, now)
        .then_some(Authenticated { user, expires_at }))
}

/// Whether a stored token of `token_scope` works as `scope` at `now`.
fn accepts(
    scope: TokenScope,
    token_scope: &str,
    expires_at: DateTime<Utc>,
    is_staff: bool,
    now: DateTime<Utc>,
) -> bool {
    // A staff token stops working the moment the account loses staff rights.
    token_scope == scope.as_str()
        && expires_at > now
        && (scope.kind != SessionKind::Staff || is_staff)
}

/// A token's holder by id, for the reads that only check access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthenticatedId {
    /// Who.
    pub viewer: ViewerId,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
}

/// [`authenticate`] without loading the profile, with the same answers; a
/// staff-scope token yields a staff viewer.
///
/// # Errors
/// Storage failures only.
pub fn authenticate_id(
    conn: &mut DbConn,
    presented: &str,
    scope: TokenScope,
    now: DateTime<Utc>,
) -> Result<Option<AuthenticatedId>, CoreError> {
    let Some(holder) = accepted_holder(conn, &hash_token(presented), scope, now)? else {
        return Ok(None);
    };
    Ok(Some(AuthenticatedId {
        viewer: ViewerId {
            user: holder.user,
            account: holder.account,
            as_staff: scope.kind == SessionKind::Staff,
        },
        expires_at: holder.expires_at,
    }))
}

/// Names one session (the stored hash of its token, never the token): what
/// a logout tells every node so that the session's event streams close.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionKey(String);

impl SessionKey {
    /// The session of a presented token.
    pub fn of(presented: &str) -> Self {
        Self(hash_token(presented))
    }

    /// The key as text (hex), for the event bus.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A key read back from the event bus.
    pub fn from_text(text: &str) -> Self {
        Self(text.to_owned())
    }
}

/// Revokes a token. Returns its session, when it existed.
///
/// # Errors
/// Storage failures.
pub fn revoke(conn: &mut DbConn, presented: &str) -> Result<Option<SessionKey>, CoreError> {
    let key = SessionKey::of(presented);
    Ok(tokens::delete(conn, &key.0)?.then_some(key))
}

/// Issues a stream ticket for the session of `presented` (already
/// authenticated by the caller): a single-use secret, good for `ttl`, that
/// opens an event stream as that session where headers cannot be sent.
///
/// # Errors
/// Storage or random-source failures.
pub fn issue_ticket(
    conn: &mut DbConn,
    presented: &str,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<IssuedToken, CoreError> {
    let ticket = IssuedToken::generate()?;
    tokens::insert_ticket(conn, ticket.hash(), &hash_token(presented), now + ttl)?;
    Ok(ticket)
}

/// Who a redeemed ticket stands for, and their session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketHolder {
    /// Who, as their session authenticates them now.
    pub who: Authenticated,
    /// The scope of the session the ticket was issued under.
    pub scope: TokenScope,
    /// The session.
    pub session: SessionKey,
}

/// Redeems a stream ticket (it works once). `None` when it is unknown, used,
/// expired, or its session no longer authenticates as one of `scopes`.
///
/// # Errors
/// Storage failures.
pub fn redeem_ticket(
    conn: &mut DbConn,
    ticket: &str,
    scopes: &[TokenScope],
    now: DateTime<Utc>,
) -> Result<Option<TicketHolder>, CoreError> {
    let Some(session) = tokens::take_ticket(conn, &hash_token(ticket), now)? else {
        return Ok(None);
    };
    let session = SessionKey(session);
    let Some((token_scope, expires_at, user)) = accounts::find_by_token(conn, &session.0)? else {
        return Ok(None);
    };
    let scope = scopes
        .iter()
        .copied()
        .find(|scope| accepts(*scope, &token_scope, expires_at, user.is_staff, now));
    Ok(scope.map(|scope| TicketHolder {
        who: Authenticated { user, expires_at },
        scope,
        session,
    }))
}

/// Whether a session still authenticates as `scope`: an open stream asks
/// now and then, so a session revoked or expired in any way ends its streams
/// even if the logout's message never reached this node.
///
/// # Errors
/// Storage failures.
pub fn still_valid(
    conn: &mut DbConn,
    session: &SessionKey,
    scope: TokenScope,
    now: DateTime<Utc>,
) -> Result<bool, CoreError> {
    Ok(accepted_holder(conn, &session.0, scope, now)?.is_some())
}

/// The holder of the token with this hash, when it works as `scope` at `now`.
fn accepted_holder(
    conn: &mut DbConn,
    hash: &str,
    scope: TokenScope,
    now: DateTime<Utc>,
) -> Result<Option<accounts::TokenHolder>, CoreError> {
    Ok(accounts::find_token_holder(conn, hash)?.filter(|holder| {
        accepts(
            scope,
            &holder.scope,
            holder.expires_at,
            holder.is_staff,
            now,
        )
    }))
}

/// Removes expired tokens; returns how many. Expired tokens are already refused,
/// so this only keeps the table small (the server runs it at start-up).
///
/// # Errors
/// Storage failures.
pub fn purge_expired(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, CoreError> {
    Ok(tokens::purge_expired(conn, now)?)
}

/// Which client app a token is issued through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issuer<'a> {
    /// The client's platform.
    pub platform_id: i32,
    /// The app key's id.
    pub app_id: &'a str,
    /// The key's token lifetime; `None` = until logout.
    pub ttl: Option<Duration>,
}

/// A session opened through an app key: the token and, when it expires at
/// all (the key decides), when.
#[derive(Debug)]
pub struct AppSession {
    /// The token.
    pub token: IssuedToken,
    /// `None` when it lives until logout.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Tokens without a lifetime are stored with one far beyond any use.
const FOREVER_DAYS: i64 = 365 * 100;

fn issue_through_app(
    conn: &mut DbConn,
    user: &User,
    scope: TokenScope,
    parent: Option<&str>,
    issuer: Issuer<'_>,
    now: DateTime<Utc>,
) -> Result<AppSession, CoreError> {
    let token = IssuedToken::generate()?;
    let expires_at = issuer.ttl.map(|ttl| now + ttl);
    let parent_hash = parent.map(hash_token);
    tokens::insert(
        conn,
        tokens::NewToken {
            hash: token.hash(),
            account: user.account_id,
            user: (scope.kind == SessionKind::Profile).then_some(user.id),
            scope: scope.as_str(),
            expires_at: expires_at.unwrap_or(now + Duration::days(FOREVER_DAYS)),
            platform_id: Some(issuer.platform_id),
            app_id: Some(issuer.app_id),
            parent_hash: parent_hash.as_deref(),
        },
        now,
    )?;
    Ok(AppSession { token, expires_at })
}

/// Issues an account token through an app (after a login).
///
/// # Errors
/// Storage or random-source failures.
pub fn issue_account_token(
    conn: &mut DbConn,
    account: &User,
    issuer: Issuer<'_>,
    now: DateTime<Utc>,
) -> Result<AppSession, CoreError> {
    issue_through_app(conn, account, TokenScope::APP_ACCOUNT, None, issuer, now)
}

/// Issues a profile token through an app under an account token (after the
/// account chooses a profile); logout
/// of the account token revokes it too.
///
/// # Errors
/// Storage or random-source failures.
pub fn issue_user_token(
    conn: &mut DbConn,
    account_token: &str,
    user: &User,
    issuer: Issuer<'_>,
    now: DateTime<Utc>,
) -> Result<AppSession, CoreError> {
    issue_through_app(
        conn,
        user,
        TokenScope::APP_PROFILE,
        Some(account_token),
        issuer,
        now,
    )
}

/// Checks an account (by its public id) and its app token, in the order the
/// app dialect reports failures.
///
/// # Errors
/// [`Refusal::UnknownAccount`], [`Refusal::AccountTokenInvalid`],
/// [`Refusal::TokenPlatformMismatch`] or [`Refusal::TokenExpired`].
pub fn verify_account_token(
    conn: &mut DbConn,
    aid: &str,
    token: &str,
    platform_id: i32,
    now: DateTime<Utc>,
) -> Result<User, CoreError> {
    let (account, record) =
        accounts::find_with_token(conn, Holder::Account(aid), &hash_token(token))?
            .ok_or(CoreError::Refused(Refusal::UnknownAccount))?;
    check_account_token(account.account_id, record, platform_id, now)?;
    Ok(account)
}

/// [`verify_account_token`] when only the account's id is needed (a request
/// acting as one of its users): the same checks and answers, without reading
/// the account's primary profile.
///
/// # Errors
/// As [`verify_account_token`].
pub fn verify_account_token_id(
    conn: &mut DbConn,
    aid: &str,
    token: &str,
    platform_id: i32,
    now: DateTime<Utc>,
) -> Result<AccountId, CoreError> {
    let (account, record) = accounts::find_account_with_token(conn, aid, &hash_token(token))?
        .ok_or(CoreError::Refused(Refusal::UnknownAccount))?;
    check_account_token(account, record, platform_id, now)?;
    Ok(account)
}

fn check_account_token(
    account: AccountId,
    record: Option<TokenRecord>,
    platform_id: i32,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    let record = record
        .filter(|r| r.scope == TokenScope::APP_ACCOUNT.as_str() && r.account == account)
        .ok_or(CoreError::Refused(Refusal::AccountTokenInvalid))?;
    check_platform_and_expiry(record.platform_id, platform_id, record.expires_at, now)
}

/// Checks a profile's app token (by the profile's public id), after the token
/// of `account` passed.
///
/// # Errors
/// [`Refusal::UserTokenInvalid`], [`Refusal::TokenPlatformMismatch`] or
/// [`Refusal::TokenExpired`].
pub fn verify_user_token(
    conn: &mut DbConn,
    account: AccountId,
    uid: i64,
    token: &str,
    platform_id: i32,
    now: DateTime<Utc>,
) -> Result<User, CoreError> {
    let (user, record) = accounts::find_with_token(conn, Holder::Profile(uid), &hash_token(token))?
        .ok_or(CoreError::Refused(Refusal::UserTokenInvalid))?;
    check_user_token(account, user, record, platform_id, now)
}

fn check_user_token(
    account: AccountId,
    user: User,
    record: Option<TokenRecord>,
    platform_id: i32,
    now: DateTime<Utc>,
) -> Result<User, CoreError> {
    let record = record
        .filter(|r| {
            r.scope == TokenScope::APP_PROFILE.as_str()
                && r.account == account
                && r.user == Some(user.id)
        })
        .ok_or(CoreError::Refused(Refusal::UserTokenInvalid))?;
    check_platform_and_expiry(record.platform_id, platform_id, record.expires_at, now)?;
    Ok(user)
}

/// The account and profile sessions of an app request acting as a profile, as
/// its headers give them. `Debug` never shows the tokens.
#[derive(Clone, Copy)]
pub struct UserSessions<'a> {
    /// The account's public id.
    pub aid: &'a str,
    /// The account token.
    pub aid_token: &'a str,
    /// The profile's public id.
    pub uid: i64,
    /// The profile token.
    pub uid_token: &'a str,
}

impl std::fmt::Debug for UserSessions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserSessions")
            .field("aid", &self.aid)
            .field("uid", &self.uid)
            .finish_non_exhaustive()
    }
}

/// What an app request acting as a profile presented, as [`read_user_request`]
/// found it; checked by [`verify_account_and_user`], which reads for itself
/// when the read found no such profile.
#[derive(Debug)]
pub struct Presented(Option<UserWithTokens>);

/// The app key with this id and what the request acting as user `uid`
/// presents, in one read (a request acting as a user is most requests, and on
/// PostgreSQL each read is a round trip). `None` for the key when there is no
/// such key.
///
/// # Errors
/// Storage failures.
pub fn read_user_request(
    conn: &mut DbConn,
    app_id: &str,
    sessions: UserSessions<'_>,
) -> Result<(Option<AppKey>, Presented), CoreError> {
    let found = accounts::find_key_and_user(
        conn,
        app_id,
        sessions.uid,
        &hash_token(sessions.aid_token),
        &hash_token(sessions.uid_token),
    )?;
    Ok(found.map_or((None, Presented(None)), |(key, presented)| {
        (Some(key), Presented(presented))
    }))
}

/// [`verify_account_token_id`] then [`verify_user_token`], with the same
/// answers, without reading again when the request's read found the uid to
/// be its account's primary profile (the usual case: most accounts have one
/// user). Otherwise, or when the uid belongs to another account, the two
/// reads run as they are, so every refusal stays exactly theirs.
///
/// `presented` must have been read for these `sessions`.
///
/// # Errors
/// As [`verify_account_token_id`], then as [`verify_user_token`].
pub fn verify_account_and_user(
    conn: &mut DbConn,
    presented: Presented,
    sessions: UserSessions<'_>,
    platform_id: i32,
    now: DateTime<Utc>,
) -> Result<(AccountId, User), CoreError> {
    let UserSessions {
        aid,
        aid_token,
        uid,
        uid_token,
    } = sessions;
    // A primary profile whose account has this aid is exactly what the
    // account read finds by aid, and the profile is what the user read finds
    // by uid: both checks see the records they would have read.
    if let Presented(Some(found)) = presented
        && found.primary
        && found.user.aid == aid
    {
        let account = found.user.account_id;
        check_account_token(account, found.account_token, platform_id, now)?;
        let user = check_user_token(account, found.user, found.user_token, platform_id, now)?;
        return Ok((account, user));
    }
    let account = verify_account_token_id(conn, aid, aid_token, platform_id, now)?;
    let user = verify_user_token(conn, account, uid, uid_token, platform_id, now)?;
    Ok((account, user))
}

fn check_platform_and_expiry(
    stored: Option<i32>,
    presented: i32,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    if stored != Some(presented) {
        return Err(CoreError::Refused(Refusal::TokenPlatformMismatch));
    }
    if expires_at <= now {
        return Err(CoreError::Refused(Refusal::TokenExpired));
    }
    Ok(())
}

/// Revokes an account's app token and every profile token issued under it.
///
/// # Errors
/// Storage failures.
pub fn revoke_account_token(conn: &mut DbConn, token: &str) -> Result<Vec<SessionKey>, CoreError> {
    let revoked = tokens::delete_family(conn, &hash_token(token))?;
    Ok(revoked.into_iter().map(SessionKey).collect())
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};

    use super::{Channel, SessionKind, TokenScope, accepts};

    #[test]
    fn scopes_keep_their_stored_names_and_never_stand_in_for_each_other() {
        // Tokens issued before the scopes were named by kind keep working.
        let stored = [
            (TokenScope::SITE_PROFILE, "anqicms:user"),
            (TokenScope::SITE_STAFF, "anqicms:staff"),
            (TokenScope::APP_ACCOUNT, "fresns:account"),
            (TokenScope::APP_PROFILE, "fresns:user"),
        ];
        let now = Utc::now();
        let later = now + Duration::hours(1);
        for (scope, name) in stored {
            assert_eq!(scope.as_str(), name);
            for (other, other_name) in stored {
                assert_eq!(accepts(scope, other_name, later, true, now), scope == other);
            }
        }
        assert_eq!(
            TokenScope::new(SessionKind::Profile, Channel::App),
            TokenScope::APP_PROFILE
        );
        // Expired, or staff without staff rights: refused.
        assert!(!accepts(
            TokenScope::SITE_PROFILE,
            "anqicms:user",
            now,
            false,
            now
        ));
        assert!(!accepts(
            TokenScope::SITE_STAFF,
            "anqicms:staff",
            later,
            false,
            now
        ));
        assert!(accepts(
            TokenScope::SITE_PROFILE,
            "anqicms:user",
            later,
            false,
            now
        ));
    }
}
