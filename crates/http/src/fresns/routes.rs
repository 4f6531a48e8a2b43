//! The Fresns paths, under `/api/v2`.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpResponse, web};
use utoipa::ToSchema;
use utoipa::openapi::schema::AnyOfBuilder;
use utoipa::openapi::{RefOr, Schema};

use super::codes::Lang;
use super::convert::UserInfoMemo;
use super::dto::{
    AccountInfo, AuthUserRequest, CodeMessagesQuery, ConfigsQuery, ConversationDetail,
    ConversationItem, Envelope, Failed, FileInfo, IpInfoQuery, KeysQuery, ListQuery, LoginRequest,
    MessageItem, MessagesQuery, Paginated, Panel, PinRequest, SelectionRequest, SendMessageRequest,
    SessionReply, UploadForm, UserInfo,
};
use super::error::Failure;
use super::handlers as h;
use crate::AppState;
use crate::openapi::{self, Endpoint, Schemas, named, upload_form};
use crate::throttle::{DialectDoors, Doors};

/// Mounts the dialect, with the state it keeps for itself.
pub(crate) fn config(cfg: &mut web::ServiceConfig, state: &AppState) {
    cfg.app_data(web::Data::from(state.extension::<UserInfoMemo>()));
    let doors = state.extension::<Doors>();
    for prefix in ["/api/v2/", "/status.json"] {
        doors.declare(DialectDoors {
            prefix,
            logins: &["/api/v2/account/login"],
            registrations: &[],
            refuse: |req, wait| super::rate_limited(req.headers(), wait),
        });
    }
    for endpoint in site() {
        cfg.service(endpoint.into_resource(wrong_method));
    }
    let mut api = web::scope(API).wrap(from_fn(localize));
    for endpoint in endpoints() {
        api = api.service(endpoint.into_resource(wrong_method));
    }
    cfg.service(api.default_service(web::to(unknown)));
}

/// The scope of the API proper.
const API: &str = "/api/v2";

/// The published description of the dialect.
pub(crate) fn openapi() -> serde_json::Value {
    let key = openapi::header_key;
    openapi::document(
        openapi::Dialect {
            title: "colloq: Fresns v2 conversations",
            description: "The Fresns dialect of colloq (docs/fresns.md). Every answer a client \
                caused is HTTP 200 with `{code, message, data}`: `code` 0 is success, any other \
                code a refusal named in `message`. Every request is signed: see the `app` \
                security scheme.",
            security: vec![
                (
                    "app",
                    key(
                        "X-Fresns-App-Id",
                        "An app key's id, with X-Fresns-Client-Platform-Id, \
                         X-Fresns-Client-Version, X-Fresns-Signature-Timestamp (milliseconds) \
                         and X-Fresns-Signature: the MD5 of the non-empty X-Fresns-* headers \
                         sorted by name as `name=value` joined with `&`, then \
                         `&AppSecret={secret}` (docs/fresns.md).",
                    ),
                ),
                (
                    "account",
                    key(
                        "X-Fresns-Aid-Token",
                        "The token of /api/v2/account/login, with X-Fresns-Aid (signed).",
                    ),
                ),
                (
                    "user",
                    key(
                        "X-Fresns-Uid-Token",
                        "The token of /api/v2/user/auth, with X-Fresns-Uid (signed).",
                    ),
                ),
            ],
            failure: named::<Failed<'static>>,
        },
        vec![("", site()), (API, endpoints())],
    )
}

const APP: &[&str] = &["app"];
const ACCOUNT: &[&str] = &["app", "account"];
const USER: &[&str] = &["app", "account", "user"];

/// The envelope around `T`, or a refusal.
fn reply<T: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    let ok = openapi::inline::<Envelope<'static, T>>(schemas);
    let failed = named::<Failed<'static>>(schemas);
    AnyOfBuilder::new().item(ok).item(failed).into()
}

/// A static file of a Fresns site: no envelope, no signature.
fn site() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            Method::GET,
            "/status.json",
            "The site's status",
            h::site_status,
        )
        .reply(named::<serde_json::Value>),
    ]
}

fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            Method::GET,
            "/global/configs",
            "Site settings",
            h::global_configs,
        )
        .auth(APP)
        .query::<ConfigsQuery>()
        .reply(reply::<serde_json::Value>),
        Endpoint::new(
            Method::GET,
            "/global/code-messages",
            "The text of each code",
            h::code_messages,
        )
        .auth(APP)
        .query::<CodeMessagesQuery>()
        .reply(reply::<serde_json::Value>),
        Endpoint::new(
            Method::GET,
            "/common/ip-info",
            "An address's details",
            h::ip_info,
        )
        .auth(APP)
        .query::<IpInfoQuery>()
        .reply(reply::<serde_json::Value>),
        Endpoint::new(
            Method::POST,
            "/account/login",
            "Log an account in",
            h::login_account,
        )
        .auth(APP)
        .json(named::<LoginRequest>)
        .reply(reply::<SessionReply<'static, AccountInfo>>),
        Endpoint::new(
            Method::DELETE,
            "/account/logout",
            "Log out",
            h::logout_account,
        )
        .auth(ACCOUNT)
        .reply(reply::<()>),
        Endpoint::new(Method::POST, "/user/auth", "Choose a profile", h::auth_user)
            .auth(ACCOUNT)
            .json(named::<AuthUserRequest>)
            .reply(reply::<SessionReply<'static, UserInfo>>),
        Endpoint::new(
            Method::GET,
            "/user/panel",
            "The profile's counters",
            h::user_panel,
        )
        .auth(USER)
        .reply(reply::<Panel>),
        Endpoint::new(
            Method::POST,
            "/conversation/stream-ticket",
            "A single-use ticket that opens an event stream without headers (docs/realtime.md)",
            super::live::stream_ticket,
        )
        .auth(USER)
        .reply(reply::<super::live::TicketReply>),
        Endpoint::new(
            Method::GET,
            "/conversation/events",
            "The user's conversation events as server-sent events; `?ticket=` instead of the \
             signed headers, `Last-Event-ID` or `?after=` to resume (docs/realtime.md)",
            super::live::events_sse,
        )
        .auth(USER),
        Endpoint::new(
            Method::GET,
            "/conversation/ws",
            "The same events over a WebSocket (docs/realtime.md)",
            super::live::events_ws,
        )
        .auth(USER),
        Endpoint::new(
            Method::GET,
            "/conversation/list",
            "The profile's conversations",
            h::list_conversations,
        )
        .auth(USER)
        .query::<ListQuery>()
        .reply(reply::<Paginated<ConversationItem>>),
        Endpoint::new(
            Method::POST,
            "/common/upload-file",
            "Upload a file for a conversation message",
            h::upload_file,
        )
        .auth(USER)
        .multipart(upload_form::<UploadForm>)
        .reply(reply::<FileInfo<'static>>),
        Endpoint::new(
            Method::POST,
            "/conversation/send-message",
            "Send a message (an Idempotency-Key header makes a retry safe)",
            h::send_message,
        )
        .auth(USER)
        .json(named::<SendMessageRequest>)
        .reply(reply::<MessageItem<'static>>),
        Endpoint::new(
            Method::PUT,
            "/conversation/mark-as-read",
            "Mark a conversation or messages read",
            h::mark_as_read,
        )
        .auth(USER)
        .json(named::<SelectionRequest>)
        .reply(reply::<()>),
        Endpoint::new(
            Method::PUT,
            "/conversation/pin",
            "Pin or unpin a conversation",
            h::pin_conversation,
        )
        .auth(USER)
        .json(named::<PinRequest>)
        .reply(reply::<()>),
        Endpoint::new(
            Method::DELETE,
            "/conversation/delete",
            "Delete a conversation or messages for this side",
            h::delete_conversation,
        )
        .auth(USER)
        .json(named::<SelectionRequest>)
        .reply(reply::<()>),
        // Paths with a parameter come last, the hot one first: actix-router
        // tries each with a regex, static paths with a string comparison.
        Endpoint::new(
            Method::GET,
            "/conversation/{conversationId}/messages",
            "A page of a conversation's messages, or the messages around one",
            h::conversation_messages,
        )
        .auth(USER)
        .query::<MessagesQuery>()
        .reply(reply::<Paginated<MessageItem<'static>>>),
        Endpoint::new(
            Method::GET,
            "/conversation/{conversationId}/detail",
            "A conversation",
            h::conversation_detail,
        )
        .auth(USER)
        .query::<KeysQuery>()
        .reply(reply::<ConversationDetail>),
    ]
}

fn refusal(status: StatusCode, code: i32, message: &str) -> HttpResponse {
    let mut res = HttpResponse::build(status).json(Failed {
        code,
        message,
        data: None,
    });
    crate::ops::mark(&mut res, super::NAME, code);
    res
}

async fn unknown() -> HttpResponse {
    refusal(StatusCode::NOT_FOUND, 404, "No such endpoint")
}

/// Laravel answers a known path with the wrong method 405; so does colloq,
/// in the envelope.
fn wrong_method(allowed: &Method) -> HttpResponse {
    let mut res = refusal(
        StatusCode::METHOD_NOT_ALLOWED,
        405,
        "This endpoint does not accept that HTTP method",
    );
    if let Ok(value) = HeaderValue::from_str(allowed.as_str()) {
        res.headers_mut().insert(header::ALLOW, value);
    }
    res
}

/// Re-renders failures in the request's language and adds upstream's
/// informational headers to every answer.
async fn localize(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let lang = Lang::from_headers(req.headers());
    let res = next.call(req).await?;
    let failure = res.response().extensions().get::<Failure>().cloned();
    let mut res = match failure {
        Some(failure) if lang != Lang::En => res
            .into_response(failure.render(lang))
            .map_into_right_body(),
        _ => res.map_into_left_body(),
    };
    let headers = res.headers_mut();
    headers.insert(
        HeaderName::from_static("fresns-api"),
        HeaderValue::from_static("v2"),
    );
    headers.insert(
        HeaderName::from_static("fresns-version"),
        HeaderValue::from_static("2.21.4"),
    );
    Ok(res)
}
