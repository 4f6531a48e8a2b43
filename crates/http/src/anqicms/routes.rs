//! The AnQiCMS paths. Routes are mounted with their full paths rather than under
//! an `/api` scope, so the Fresns dialect's `/api/v2` can live beside them.
//!
//! [`endpoints`] lists every route once: [`config`] mounts the list and
//! [`openapi`] describes it, so the published document cannot drift.

use actix_web::http::{Method, header};
use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, web};
use colloq_domain::order::OrderAction;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::{RefOr, Schema};

use super::dto::{
    AttachmentDto, CreateOrderRequest, DetailQuery, Envelope, ImagesRequest, LoginRequest,
    MessageDto, MessagesQuery, OrderDto, OrderIdRequest, OrdersQuery, QuoteRequest,
    RegisterRequest, SendMessageRequest, StatusRequest, UpdateOrderRequest, UserDto,
};
use super::error::FAILED;
use super::extract::{Anyone, Customer, Staff};
use super::handlers as h;
use crate::AppState;
use crate::openapi::{self, Endpoint, Schemas, file_only, named};
use crate::settings::OrderField;
use crate::throttle::{DialectDoors, Doors};

/// Mounts the dialect: its two scopes, each with the middleware that sends a
/// renewed token back, and its own answer for an unknown path.
pub(crate) fn config(cfg: &mut web::ServiceConfig, state: &AppState) {
    let doors = state.extension::<Doors>();
    for (prefix, logins, registrations) in [
        ("/api/", &["/api/login"][..], &["/api/register"][..]),
        ("/system/api/", &["/system/api/login"][..], &[][..]),
    ] {
        doors.declare(DialectDoors {
            prefix,
            logins,
            registrations,
            refuse: |_req, wait| super::rate_limited(wait),
        });
    }
    for (scope, endpoints) in [(CUSTOMER_API, customer()), (STAFF_API, staff())] {
        let mut scope = web::scope(scope)
            .wrap(from_fn(super::update_token_header))
            .default_service(web::to(unknown));
        for endpoint in endpoints {
            scope = scope.service(endpoint.into_resource(wrong_method));
        }
        cfg.service(scope);
    }
}

/// The customer side. (Fresns' `/api/v2` is mounted first, so it is not here.)
const CUSTOMER_API: &str = "/api";
/// The staff side.
const STAFF_API: &str = "/system/api";

/// The published description of the dialect.
pub(crate) fn openapi() -> serde_json::Value {
    let key = openapi::header_key;
    openapi::document(
        openapi::Dialect {
            title: "colloq: AnQiCMS communication orders",
            description: "The AnQiCMS dialect of colloq (docs/anqicms.md). Every answer a \
                client caused is HTTP 200 with `{code, msg, data}`: `code` 0 is success, -1 a \
                refusal whose reason is `msg`, 1001 a missing or expired login.",
            security: vec![
                (
                    "token",
                    key(
                        "token",
                        "A customer's token from /api/login (also accepted as the `token` \
                         cookie or `Authorization: Bearer`). Routes under /api/ that take a \
                         customer also take a staff token in `admin`.",
                    ),
                ),
                (
                    "admin",
                    key("admin", "A staff token from /system/api/login."),
                ),
            ],
            failure: envelope::<()>,
        },
        vec![(CUSTOMER_API, customer()), (STAFF_API, staff())],
    )
}

const CUSTOMER: &[&str] = &["token"];
const STAFF: &[&str] = &["admin"];

/// The envelope around `T`; without `data` when it is a refusal.
fn envelope<T: ToSchema + Serialize>(schemas: &mut Schemas) -> RefOr<Schema> {
    openapi::inline::<Envelope<T>>(schemas)
}

/// The routes under `/api`.
fn customer() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            Method::POST,
            "/register",
            "Register a customer",
            h::register_user,
        )
        .json(named::<RegisterRequest>)
        .reply(envelope::<UserDto>),
        Endpoint::new(Method::POST, "/login", "Log a customer in", h::login_user)
            .json(named::<LoginRequest>)
            .reply(envelope::<UserDto>),
        Endpoint::new(Method::POST, "/logout", "Log out", h::logout::<Customer>)
            .auth(CUSTOMER)
            .reply(envelope::<()>),
        Endpoint::new(Method::GET, "/user/detail", "The customer", h::user_detail)
            .auth(CUSTOMER)
            .reply(envelope::<UserDto>),
        Endpoint::new(
            Method::GET,
            "/communication/fields",
            "The form fields of a new order",
            h::list_fields,
        )
        .reply(envelope::<Vec<OrderField>>),
        Endpoint::new(
            Method::GET,
            "/communication/orders",
            "The caller's orders, newest first",
            h::list_orders::<Anyone>,
        )
        .auth(CUSTOMER)
        .query::<OrdersQuery>()
        .reply(envelope::<Vec<OrderDto>>),
        Endpoint::new(
            Method::POST,
            "/communication/order/create",
            "Create an order",
            h::create_order,
        )
        .auth(CUSTOMER)
        .json(named::<CreateOrderRequest>)
        .reply(envelope::<OrderDto>),
        Endpoint::new(
            Method::POST,
            "/communication/stream-ticket",
            "A single-use ticket that opens an event stream without headers (docs/realtime.md)",
            super::live::stream_ticket,
        )
        .auth(CUSTOMER)
        .reply(envelope::<super::live::TicketDto>),
        Endpoint::new(
            Method::GET,
            "/communication/events",
            "The caller's order events as server-sent events; `?ticket=` instead of a token, \
             `Last-Event-ID` or `?after=` to resume (docs/realtime.md)",
            super::live::events_sse,
        )
        .auth(CUSTOMER),
        Endpoint::new(
            Method::GET,
            "/communication/ws",
            "The same events over a WebSocket (docs/realtime.md)",
            super::live::events_ws,
        )
        .auth(CUSTOMER),
        Endpoint::new(
            Method::GET,
            "/communication/order/detail",
            "An order with its owner and messages",
            h::order_detail::<Anyone>,
        )
        .auth(CUSTOMER)
        .query::<DetailQuery>()
        .reply(envelope::<OrderDto>),
        Endpoint::new(
            Method::POST,
            "/communication/order/update",
            "Edit an order before it is quoted",
            h::update_order,
        )
        .auth(CUSTOMER)
        .json(named::<UpdateOrderRequest>)
        .reply(envelope::<OrderDto>),
        customer_action(
            "/communication/order/accept",
            "Accept the quote",
            OrderAction::Accept,
        ),
        customer_action(
            "/communication/order/reject",
            "Reject the quote",
            OrderAction::Reject,
        ),
        customer_action(
            "/communication/order/cancel",
            "Cancel the order",
            OrderAction::CustomerCancel,
        ),
        Endpoint::new(
            Method::GET,
            "/communication/messages",
            "A page of an order's messages, or the messages around one",
            h::list_messages::<Anyone>,
        )
        .auth(CUSTOMER)
        .query::<MessagesQuery>()
        .reply(envelope::<Vec<MessageDto>>),
        Endpoint::new(
            Method::POST,
            "/communication/message/send",
            "Send a message on an order (an Idempotency-Key header makes a retry safe)",
            h::send_message::<Anyone>,
        )
        .auth(CUSTOMER)
        .json(named::<SendMessageRequest>)
        .reply(envelope::<MessageDto>),
        Endpoint::new(
            Method::POST,
            "/attachment/upload",
            "Upload a file",
            h::upload_attachment::<Anyone>,
        )
        .auth(CUSTOMER)
        .multipart(file_only)
        .reply(envelope::<AttachmentDto>),
    ]
}

/// The routes under `/system/api`.
fn staff() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            Method::POST,
            "/attachment/upload",
            "Upload a file (staff)",
            h::upload_attachment::<Staff>,
        )
        .auth(STAFF)
        .multipart(file_only)
        .reply(envelope::<AttachmentDto>),
        Endpoint::new(Method::POST, "/login", "Log staff in", h::login_staff)
            .json(named::<LoginRequest>)
            .reply(envelope::<UserDto>),
        Endpoint::new(Method::POST, "/logout", "Log staff out", h::logout::<Staff>)
            .auth(STAFF)
            .reply(envelope::<()>),
        Endpoint::new(
            Method::GET,
            "/communication/orders",
            "Every order, newest first",
            h::list_orders::<Staff>,
        )
        .auth(STAFF)
        .query::<OrdersQuery>()
        .reply(envelope::<Vec<OrderDto>>),
        Endpoint::new(
            Method::GET,
            "/communication/order/detail",
            "An order with its owner and messages (staff)",
            h::order_detail::<Staff>,
        )
        .auth(STAFF)
        .query::<DetailQuery>()
        .reply(envelope::<OrderDto>),
        Endpoint::new(
            Method::GET,
            "/communication/messages",
            "A page of an order's messages (staff)",
            h::list_messages::<Staff>,
        )
        .auth(STAFF)
        .query::<MessagesQuery>()
        .reply(envelope::<Vec<MessageDto>>),
        Endpoint::new(
            Method::POST,
            "/communication/message/send",
            "Send a message on an order (staff)",
            h::send_message::<Staff>,
        )
        .auth(STAFF)
        .json(named::<SendMessageRequest>)
        .reply(envelope::<MessageDto>),
        Endpoint::new(
            Method::POST,
            "/communication/order/quote",
            "Quote a price",
            h::quote_order,
        )
        .auth(STAFF)
        .json(named::<QuoteRequest>)
        .reply(envelope::<OrderDto>),
        Endpoint::new(
            Method::POST,
            "/communication/order/status",
            "Move an order to another status",
            h::set_order_status,
        )
        .auth(STAFF)
        .json(named::<StatusRequest>)
        .reply(envelope::<OrderDto>),
        Endpoint::new(
            Method::POST,
            "/communication/order/images",
            "Set the sketch and finished images",
            h::set_order_images,
        )
        .auth(STAFF)
        .json(named::<ImagesRequest>)
        .reply(envelope::<OrderDto>),
    ]
}

/// `accept`, `reject` and `cancel`: one path each, so `action` is the path's.
fn customer_action(path: &'static str, summary: &'static str, action: OrderAction) -> Endpoint {
    Endpoint::new(Method::POST, path, summary, move |who, body| {
        h::customer_action(who, body, action)
    })
    .auth(CUSTOMER)
    .json(named::<OrderIdRequest>)
    .reply(envelope::<OrderDto>)
}

async fn unknown() -> HttpResponse {
    Envelope::<()>::error(FAILED, "no such endpoint".to_owned()).respond(HttpResponse::NotFound())
}

fn wrong_method(allowed: &Method) -> HttpResponse {
    let mut res = HttpResponse::MethodNotAllowed();
    res.insert_header((header::ALLOW, allowed.as_str()));
    Envelope::<()>::error(
        FAILED,
        "this endpoint does not accept that HTTP method".to_owned(),
    )
    .respond(res)
}
