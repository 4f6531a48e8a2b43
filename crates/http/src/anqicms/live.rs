//! The AnQiCMS event streams (docs/realtime.md): a customer hears of their
//! orders, staff of every order, as server-sent events or WebSocket messages,
//! each event in this dialect's own shapes.

use std::sync::Arc;

use actix_web::web::{Data, Payload};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use colloq_core::sessions::{self, SessionKey, TokenScope};
use colloq_core::{CoreError, events};
use colloq_domain::event::{Change, Event, Feed};
use colloq_domain::user::Viewer;
use colloq_persistence::DbConn;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::dto::{Envelope, MessageDto, OrderDto};
use super::error::ApiError;
use super::extract::Anyone;
use crate::AppState;
use crate::live::stream::{self, Opening, Rendered};

/// A stream ticket: pass it as `?ticket=` to open a stream where headers
/// cannot be sent (a browser's `EventSource` or `WebSocket`).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TicketDto {
    /// Single-use.
    ticket: String,
    /// Seconds it stays usable.
    expires_in: i64,
}

/// `POST /api/communication/stream-ticket`.
pub(super) async fn stream_ticket(
    who: Anyone,
    state: Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let credential = who.0;
    let token = credential.token().to_owned();
    let ttl = state.settings().events.ticket_ttl_secs;
    let ticket = credential
        .run(move |conn, _viewer, now| {
            Ok(sessions::issue_ticket(
                conn,
                &token,
                Duration::seconds(ttl),
                now,
            )?)
        })
        .await?;
    let reply = TicketDto {
        ticket: ticket.secret().to_owned(),
        expires_in: ttl,
    };
    Ok(Envelope::ok("", reply).respond(HttpResponse::Ok()))
}

/// `GET /api/communication/events`: server-sent events.
pub(super) async fn events_sse(
    req: HttpRequest,
    state: Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let opening = opening(&req, &state).await?;
    Ok(stream::sse(&req, &state, opening).await)
}

/// `GET /api/communication/ws`: the same events over a WebSocket.
pub(super) async fn events_ws(
    req: HttpRequest,
    body: Payload,
    state: Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let opening = opening(&req, &state).await?;
    stream::websocket(&req, body, &state, opening)
        .await
        .map_err(|err| ApiError::BadRequest(format!("not a WebSocket handshake: {err}")))
}

/// Who opens the stream (a ticket, else the usual token or `admin` header)
/// and from where.
async fn opening(req: &HttpRequest, state: &AppState) -> Result<Opening, ApiError> {
    let after = stream::resume_point(req).map_err(ApiError::BadRequest)?;
    let (viewer, session, scope) = match stream::ticket(req) {
        Some(ticket) => {
            let scopes = [TokenScope::SITE_STAFF, TokenScope::SITE_PROFILE];
            let holder = state
                .run_with(move |conn, now| sessions::redeem_ticket(conn, &ticket, &scopes, now))
                .await?
                .ok_or(ApiError::NotLoggedIn)?;
            let viewer = if holder.scope == TokenScope::SITE_STAFF {
                Viewer::staff(holder.who.user)
            } else {
                Viewer::customer(holder.who.user)
            };
            (viewer, holder.session, holder.scope)
        }
        None => {
            let Anyone(credential) = Anyone::extract(req).await?;
            let session = SessionKey::of(credential.token());
            let scope = credential.scope();
            let viewer = credential
                .run(|_conn, viewer: &Viewer, _now| Ok(viewer.clone()))
                .await?;
            (viewer, session, scope)
        }
    };
    Ok(Opening {
        feed: Feed::of(&viewer),
        session,
        scope,
        after,
        render: Arc::new(render),
    })
}

/// The events of orders, in this dialect's shapes; a user's feed also holds
/// their conversations, which this dialect does not speak of.
fn render(
    conn: &mut DbConn,
    feed: &[Event],
    _now: DateTime<Utc>,
) -> Result<Vec<Rendered>, CoreError> {
    let mut rendered = Vec::with_capacity(feed.len());
    for event in feed {
        let Some(order) = events::order(conn, event.thread)? else {
            continue;
        };
        let message = match event.change.message() {
            Some(id) => events::message(conn, id)?.map(MessageDto::from),
            None => None,
        };
        let order_id = order.id.get();
        let (name, data) = match &event.change {
            Change::MessageAppended { .. } => (
                "message",
                json!({ "comm_order_id": order_id, "message": message }),
            ),
            Change::OrderCreated => ("order_created", json!({ "order": OrderDto::from(order) })),
            Change::OrderUpdated => ("order_updated", json!({ "order": OrderDto::from(order) })),
            Change::OrderStatusChanged { from, to, .. } => (
                "order_status",
                json!({
                    "comm_order_id": order_id,
                    "from": from.code(),
                    "to": to.code(),
                    "order": OrderDto::from(order),
                    "message": message,
                }),
            ),
            _ => continue,
        };
        rendered.push(Rendered {
            position: event.position,
            name,
            data: data.to_string(),
        });
    }
    Ok(rendered)
}
