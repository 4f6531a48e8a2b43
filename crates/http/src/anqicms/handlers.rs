//! Thin adapters: extract, convert to domain input, call one use case, render.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, HttpResponseBuilder};
use colloq_core::messages::{self, SendMessage};
use colloq_core::orders;
use colloq_core::sessions::{self, Session, TokenScope};
use colloq_core::{CoreError, accounts};
use colloq_domain::ids::OrderId;
use colloq_domain::order::{NewOrder, OrderAction, OrderEdit, OrderImages, OrderStatus, Quote};
use colloq_domain::user::{NewUser, User, Viewer};
use serde::Serialize;

use super::convert::{
    cursor_params, id_param, login_request, page_params, positive_id, status_param, user_dto,
};
use super::dto::{
    CreateOrderRequest, Envelope, ImagesRequest, LoginRequest, MessageDto, OrderDto,
    OrderIdRequest, QuoteRequest, RegisterRequest, SendMessageRequest, StatusRequest,
    UpdateOrderRequest,
};
use super::error::ApiError;
use super::extract::{Anyone, Body, Customer, PresentedToken, Staff};
use crate::AppState;
use crate::params::Params;

type Reply = Result<HttpResponse, ApiError>;

fn ok<T: Serialize>(msg: &str, data: T) -> HttpResponse {
    HttpResponse::Ok().json(Envelope::ok(msg, data))
}

fn listed<T: Serialize>(data: T, total: i64) -> HttpResponse {
    HttpResponse::Ok().json(Envelope::list(data, total))
}

/// An extractor that yields who is asking.
pub(super) trait Authed {
    fn viewer(self) -> Viewer;
}

impl Authed for Customer {
    fn viewer(self) -> Viewer {
        self.0
    }
}

impl Authed for Staff {
    fn viewer(self) -> Viewer {
        self.0
    }
}

impl Authed for Anyone {
    fn viewer(self) -> Viewer {
        self.0
    }
}

/// The user with a fresh token in the body and, for customers, an HttpOnly cookie.
fn session_reply(user: User, session: &Session, scope: TokenScope, ttl_secs: i64) -> HttpResponse {
    let mut builder: HttpResponseBuilder = HttpResponse::Ok();
    if scope == TokenScope::AnqiUser {
        builder.cookie(
            Cookie::build("token", session.token.secret().to_owned())
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .max_age(time::Duration::seconds(ttl_secs))
                .finish(),
        );
    }
    builder.json(Envelope::ok(
        "",
        user_dto(user, Some(session.token.secret())),
    ))
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
            let session = sessions::issue(conn, &user, TokenScope::AnqiUser, ttl, now)?;
            Ok((user, session))
        })
        .await?;
    Ok(session_reply(
        user,
        &session,
        TokenScope::AnqiUser,
        ttl.num_seconds(),
    ))
}

async fn login(state: Data<AppState>, req: LoginRequest, scope: TokenScope) -> Reply {
    let (name, password) = login_request(req)?;
    let ttl = state.settings().auth.token_ttl();
    let (user, session) = state
        .run(move |conn, now| {
            let user = accounts::login(conn, &name, &password)?;
            // A customer account at the staff door fails like a wrong password.
            if scope == TokenScope::AnqiStaff && !user.is_staff {
                return Err(CoreError::InvalidCredentials);
            }
            let session = sessions::issue(conn, &user, scope, ttl, now)?;
            Ok((user, session))
        })
        .await?;
    Ok(session_reply(user, &session, scope, ttl.num_seconds()))
}

pub(super) async fn login_user(state: Data<AppState>, Body(req): Body<LoginRequest>) -> Reply {
    login(state, req, TokenScope::AnqiUser).await
}

pub(super) async fn login_staff(state: Data<AppState>, Body(req): Body<LoginRequest>) -> Reply {
    login(state, req, TokenScope::AnqiStaff).await
}

pub(super) async fn logout<A: Authed>(
    state: Data<AppState>,
    _who: A,
    PresentedToken(token): PresentedToken,
) -> Reply {
    if let Some(token) = token {
        state
            .run(move |conn, _now| sessions::revoke(conn, &token))
            .await?;
    }
    let mut expired = Cookie::build("token", "").path("/").finish();
    expired.make_removal();
    Ok(HttpResponse::Ok()
        .cookie(expired)
        .json(Envelope::ok("logged out", ())))
}

pub(super) async fn user_detail(who: Customer) -> Reply {
    Ok(ok("", user_dto(who.viewer().user, None)))
}

pub(super) async fn list_fields(state: Data<AppState>) -> Reply {
    Ok(ok("", &state.settings().anqicms.order_fields))
}

pub(super) async fn list_orders<A: Authed>(state: Data<AppState>, who: A, params: Params) -> Reply {
    let viewer = who.viewer();
    let page = page_params(&params)?;
    let status = status_param(&params)?;
    let orders = state
        .run(move |conn, _now| orders::list_orders(conn, &viewer, status, page))
        .await?;
    let total = orders.total;
    Ok(listed(
        orders
            .items
            .into_iter()
            .map(OrderDto::from)
            .collect::<Vec<_>>(),
        total,
    ))
}

pub(super) async fn create_order(
    state: Data<AppState>,
    who: Customer,
    Body(req): Body<CreateOrderRequest>,
) -> Reply {
    let viewer = who.viewer();
    let new_order = NewOrder::try_from(req)?;
    let order = state
        .run(move |conn, now| orders::create_order(conn, &viewer, &new_order, now))
        .await?;
    Ok(ok("order created", OrderDto::from(order)))
}

pub(super) async fn order_detail<A: Authed>(
    state: Data<AppState>,
    who: A,
    params: Params,
) -> Reply {
    let viewer = who.viewer();
    let id = id_param(&params, "id")?;
    let detail = state
        .run(move |conn, _now| orders::order_detail(conn, &viewer, id))
        .await?;
    let mut dto = OrderDto::from(detail.order);
    dto.user = Some(user_dto(detail.owner, None));
    dto.messages = Some(detail.messages.into_iter().map(MessageDto::from).collect());
    Ok(ok("", dto))
}

pub(super) async fn update_order(
    state: Data<AppState>,
    who: Customer,
    Body(req): Body<UpdateOrderRequest>,
) -> Reply {
    let viewer = who.viewer();
    let (id, edit): (OrderId, OrderEdit) = req.try_into()?;
    let order = state
        .run(move |conn, now| orders::update_order(conn, &viewer, id, &edit, now))
        .await?;
    Ok(ok("order updated", OrderDto::from(order)))
}

async fn act(state: Data<AppState>, viewer: Viewer, id: OrderId, action: OrderAction) -> Reply {
    let order = state
        .run(move |conn, now| orders::act_on_order(conn, &viewer, id, action, now))
        .await?;
    Ok(ok("order updated", OrderDto::from(order)))
}

/// `accept`, `reject` and `cancel`: the route admits only these three verbs.
pub(super) async fn customer_action(
    state: Data<AppState>,
    who: Customer,
    verb: Path<String>,
    Body(req): Body<OrderIdRequest>,
) -> Reply {
    let action = match verb.as_str() {
        "accept" => OrderAction::Accept,
        "reject" => OrderAction::Reject,
        _ => OrderAction::CustomerCancel,
    };
    act(state, who.viewer(), positive_id("id", req.id)?, action).await
}

pub(super) async fn set_order_status(
    state: Data<AppState>,
    who: Staff,
    Body(req): Body<StatusRequest>,
) -> Reply {
    let id = positive_id("id", req.id)?;
    let target = req
        .status
        .ok_or_else(|| ApiError::BadRequest("status is required".to_owned()))?;
    let action = OrderStatus::from_code(target)
        .and_then(OrderAction::from_staff_status)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    act(state, who.viewer(), id, action).await
}

pub(super) async fn quote_order(
    state: Data<AppState>,
    who: Staff,
    Body(req): Body<QuoteRequest>,
) -> Reply {
    let viewer = who.viewer();
    let (id, quote): (OrderId, Quote) = req.try_into()?;
    let order = state
        .run(move |conn, now| orders::quote_order(conn, &viewer, id, &quote, now))
        .await?;
    Ok(ok("quote sent", OrderDto::from(order)))
}

pub(super) async fn set_order_images(
    state: Data<AppState>,
    who: Staff,
    Body(req): Body<ImagesRequest>,
) -> Reply {
    let viewer = who.viewer();
    let (id, images): (OrderId, OrderImages) = req.try_into()?;
    let order = state
        .run(move |conn, now| orders::set_order_images(conn, &viewer, id, &images, now))
        .await?;
    Ok(ok("images saved", OrderDto::from(order)))
}

pub(super) async fn list_messages<A: Authed>(
    state: Data<AppState>,
    who: A,
    params: Params,
) -> Reply {
    let viewer = who.viewer();
    let id = id_param(&params, "comm_order_id")?;
    let cursor = cursor_params(&params)?;
    let messages = state
        .run(move |conn, _now| messages::list_order_messages(conn, &viewer, id, cursor))
        .await?;
    let total = messages.total;
    Ok(listed(
        messages
            .items
            .into_iter()
            .map(MessageDto::from)
            .collect::<Vec<_>>(),
        total,
    ))
}

pub(super) async fn send_message<A: Authed>(
    state: Data<AppState>,
    who: A,
    Body(req): Body<SendMessageRequest>,
) -> Reply {
    let viewer = who.viewer();
    let (id, input): (OrderId, SendMessage) = req.try_into()?;
    let message = state
        .run(move |conn, now| messages::send_order_message(conn, &viewer, id, input, now))
        .await?;
    Ok(ok("message sent", MessageDto::from(message)))
}
