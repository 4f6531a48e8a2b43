//! Thin adapters: extract, convert to domain input, call one use case, render.

use std::sync::Arc;

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use colloq_core::messages::{self, SendMessage};
use colloq_core::orders;
use colloq_core::sessions::{self, Session, TokenScope};
use colloq_core::{CoreError, accounts};
use colloq_domain::ids::OrderId;
use colloq_domain::order::{NewOrder, OrderAction, OrderEdit, OrderImages, OrderStatus, Quote};
use colloq_domain::user::{NewUser, User};
use serde::Serialize;

use super::convert::{
    detail_query, login_request, messages_query, orders_query, positive_id, user_dto,
};
use super::dto::{
    AttachmentDto, CreateOrderRequest, DetailQuery, Envelope, ImagesRequest, LoginRequest,
    MessageDto, MessagesQuery, OrderDto, OrderIdRequest, OrdersQuery, QuoteRequest,
    RegisterRequest, SendMessageRequest, StatusRequest, UpdateOrderRequest,
};
use super::error::ApiError;
use super::extract::{Anyone, Body, Credential, Customer, PresentedToken, Query, Staff};
use crate::throttle::LoginOrigin;
use crate::{AppState, files};

type Reply = Result<HttpResponse, ApiError>;

fn ok<T: Serialize>(msg: &str, data: T) -> HttpResponse {
    Envelope::ok(msg, data).respond(HttpResponse::Ok())
}

/// A list answer; `capacity` is about how many bytes it takes.
fn listed<T: Serialize>(data: T, total: i64, capacity: usize) -> Reply {
    Envelope::list(data, total)
        .respond_sized(capacity)
        .map_err(|err| {
            tracing::error!(error = %err, "writing an answer");
            ApiError::Core(CoreError::Internal("the answer could not be written"))
        })
}

/// About how many bytes a list answer of `items` takes.
fn list_size<T>(items: &[T], item_size: impl Fn(&T) -> usize) -> usize {
    items.iter().map(item_size).sum::<usize>() + 64
}

/// An extractor that carries who is asking.
pub(super) trait Authed {
    fn credential(self) -> Credential;
}

impl Authed for Customer {
    fn credential(self) -> Credential {
        self.0
    }
}

impl Authed for Staff {
    fn credential(self) -> Credential {
        self.0
    }
}

impl Authed for Anyone {
    fn credential(self) -> Credential {
        self.0
    }
}

/// The user with a fresh token in the body and, for customers, an HttpOnly cookie.
fn session_reply(user: User, session: &Session, scope: TokenScope, ttl_secs: i64) -> HttpResponse {
    let mut builder: HttpResponseBuilder = HttpResponse::Ok();
    if scope == TokenScope::SITE_PROFILE {
        builder.cookie(
            Cookie::build("token", session.token.secret().to_owned())
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .max_age(time::Duration::seconds(ttl_secs))
                .finish(),
        );
    }
    Envelope::ok("", user_dto(user, Some(session.token.secret()))).respond(builder)
}

pub(super) async fn register_user(
    state: Data<AppState>,
    Body(req): Body<RegisterRequest>,
) -> Reply {
    let new_user = NewUser::try_from(req)?;
    let ttl = state.settings().auth.token_ttl();
    let (user, session) = state
        .run(move |conn, now| {
            let user = accounts::register(conn, new_user, now)?;
            let session = sessions::issue(conn, &user, TokenScope::SITE_PROFILE, ttl, now)?;
            Ok((user, session))
        })
        .await?;
    Ok(session_reply(
        user,
        &session,
        TokenScope::SITE_PROFILE,
        ttl.num_seconds(),
    ))
}

async fn login(
    state: Data<AppState>,
    LoginOrigin(from): LoginOrigin,
    req: LoginRequest,
    scope: TokenScope,
) -> Reply {
    let (name, password) = login_request(req)?;
    let ttl = state.settings().auth.token_ttl();
    let throttle = Arc::clone(state.throttle());
    let (user, session) = state
        .run(move |conn, now| {
            let user = accounts::login(conn, &name, &password, (&throttle, &from), now)?;
            // A customer account at the staff door fails like a wrong password.
            if scope == TokenScope::SITE_STAFF && !user.is_staff {
                return Err(CoreError::InvalidCredentials);
            }
            let session = sessions::issue(conn, &user, scope, ttl, now)?;
            Ok((user, session))
        })
        .await?;
    Ok(session_reply(user, &session, scope, ttl.num_seconds()))
}

pub(super) async fn login_user(
    state: Data<AppState>,
    from: LoginOrigin,
    Body(req): Body<LoginRequest>,
) -> Reply {
    login(state, from, req, TokenScope::SITE_PROFILE).await
}

pub(super) async fn login_staff(
    state: Data<AppState>,
    from: LoginOrigin,
    Body(req): Body<LoginRequest>,
) -> Reply {
    login(state, from, req, TokenScope::SITE_STAFF).await
}

pub(super) async fn logout<A: Authed>(
    who: A,
    PresentedToken(token): PresentedToken,
    state: Data<AppState>,
) -> Reply {
    let ended = who
        .credential()
        .run(move |conn, _viewer, _now| match token {
            Some(token) => Ok(sessions::revoke(conn, &token)?),
            None => Ok(None),
        })
        .await?;
    // Its event streams close too, on every node.
    state.live().end_sessions(ended.as_slice());
    let mut expired = Cookie::build("token", "").path("/").finish();
    expired.make_removal();
    let mut builder = HttpResponse::Ok();
    builder.cookie(expired);
    Ok(Envelope::ok("logged out", ()).respond(builder))
}

pub(super) async fn user_detail(who: Customer) -> Reply {
    let user = who
        .credential()
        .run(|_conn, viewer, _now| Ok(viewer.user.clone()))
        .await?;
    Ok(ok("", user_dto(user, None)))
}

pub(super) async fn list_fields(state: Data<AppState>) -> Reply {
    Ok(ok("", &state.settings().anqicms.order_fields))
}

pub(super) async fn list_orders<A: Authed>(who: A, Query(q): Query<OrdersQuery>) -> Reply {
    let orders = who
        .credential()
        .read(orders_query(&q), |conn, viewer, _now, &(status, page)| {
            Ok(orders::list_orders(conn, viewer, status, page)?)
        })
        .await?;
    let total = orders.total;
    // An order's fixed fields take about 400 bytes; its text is extra.
    let capacity = list_size(&orders.items, |o| o.content.len() + o.title.len() + 512);
    listed(
        orders
            .items
            .into_iter()
            .map(OrderDto::from)
            .collect::<Vec<_>>(),
        total,
        capacity,
    )
}

pub(super) async fn create_order(who: Customer, Body(req): Body<CreateOrderRequest>) -> Reply {
    let new_order = NewOrder::try_from(req);
    let order = who
        .credential()
        .run(move |conn, viewer, now| Ok(orders::create_order(conn, viewer, &new_order?, now)?))
        .await?;
    Ok(ok("order created", OrderDto::from(order)))
}

pub(super) async fn order_detail<A: Authed>(who: A, Query(q): Query<DetailQuery>) -> Reply {
    let detail = who
        .credential()
        .read(detail_query(&q), |conn, viewer, _now, &id| {
            Ok(orders::order_detail(conn, viewer, id)?)
        })
        .await?;
    let mut dto = OrderDto::from(detail.order);
    dto.user = Some(user_dto(detail.owner, None));
    dto.messages = Some(detail.messages.into_iter().map(MessageDto::from).collect());
    Ok(ok("", dto))
}

pub(super) async fn update_order(who: Customer, Body(req): Body<UpdateOrderRequest>) -> Reply {
    let input: Result<(OrderId, OrderEdit), ApiError> = req.try_into();
    let order = who
        .credential()
        .run(move |conn, viewer, now| {
            let (id, edit) = input?;
            Ok(orders::update_order(conn, viewer, id, &edit, now)?)
        })
        .await?;
    Ok(ok("order updated", OrderDto::from(order)))
}

async fn act(
    who: Credential,
    id: Result<OrderId, ApiError>,
    action: Result<OrderAction, ApiError>,
) -> Reply {
    let order = who
        .run(move |conn, viewer, now| Ok(orders::act_on_order(conn, viewer, id?, action?, now)?))
        .await?;
    Ok(ok("order updated", OrderDto::from(order)))
}

/// `accept`, `reject` and `cancel`: one path each, so `action` is the path's.
pub(super) async fn customer_action(
    who: Customer,
    Body(req): Body<OrderIdRequest>,
    action: OrderAction,
) -> Reply {
    act(who.credential(), positive_id("id", req.id), Ok(action)).await
}

pub(super) async fn set_order_status(who: Staff, Body(req): Body<StatusRequest>) -> Reply {
    let action = req
        .status
        .ok_or_else(|| ApiError::BadRequest("status is required".to_owned()))
        .and_then(|target| {
            OrderStatus::from_code(target)
                .and_then(OrderAction::from_staff_status)
                .map_err(|e| ApiError::BadRequest(e.to_string()))
        });
    act(who.credential(), positive_id("id", req.id), action).await
}

pub(super) async fn quote_order(who: Staff, Body(req): Body<QuoteRequest>) -> Reply {
    let input: Result<(OrderId, Quote), ApiError> = req.try_into();
    let order = who
        .credential()
        .run(move |conn, viewer, now| {
            let (id, quote) = input?;
            Ok(orders::quote_order(conn, viewer, id, &quote, now)?)
        })
        .await?;
    Ok(ok("quote sent", OrderDto::from(order)))
}

pub(super) async fn set_order_images(who: Staff, Body(req): Body<ImagesRequest>) -> Reply {
    let input: Result<(OrderId, OrderImages), ApiError> = req.try_into();
    let order = who
        .credential()
        .run(move |conn, viewer, now| {
            let (id, images) = input?;
            Ok(orders::set_order_images(conn, viewer, id, &images, now)?)
        })
        .await?;
    Ok(ok("images saved", OrderDto::from(order)))
}

pub(super) async fn list_messages<A: Authed>(who: A, Query(q): Query<MessagesQuery>) -> Reply {
    let messages = who
        .credential()
        .read_id(messages_query(&q), |conn, viewer, _now, &(id, cursor)| {
            Ok(messages::list_order_messages(conn, viewer, id, cursor)?)
        })
        .await?;
    let total = messages.total;
    // A message's fixed fields take about 150 bytes; its text is extra.
    let capacity = list_size(&messages.items, |m| {
        m.body.len() + m.sender_name.len() + 192
    });
    listed(
        messages
            .items
            .into_iter()
            .map(MessageDto::from)
            .collect::<Vec<_>>(),
        total,
        capacity,
    )
}

pub(super) async fn send_message<A: Authed>(
    who: A,
    http: HttpRequest,
    state: Data<AppState>,
    Body(req): Body<SendMessageRequest>,
) -> Reply {
    let key = crate::idempotency::key(&http).map_err(ApiError::from);
    let mut input: Result<(OrderId, SendMessage), ApiError> =
        req.try_into().and_then(|(id, message)| {
            Ok((
                id,
                SendMessage {
                    key: key?,
                    ..message
                },
            ))
        });
    if let Ok((_, message)) = &mut input {
        // Media content naming one of colloq's file URLs must be the sender's
        // own upload; any other URL is kept as given, as upstream does.
        if message.kind.carries_files() {
            let origin = files::origin(&http, &state);
            message.attachment =
                files::referenced_fid(message.body.as_ref(), &origin).map(str::to_owned);
        }
    }
    let (writer, throttle) = (state.writer().clone(), Arc::clone(state.throttle()));
    let message = who
        .credential()
        .run(move |conn, viewer, now| {
            let (id, message) = input?;
            throttle.send(viewer.id().user)?;
            Ok(messages::send_order_message(
                conn, &writer, viewer, id, message, now,
            )?)
        })
        .await?;
    Ok(ok("message sent", MessageDto::from(message)))
}

/// `POST /api/attachment/upload` (and the staff twin): a multipart `file`,
/// stored once per distinct content; answers the attachment with its URL.
pub(super) async fn upload_attachment<A: Authed>(
    who: A,
    http: HttpRequest,
    state: Data<AppState>,
    form: actix_multipart::Multipart,
) -> Reply {
    // Who is asking is settled before a byte of the file is read.
    let user = who
        .credential()
        .run(|_conn, viewer, _now| Ok(viewer.user.clone()))
        .await?;
    let policy = state
        .settings()
        .files
        .policy(&colloq_domain::file::FileKind::ALL);
    let received = files::receive(&state, form, policy)
        .await
        .map_err(upload_error)?;
    let stored = files::store(&state, &user, received, None)
        .await
        .map_err(upload_error)?;
    let url = format!(
        "{}{}",
        files::origin(&http, &state),
        files::file_path(&stored)
    );
    let (width, height) = stored.meta.dimensions.unwrap_or_default();
    let created = stored.created_at.timestamp();
    Ok(ok(
        "file uploaded",
        AttachmentDto {
            id: stored.id.get(),
            user_id: stored.uploader.get(),
            file_name: stored.name,
            file_location: files::file_path_of(&stored.fid, &stored.meta.extension),
            file_size: stored.meta.size,
            file_md5: stored.meta.md5,
            width,
            height,
            category_id: 0,
            is_image: i32::from(stored.meta.kind == colloq_domain::file::FileKind::Image),
            status: 1,
            logo: url.clone(),
            thumb: url,
            mime: stored.meta.mime,
            created_time: created,
            updated_time: created,
        },
    ))
}

fn upload_error(err: files::UploadError) -> ApiError {
    match err {
        files::UploadError::Internal(e) => ApiError::Core(e),
        files::UploadError::TimedOut => ApiError::TimedOut,
        other => ApiError::BadRequest(format!("file: {other}")),
    }
}
