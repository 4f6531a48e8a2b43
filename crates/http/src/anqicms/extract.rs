//! Authentication and body extraction for the AnQiCMS dialect. Handlers state
//! what they need in their signature ([`Customer`], [`Staff`], [`Anyone`]);
//! nothing else reads the auth headers.

use std::future::{Future, Ready, ready};
use std::pin::Pin;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{AUTHORIZATION, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::{DateTime, Utc};
use colloq_core::CoreError;
use colloq_core::sessions::{self, TokenScope};
use colloq_domain::user::{Viewer, ViewerId};
use colloq_persistence::DbConn;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::AppState;

/// The customer token: header `token` (any case), cookie `token`, or
/// `Authorization: Bearer`.
fn user_token(req: &HttpRequest) -> Option<String> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    header("token")
        .or_else(|| {
            req.cookie("token")
                .map(|c| c.value().to_owned())
                .filter(|v| !v.is_empty())
        })
        .or_else(|| {
            header(AUTHORIZATION.as_str()).and_then(|v| {
                v.strip_prefix("Bearer ")
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
            })
        })
}

/// The staff token: header `admin`.
fn staff_token(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get("admin")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// A fresh token issued because the presented one was about to expire; the
/// [`update_token_header`] middleware sends it back as `Update-Token`.
#[derive(Debug, Clone)]
struct RenewedToken(String);

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| {
            ApiError::Core(colloq_core::CoreError::Internal(
                "application state missing",
            ))
        })
}

/// A presented token, checked inside the handler's own database call so a
/// request costs one trip to the blocking pool, not two.
pub(super) struct Credential {
    token: String,
    scope: TokenScope,
    req: HttpRequest,
}

impl Credential {
    fn from(req: &HttpRequest, token: Option<String>, scope: TokenScope) -> Result<Self, ApiError> {
        Ok(Self {
            token: token.ok_or(ApiError::NotLoggedIn)?,
            scope,
            req: req.clone(),
        })
    }

    /// The token presented.
    pub(super) fn token(&self) -> &str {
        &self.token
    }

    /// What the token must be.
    pub(super) fn scope(&self) -> TokenScope {
        self.scope
    }

    /// Authenticates, runs `f` as the viewer, and renews the token when it is
    /// about to expire, all in one blocking call.
    ///
    /// # Errors
    /// [`ApiError::NotLoggedIn`] for an unknown, revoked, expired or wrong-scope
    /// token; whatever `f` returns.
    pub(super) async fn run<T, F>(self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn, &Viewer, DateTime<Utc>) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.call(f).await
    }

    /// [`run`](Self::run) for a use case that only reads `input`: the token
    /// check and `f` share one read snapshot, run once more on a fresh
    /// connection if the connection is lost (see [`AppState::read_with`]); a
    /// renewal, which writes, comes after it. A parameter error in `input` is
    /// reported after the token check, like every parameter error.
    ///
    /// # Errors
    /// As for [`run`](Self::run), then `input`'s error.
    pub(super) async fn read<I, T, F>(self, input: Result<I, ApiError>, f: F) -> Result<T, ApiError>
    where
        I: Send + 'static,
        F: Fn(&mut DbConn, &Viewer, DateTime<Utc>, &I) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.read_as(input, f).await
    }

    /// [`read`](Self::read) for a use case that needs only who is asking by
    /// id: the token check then does not load the profile.
    ///
    /// # Errors
    /// As for [`read`](Self::read).
    pub(super) async fn read_id<I, T, F>(
        self,
        input: Result<I, ApiError>,
        f: F,
    ) -> Result<T, ApiError>
    where
        I: Send + 'static,
        F: Fn(&mut DbConn, ViewerId, DateTime<Utc>, &I) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.read_as(input, move |conn, id: &ViewerId, now, input: &I| {
            f(conn, *id, now, input)
        })
        .await
    }

    async fn read_as<V, I, T, F>(self, input: Result<I, ApiError>, f: F) -> Result<T, ApiError>
    where
        V: Identity + 'static,
        I: Send + 'static,
        F: Fn(&mut DbConn, &V, DateTime<Utc>, &I) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let input = match input {
            Ok(input) => input,
            // A parameter error is reported after the token check: check
            // the token alone, then refuse.
            Err(invalid) => {
                Box::pin(self.read_as(Ok(()), check_only::<V>)).await?;
                return Err(invalid);
            }
        };
        let Self { token, scope, req } = self;
        let state = state(&req)?;
        let (id, expires_at, value) = state
            .read_with(move |conn, now| {
                let (viewer, expires_at) =
                    V::authenticate(conn, &token, scope, now)?.ok_or(ApiError::NotLoggedIn)?;
                let value = f(conn, &viewer, now, &input)?;
                Ok::<_, ApiError>((viewer.id(), expires_at, value))
            })
            .await?;
        let now = state.clock().now();
        if expires_at - now < state.settings().auth.renew_within() {
            let ttl = state.settings().auth.token_ttl();
            let session = state
                .run(move |conn, now| {
                    sessions::issue_for(conn, id.account, id.user, scope, ttl, now)
                })
                .await?;
            req.extensions_mut()
                .insert(RenewedToken(session.token.secret().to_owned()));
        }
        Ok(value)
    }

    async fn call<V, T, F>(self, f: F) -> Result<T, ApiError>
    where
        V: Identity,
        F: FnOnce(&mut DbConn, &V, DateTime<Utc>) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let Self { token, scope, req } = self;
        let state = state(&req)?;
        let ttl = state.settings().auth.token_ttl();
        let renew_within = state.settings().auth.renew_within();
        let (value, renewed) = state
            .run_with(move |conn, now| {
                let (viewer, expires_at) =
                    V::authenticate(conn, &token, scope, now)?.ok_or(ApiError::NotLoggedIn)?;
                let value = f(conn, &viewer, now)?;
                let renewed = if expires_at - now < renew_within {
                    let id = viewer.id();
                    let session = sessions::issue_for(conn, id.account, id.user, scope, ttl, now)?;
                    Some(session.token.secret().to_owned())
                } else {
                    None
                };
                Ok::<_, ApiError>((value, renewed))
            })
            .await?;
        if let Some(token) = renewed {
            req.extensions_mut().insert(RenewedToken(token));
        }
        Ok(value)
    }
}

/// The read of a request whose parameters were refused: the token check
/// alone. (A fn item, not a closure, so `read_as` calling itself with it
/// stays one instantiation.)
fn check_only<V>(_: &mut DbConn, _: &V, _: DateTime<Utc>, (): &()) -> Result<(), ApiError> {
    Ok(())
}

/// What a handler learns about its caller: the whole [`Viewer`], or only the
/// [`ViewerId`], whose token check reads five columns instead of nineteen.
trait Identity: Sized {
    /// The holder of `token` and when the token expires; `None` when it does
    /// not work as `scope` at `now`.
    fn authenticate(
        conn: &mut DbConn,
        token: &str,
        scope: TokenScope,
        now: DateTime<Utc>,
    ) -> Result<Option<(Self, DateTime<Utc>)>, CoreError>;

    fn id(&self) -> ViewerId;
}

impl Identity for Viewer {
    fn authenticate(
        conn: &mut DbConn,
        token: &str,
        scope: TokenScope,
        now: DateTime<Utc>,
    ) -> Result<Option<(Self, DateTime<Utc>)>, CoreError> {
        Ok(
            sessions::authenticate(conn, token, scope, now)?.map(|auth| {
                let viewer = if scope == TokenScope::SITE_STAFF {
                    Self::staff(auth.user)
                } else {
                    Self::customer(auth.user)
                };
                (viewer, auth.expires_at)
            }),
        )
    }

    fn id(&self) -> ViewerId {
        Self::id(self)
    }
}

impl Identity for ViewerId {
    fn authenticate(
        conn: &mut DbConn,
        token: &str,
        scope: TokenScope,
        now: DateTime<Utc>,
    ) -> Result<Option<(Self, DateTime<Utc>)>, CoreError> {
        Ok(sessions::authenticate_id(conn, token, scope, now)?
            .map(|auth| (auth.viewer, auth.expires_at)))
    }

    fn id(&self) -> ViewerId {
        *self
    }
}

/// A customer's token (token header, cookie or bearer).
pub(super) struct Customer(pub(super) Credential);

impl FromRequest for Customer {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Credential::from(req, user_token(req), TokenScope::SITE_PROFILE).map(Self))
    }
}

/// A staff token (header `admin`).
pub(super) struct Staff(pub(super) Credential);

impl FromRequest for Staff {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Credential::from(req, staff_token(req), TokenScope::SITE_STAFF).map(Self))
    }
}

/// A staff token when an `admin` header is present, else a customer's: for the
/// reads and sends both sides share.
pub(super) struct Anyone(pub(super) Credential);

impl FromRequest for Anyone {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let credential = match staff_token(req) {
            Some(token) => Credential::from(req, Some(token), TokenScope::SITE_STAFF),
            None => Credential::from(req, user_token(req), TokenScope::SITE_PROFILE),
        };
        ready(credential.map(Self))
    }
}

/// The raw customer or staff token of the request, for logout.
pub(super) struct PresentedToken(pub(super) Option<String>);

impl FromRequest for PresentedToken {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let token = if req.path().starts_with("/system/") {
            staff_token(req)
        } else {
            user_token(req)
        };
        ready(Ok(Self(token)))
    }
}

/// Query-string parameters read into `T`, whose fields are all optional
/// strings, so every problem with a value is reported by `convert` with the
/// parameter's name.
pub(super) struct Query<T>(pub(super) T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(
            crate::params::fields(req.query_string())
                .map(Query)
                .map_err(|err| ApiError::BadRequest(format!("invalid query string: {err}"))),
        )
    }
}

/// A JSON body, read within the configured size limit and parsed with the path
/// of any bad field in the error (`comm_order_id: invalid type: …`). An empty
/// body reads as `{}` so missing fields are reported by name.
pub(super) struct Body<T>(pub(super) T);

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes
                .await
                .map_err(|err| match err.as_error::<PayloadError>() {
                    Some(PayloadError::Overflow) => {
                        ApiError::BadRequest("request body is too large".to_owned())
                    }
                    Some(e) if crate::limits::is_timeout(e) => ApiError::TimedOut,
                    _ => ApiError::BadRequest("could not read the request body".to_owned()),
                })?;
            let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
            let json: &[u8] = match first {
                None => b"{}",
                // serde would read an array positionally into a struct; a request
                // body is an object, and anything else is refused plainly.
                Some(b'{') => &bytes,
                Some(_) => {
                    return Err(ApiError::BadRequest(
                        "invalid JSON body: expected a JSON object".to_owned(),
                    ));
                }
            };
            if crate::text::json_may_hold_nul(json)
                && let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(json)
                && let Some(path) = crate::text::nul_path(&map)
            {
                return Err(ApiError::BadRequest(format!(
                    "{path}: must not contain a NUL character"
                )));
            }
            let de = &mut serde_json::Deserializer::from_slice(json);
            serde_path_to_error::deserialize(de)
                .map(Body)
                .map_err(|err| {
                    let path = err.path().to_string();
                    let inner = err.into_inner();
                    ApiError::BadRequest(if path == "." || path == "?" {
                        format!("invalid JSON body: {inner}")
                    } else {
                        format!("{path}: {inner}")
                    })
                })
        })
    }
}

/// Adds `Update-Token` to responses whose token was renewed.
pub(crate) async fn update_token_header(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let renewed = res.request().extensions().get::<RenewedToken>().cloned();
    if let Some(value) = renewed.and_then(|RenewedToken(t)| HeaderValue::from_str(&t).ok()) {
        res.headers_mut()
            .insert(HeaderName::from_static("update-token"), value);
    }
    Ok(res)
}
