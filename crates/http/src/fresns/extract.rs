//! Who is calling, for the Fresns dialect: headers validated, the app key and
//! signature checked, then the account and user tokens — always, in upstream's
//! order (there is no mode that trusts headers). Handlers take [`Me`] (account
//! and user logged in), [`AccountOnly`] or [`Client`] in their signature.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::{FromRequest, HttpRequest, web};
use colloq_core::{CoreError, app_keys, sessions};
use colloq_domain::user::User;
use colloq_persistence::app_keys::AppKey;
use serde_json::{Map, Value};

use super::codes::Lang;
use super::error::ApiError;
use super::headers::{self, HeaderProblem};
use super::time::TimeView;
use crate::AppState;

/// A request whose headers, signature and tokens all passed.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub(crate) key: AppKey,
    pub(crate) platform_id: i32,
    pub(crate) view: TimeView,
    pub(crate) account: Option<User>,
    pub(crate) aid_token: Option<String>,
    pub(crate) user: Option<User>,
    pub(crate) state: web::Data<AppState>,
}

type Checked = (AppKey, Option<User>, Option<User>);

async fn check(req: HttpRequest) -> Result<Client, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or(ApiError::Core(CoreError::Unavailable(
            "application state missing",
        )))?;
    let lang = Lang::from_headers(req.headers());
    let client = headers::parse(req.headers()).map_err(|problem| match problem {
        HeaderProblem::Invalid(reason) => ApiError::Header(reason),
        HeaderProblem::Timezone => ApiError::Code(31402),
    })?;
    let aid_token = client.aid_token.clone();
    let platform_id = client.platform_id;
    let offset = client.offset_minutes;
    let checked: Result<Checked, i32> = state
        .run(move |conn, now| {
            let refused = |code| Ok(Err(code));
            let Some(key) = app_keys::find_app_key(conn, &client.app_id)?.filter(|k| k.is_enabled)
            else {
                return refused(31301);
            };
            if key.key_type != 1 {
                return refused(31304);
            }
            if key.platform_id != client.platform_id {
                return refused(31102);
            }
            if !client.timestamp_fresh(now.timestamp_millis()) {
                return refused(31303);
            }
            if client.expected_signature(&key.app_secret) != client.signature {
                return refused(31302);
            }
            let account = match (&client.aid, &client.aid_token) {
                (Some(aid), Some(token)) => Some(sessions::verify_account_token(
                    conn,
                    aid,
                    token,
                    client.platform_id,
                    now,
                )?),
                _ => None,
            };
            let user = match (client.uid, &client.uid_token, &account) {
                (Some(_), _, None) => return refused(31502),
                (Some(uid), Some(token), Some(account)) => Some(sessions::verify_user_token(
                    conn,
                    account,
                    uid,
                    token,
                    client.platform_id,
                    now,
                )?),
                _ => None,
            };
            Ok(Ok((key, account, user)))
        })
        .await?;
    let (key, account, user) = checked.map_err(ApiError::Code)?;
    Ok(Client {
        key,
        platform_id,
        view: TimeView::new(lang, offset, state.clock().now()),
        account,
        aid_token,
        user,
        state,
    })
}

type Extracting<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl FromRequest for Client {
    type Error = ApiError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        Box::pin(check(req.clone()))
    }
}

/// A request with a logged-in account (aid) and user (uid).
pub(crate) struct Me {
    pub(crate) client: Client,
    pub(crate) user: User,
}

impl FromRequest for Me {
    type Error = ApiError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let client = check(req).await?;
            if client.account.is_none() {
                return Err(ApiError::Code(31501));
            }
            let user = client.user.clone().ok_or(ApiError::Code(31601))?;
            Ok(Self { client, user })
        })
    }
}

/// A request with a logged-in account (aid); the user is not needed.
pub(crate) struct AccountOnly {
    pub(crate) client: Client,
    pub(crate) account: User,
    pub(crate) aid_token: String,
}

impl FromRequest for AccountOnly {
    type Error = ApiError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let client = check(req).await?;
            let (Some(account), Some(aid_token)) =
                (client.account.clone(), client.aid_token.clone())
            else {
                return Err(ApiError::Code(31501));
            };
            Ok(Self {
                client,
                account,
                aid_token,
            })
        })
    }
}

/// A request body as Laravel sees it: JSON or form fields, strings trimmed
/// (passwords excepted) and empty strings read as null.
pub(crate) struct Input(pub(crate) Map<String, Value>);

impl FromRequest for Input {
    type Error = ApiError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_form = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(|err| {
                ApiError::Param(match err.as_error::<PayloadError>() {
                    Some(PayloadError::Overflow) => "The request body is too large.".to_owned(),
                    _ => "The request body could not be read.".to_owned(),
                })
            })?;
            let map = if is_form {
                form_urlencoded::parse(&bytes)
                    .into_owned()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect()
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
            Ok(Self(
                map.into_iter()
                    .map(|(k, v)| {
                        let v = match v {
                            Value::String(s) if k != "password" && s.trim().is_empty() => {
                                Value::Null
                            }
                            Value::String(s) if k != "password" => {
                                Value::String(s.trim().to_owned())
                            }
                            Value::String(s) if s.is_empty() => Value::Null,
                            other => other,
                        };
                        (k, v)
                    })
                    .collect(),
            ))
        })
    }
}
