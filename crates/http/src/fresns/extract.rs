//! Who is calling, for the Fresns dialect. The `X-Fresns-*` headers are
//! validated when the request is extracted; the app key, signature and account
//! and user tokens are checked, always and in upstream's order (there is no mode
//! that trusts headers), at the start of the handler's own database call, so a
//! request costs one trip to the blocking pool, not two.
//!
//! Handlers state what they need in their signature ([`Me`]: account and user
//! logged in, [`AccountOnly`] or [`Client`]) and call [`Signed::run`]. Like
//! upstream, whose middleware runs before request validation, a handler moves
//! its parsed parameters into `run` and reports their errors after the checks.

use std::future::{Future, Ready, ready};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::{DateTime, Utc};
use colloq_core::sessions::UserSessions;
use colloq_core::{CoreError, app_keys, sessions};
use colloq_domain::client::{AppKey, KeyPurpose};
use colloq_domain::ids::AccountId;
use colloq_domain::user::User;
use colloq_persistence::DbConn;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::SignatureZone;
use super::codes::{Code, Lang};
use super::convert::{Render, UserInfoMemo};
use super::error::ApiError;
use super::headers::{self, ClientHeaders, HeaderProblem};
use super::time::TimeView;
use super::userinfo::KeyFilter;
use crate::AppState;

/// A request whose headers are valid; who sent it is settled by [`run`](Self::run).
pub(crate) struct Signed<W> {
    /// Shared with the blocking call that checks them: cloning the dozen
    /// header strings cost more than the reference count.
    headers: Arc<ClientHeaders>,
    pub(crate) view: TimeView,
    pub(crate) state: web::Data<AppState>,
    /// The User Info this server rendered recently (see [`UserInfoMemo`]).
    memo: web::Data<UserInfoMemo>,
    who: PhantomData<fn() -> W>,
}

/// Any client with a valid key and signature; tokens checked when sent.
pub(crate) type Client = Signed<Caller>;
/// A logged-in account (aid) and user (uid).
pub(crate) type Me = Signed<Myself>;
/// A logged-in account (aid); the user is not needed.
pub(crate) type AccountOnly = Signed<AccountHolder>;

/// The client app of a request whose key and signature passed.
#[derive(Debug)]
pub(crate) struct Caller {
    pub(crate) key: AppKey,
    pub(crate) platform_id: i32,
}

/// The sessions a request presented, each checked when present.
pub(crate) struct Sessions {
    account: Option<AccountId>,
    /// The account's primary profile, read only for a [`Who`] that needs it.
    account_profile: Option<User>,
    aid_token: Option<String>,
    user: Option<User>,
}

/// What a handler needs to know about its caller, or the refusal.
pub(crate) trait Who: Sized + Send + 'static {
    /// Whether the handler needs the account's primary profile. Most act as
    /// a user, for whom the account check needs only the account's id.
    const NEEDS_ACCOUNT_PROFILE: bool = false;

    fn from_checked(caller: Caller, sessions: Sessions) -> Result<Self, ApiError>;
}

impl Who for Caller {
    fn from_checked(caller: Caller, _sessions: Sessions) -> Result<Self, ApiError> {
        Ok(caller)
    }
}

/// The caller of a [`Me`] request.
#[derive(Debug)]
pub(crate) struct Myself {
    pub(crate) caller: Caller,
    pub(crate) user: User,
}

impl Who for Myself {
    fn from_checked(caller: Caller, sessions: Sessions) -> Result<Self, ApiError> {
        if sessions.account.is_none() {
            return Err(ApiError::Code(Code::AccountNotLoggedIn));
        }
        let user = sessions.user.ok_or(ApiError::Code(Code::UserNotLoggedIn))?;
        Ok(Self { caller, user })
    }
}

/// The caller of an [`AccountOnly`] request. `Debug` never shows the token.
pub(crate) struct AccountHolder {
    pub(crate) caller: Caller,
    pub(crate) account: User,
    pub(crate) aid_token: String,
}

impl std::fmt::Debug for AccountHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountHolder")
            .field("caller", &self.caller)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl Who for AccountHolder {
    const NEEDS_ACCOUNT_PROFILE: bool = true;

    fn from_checked(caller: Caller, sessions: Sessions) -> Result<Self, ApiError> {
        let (Some(account), Some(aid_token)) = (sessions.account_profile, sessions.aid_token)
        else {
            return Err(ApiError::Code(Code::AccountNotLoggedIn));
        };
        Ok(Self {
            caller,
            account,
            aid_token,
        })
    }
}

/// The key, signature and token checks, in upstream's order.
fn check(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    zone: SignatureZone,
    client: &ClientHeaders,
    account_profile: bool,
) -> Result<(Caller, Sessions), ApiError> {
    // A request acting as a user (most requests) reads its key and both its
    // sessions in one statement; the checks below still run in order.
    let (key, as_user) = match user_sessions(client).filter(|_| !account_profile) {
        Some(sessions) => {
            let (key, presented) = sessions::read_user_request(conn, &client.app_id, sessions)?;
            (key, Some((sessions, presented)))
        }
        None => (app_keys::find_app_key(conn, &client.app_id)?, None),
    };
    let key = key
        .filter(|k| k.is_enabled)
        .ok_or(ApiError::Code(Code::AppKeyUnknown))?;
    if key.purpose != KeyPurpose::Api {
        return Err(ApiError::Code(Code::KeyNotForApi));
    }
    if key.platform_id != client.platform_id {
        return Err(ApiError::Code(Code::PlatformKeyMismatch));
    }
    if !client.timestamp_fresh(zone.upstream_now(now)) {
        return Err(ApiError::Code(Code::SignatureExpired));
    }
    if client.expected_signature(&key.app_secret) != client.signature {
        return Err(ApiError::Code(Code::SignatureWrong));
    }
    let sessions = match as_user {
        Some((sessions, presented)) => {
            let (account, user) = sessions::verify_account_and_user(
                conn,
                presented,
                sessions,
                client.platform_id,
                now,
            )?;
            Sessions {
                account: Some(account),
                account_profile: None,
                aid_token: client.aid_token.clone(),
                user: Some(user),
            }
        }
        None => sessions_of(conn, now, client, account_profile)?,
    };
    Ok((
        Caller {
            key,
            platform_id: client.platform_id,
        },
        sessions,
    ))
}

/// Both sessions of a request acting as a user, when it presents both.
fn user_sessions(client: &ClientHeaders) -> Option<UserSessions<'_>> {
    match (
        &client.aid,
        &client.aid_token,
        client.uid,
        &client.uid_token,
    ) {
        (Some(aid), Some(aid_token), Some(uid), Some(uid_token)) => Some(UserSessions {
            aid,
            aid_token,
            uid,
            uid_token,
        }),
        _ => None,
    }
}

/// The account and user sessions a request presents, each checked when
/// present (a request acting as a user is checked by [`check`] itself).
fn sessions_of(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    client: &ClientHeaders,
    account_profile: bool,
) -> Result<Sessions, ApiError> {
    let platform = client.platform_id;
    let (account, profile) = match (&client.aid, &client.aid_token) {
        (Some(aid), Some(token)) if account_profile => {
            let profile = sessions::verify_account_token(conn, aid, token, platform, now)?;
            (Some(profile.account_id), Some(profile))
        }
        (Some(aid), Some(token)) => (
            Some(sessions::verify_account_token_id(
                conn, aid, token, platform, now,
            )?),
            None,
        ),
        _ => (None, None),
    };
    let user = match (client.uid, &client.uid_token, account) {
        (Some(_), _, None) => return Err(ApiError::Code(Code::AccountUnknown)),
        (Some(uid), Some(token), Some(account)) => Some(sessions::verify_user_token(
            conn, account, uid, token, platform, now,
        )?),
        _ => None,
    };
    Ok(Sessions {
        account,
        account_profile: profile,
        aid_token: client.aid_token.clone(),
        user,
    })
}

impl<W> Signed<W> {
    /// How this request's answer is rendered, with `filter` applied to User Info.
    pub(crate) fn render<'a>(&'a self, filter: &'a KeyFilter) -> Render<'a> {
        Render {
            view: self.view,
            settings: &self.state.settings().fresns,
            filter,
            memo: &self.memo,
        }
    }
}

impl<W> Signed<W> {
    /// The user token the request presented (`X-Fresns-Uid-Token`).
    pub(crate) fn user_token(&self) -> Option<String> {
        self.headers.uid_token.clone()
    }
}

impl<W: Who> Signed<W> {
    /// Checks the caller, then runs `f` as them, in one blocking call. The
    /// checks read in a snapshot of their own (see [`colloq_core::snapshot::read`]), which
    /// ends before `f`, so `f` may write.
    ///
    /// # Errors
    /// The first failed check's code; whatever `f` returns.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<(W, T), ApiError>
    where
        F: FnOnce(&mut DbConn, DateTime<Utc>, &W) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.call(f).await
    }

    /// [`run`](Self::run) for a use case that only reads `input`: the checks
    /// and `f` share one read snapshot, run once more on a fresh connection
    /// if the connection is lost (see [`AppState::read_with`]). A parameter
    /// error in `input` is reported after the checks, as upstream's
    /// middleware order has it; `input` comes back for rendering.
    ///
    /// # Errors
    /// The first failed check's code; whatever `f` returns; `input`'s error.
    pub(crate) async fn read<I, T, F>(
        &self,
        input: Result<I, ApiError>,
        f: F,
    ) -> Result<(W, T, Arc<I>), ApiError>
    where
        I: Send + Sync + 'static,
        F: Fn(&mut DbConn, DateTime<Utc>, &W, &I) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let input = match input {
            Ok(input) => Arc::new(input),
            // A parameter error is reported after the checks: check the
            // caller alone, then refuse.
            Err(invalid) => {
                Box::pin(self.read(Ok(()), check_only::<W>)).await?;
                return Err(invalid);
            }
        };
        let headers = Arc::clone(&self.headers);
        let zone = self.state.settings().fresns.signature_clock_zone;
        let shared = Arc::clone(&input);
        let (who, value) = self
            .state
            .read_with(move |conn, now| {
                let who = checked::<W>(conn, now, zone, &headers)?;
                let value = f(conn, now, &who, &shared)?;
                Ok::<_, ApiError>((who, value))
            })
            .await?;
        Ok((who, value, input))
    }

    async fn call<T, F>(&self, f: F) -> Result<(W, T), ApiError>
    where
        F: FnOnce(&mut DbConn, DateTime<Utc>, &W) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let headers = Arc::clone(&self.headers);
        let zone = self.state.settings().fresns.signature_clock_zone;
        self.state
            .run_with(move |conn, now| {
                let who =
                    colloq_core::snapshot::read(conn, |conn| checked(conn, now, zone, &headers))?;
                let value = f(conn, now, &who)?;
                Ok((who, value))
            })
            .await
    }
}

/// The read of a request whose parameters were refused: the checks alone.
/// (A fn item, not a closure, so `read` calling itself with it stays one
/// instantiation.)
fn check_only<W>(_: &mut DbConn, _: DateTime<Utc>, _: &W, (): &()) -> Result<(), ApiError> {
    Ok(())
}

fn checked<W: Who>(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    zone: SignatureZone,
    headers: &ClientHeaders,
) -> Result<W, ApiError> {
    let (caller, sessions) = check(conn, now, zone, headers, W::NEEDS_ACCOUNT_PROFILE)?;
    W::from_checked(caller, sessions)
}

fn parse(req: &HttpRequest) -> Result<(ClientHeaders, TimeView, web::Data<AppState>), ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or(ApiError::Core(CoreError::Internal(
            "application state missing",
        )))?;
    let lang = Lang::from_headers(req.headers());
    let headers = headers::parse(req.headers()).map_err(|problem| match problem {
        HeaderProblem::Invalid(reason) => ApiError::Header(reason),
        HeaderProblem::Timezone => ApiError::Code(Code::TimezoneInvalid),
    })?;
    let view = TimeView::new(lang, headers.offset_minutes, state.clock().now());
    Ok((headers, view, state))
}

impl<W: Who> FromRequest for Signed<W> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let memo = req
            .app_data::<web::Data<UserInfoMemo>>()
            .cloned()
            .ok_or(ApiError::Core(CoreError::Internal(
                "the Fresns memo is missing",
            )));
        ready(parse(req).and_then(|(headers, view, state)| {
            Ok(Self {
                headers: Arc::new(headers),
                view,
                state,
                memo: memo?,
                who: PhantomData,
            })
        }))
    }
}

type Extracting<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// A request's parameters read into `T`, or why they could not be: kept to
/// be reported after the caller checks, like every parameter error.
///
/// [`Input`] is a write's parameters as Laravel's `$request->all()` sees them:
/// the query string's fields overlaid by the body's (JSON or form; the body
/// wins a name both carry). [`Query`] is a read's query string, where a name
/// given twice counts once, the first time. Both are [`normalized`].
pub(crate) struct Fields<T, const BODY: bool>(Result<T, ApiError>);

/// The parameters of a `POST`, `PUT` or `DELETE`.
pub(crate) type Input<T> = Fields<T, true>;
/// The parameters of a `GET`.
pub(crate) type Query<T> = Fields<T, false>;

impl<T, const BODY: bool> Fields<T, BODY> {
    /// The parameters as `U`, validated by its `TryFrom`.
    ///
    /// # Errors
    /// Why they could not be read, or `U`'s validation error.
    pub(crate) fn parse<U: TryFrom<T, Error = ApiError>>(self) -> Result<U, ApiError> {
        self.0.and_then(U::try_from)
    }

    /// The parameters validated by `f`.
    ///
    /// # Errors
    /// Why they could not be read, or `f`'s error.
    pub(crate) fn parse_with<U>(
        self,
        f: impl FnOnce(T) -> Result<U, ApiError>,
    ) -> Result<U, ApiError> {
        self.0.and_then(f)
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Input<T> {
    type Error = ApiError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_form = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let query = req.query_string().to_owned();
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let fields = read_body(&query, bytes.await, is_form);
            Ok(Self(fields.and_then(fields_as)))
        })
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let mut map = Map::new();
        for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()) {
            map.entry(k.into_owned())
                .or_insert_with(|| Value::String(v.into_owned()));
        }
        ready(Ok(Self(fields_as(map))))
    }
}

/// The text fields of a multipart form, read into `T` as [`Query`] reads.
pub(crate) fn form_fields<T: DeserializeOwned>(
    fields: &std::collections::HashMap<String, String>,
) -> Result<T, ApiError> {
    let map = fields
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    fields_as(map)
}

fn fields_as<T: DeserializeOwned>(map: Map<String, Value>) -> Result<T, ApiError> {
    use serde::de::value::MapDeserializer;
    let fields = MapDeserializer::new(normalized(map)?.into_iter());
    T::deserialize(fields).map_err(|err: serde_json::Error| {
        ApiError::Param(format!("The parameters could not be read: {err}."))
    })
}

/// Parameters as Laravel's middleware leaves them: strings trimmed
/// (passwords excepted) and empty strings read as null. A NUL character
/// anywhere is refused: PostgreSQL cannot store one, and SQLite must not
/// store what PostgreSQL refuses.
fn normalized(map: Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    if let Some(path) = crate::text::nul_path(&map) {
        let name = path.split(['.', '[']).next().unwrap_or_default();
        return Err(ApiError::Param(format!(
            "The {} must not contain a NUL character.",
            super::convert::label(name)
        )));
    }
    Ok(map
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) if k != "password" && s.trim().is_empty() => Value::Null,
                Value::String(s) if k != "password" => Value::String(s.trim().to_owned()),
                Value::String(s) if s.is_empty() => Value::Null,
                other => other,
            };
            (k, v)
        })
        .collect())
}

fn read_body(
    query: &str,
    bytes: Result<web::Bytes, actix_web::Error>,
    is_form: bool,
) -> Result<Map<String, Value>, ApiError> {
    let bytes = bytes.map_err(|err| match err.as_error::<PayloadError>() {
        Some(PayloadError::Overflow) => {
            ApiError::Param("The request body is too large.".to_owned())
        }
        Some(e) if crate::limits::is_timeout(e) => ApiError::TimedOut,
        _ => ApiError::Param("The request body could not be read.".to_owned()),
    })?;
    let fields = |raw: &[u8]| -> Map<String, Value> {
        form_urlencoded::parse(raw)
            .into_owned()
            .map(|(k, v)| (k, Value::String(v)))
            .collect()
    };
    let body = if is_form {
        fields(&bytes)
    } else if bytes.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => map,
            _ => {
                return Err(ApiError::Param(
                    "The request body must be a JSON object.".to_owned(),
                ));
            }
        }
    };
    let mut map = fields(query.as_bytes());
    map.extend(body);
    Ok(map)
}
