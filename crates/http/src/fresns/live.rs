//! The Fresns event streams (docs/realtime.md): a user hears of their own
//! conversations, each event as their side sees it (a message deleted on
//! one side disappears only there), as server-sent events or WebSocket
//! messages. Opened with the signed `X-Fresns-*` headers, or a ticket.

use std::sync::Arc;

use actix_web::web::{Data, Payload};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use colloq_core::CoreError;
use colloq_core::conversations;
use colloq_core::sessions::{self, TokenScope};
use colloq_domain::event::{Change, Event, Feed};
use colloq_domain::ids::MessageId;
use colloq_domain::user::User;
use colloq_persistence::DbConn;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::codes::{Code, Lang};
use super::convert::{Render, UserInfoMemo, message_items};
use super::error::ApiError;
use super::extract::Me;
use super::time::TimeView;
use super::userinfo::KeyFilter;
use crate::AppState;
use crate::live::stream::{self, Opening, Rendered};
use crate::settings::Settings;

/// A stream ticket: pass it as `?ticket=` where headers cannot be sent.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct TicketReply {
    /// Single-use.
    ticket: String,
    /// Seconds it stays usable.
    expires_in: i64,
}

/// `POST /api/v2/conversation/stream-ticket`.
pub(super) async fn stream_ticket(me: Me) -> Result<HttpResponse, ApiError> {
    let token = me
        .user_token()
        .ok_or(ApiError::Code(Code::UserNotLoggedIn))?;
    let ttl = me.state.settings().events.ticket_ttl_secs;
    let (_myself, ticket) = me
        .run(move |conn, now, _myself| {
            Ok(sessions::issue_ticket(
                conn,
                &token,
                Duration::seconds(ttl),
                now,
            )?)
        })
        .await?;
    let reply = TicketReply {
        ticket: ticket.secret().to_owned(),
        expires_in: ttl,
    };
    Ok(super::handlers::ok(me.view.lang, reply))
}

/// `GET /api/v2/conversation/events`: server-sent events.
pub(super) async fn events_sse(
    req: HttpRequest,
    state: Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let opening = opening(&req, &state).await?;
    Ok(stream::sse(&req, &state, opening).await)
}

/// `GET /api/v2/conversation/ws`: the same events over a WebSocket.
pub(super) async fn events_ws(
    req: HttpRequest,
    body: Payload,
    state: Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let opening = opening(&req, &state).await?;
    stream::websocket(&req, body, &state, opening)
        .await
        .map_err(|err| ApiError::Param(format!("not a WebSocket handshake: {err}")))
}

/// Who opens the stream: a ticket, else the signed headers of a logged-in
/// user; and how its events are rendered for them.
async fn opening(req: &HttpRequest, state: &AppState) -> Result<Opening, ApiError> {
    let after = stream::resume_point(req).map_err(ApiError::Param)?;
    let memo = req
        .app_data::<Data<UserInfoMemo>>()
        .cloned()
        .ok_or(ApiError::Core(CoreError::Internal(
            "the Fresns memo is missing",
        )))?;
    let (me, session, lang, offset) = match stream::ticket(req) {
        Some(ticket) => {
            let scopes = [TokenScope::APP_PROFILE];
            let holder = state
                .run_with(move |conn, now| sessions::redeem_ticket(conn, &ticket, &scopes, now))
                .await?
                .ok_or(ApiError::Code(Code::UserNotLoggedIn))?;
            // A browser sends no client headers: the site's language, UTC.
            (
                holder.who.user,
                holder.session,
                Lang::from_headers(req.headers()),
                None,
            )
        }
        None => {
            let signed = <Me as actix_web::FromRequest>::extract(req).await?;
            let token = signed
                .user_token()
                .ok_or(ApiError::Code(Code::UserNotLoggedIn))?;
            let (lang, offset) = (signed.view.lang, signed.view.offset_minutes());
            let (myself, ()) = signed.run(|_conn, _now, _myself| Ok(())).await?;
            (myself.user, sessions::SessionKey::of(&token), lang, offset)
        }
    };
    let origin = crate::files::origin(req, state);
    let settings = Arc::new(state.settings().clone());
    let feed = Feed::User(me.id);
    let render = move |conn: &mut DbConn, events: &[Event], now: DateTime<Utc>| {
        let view = TimeView::new(lang, offset, now);
        render(conn, events, &me, view, &settings, &memo, &origin)
    };
    Ok(Opening {
        feed,
        session,
        scope: TokenScope::APP_PROFILE,
        after,
        render: Arc::new(render),
    })
}

/// The events of conversations as `me` sees them; a user's feed also holds
/// their orders, which this dialect does not speak of.
fn render(
    conn: &mut DbConn,
    events: &[Event],
    me: &User,
    view: TimeView,
    settings: &Settings,
    memo: &UserInfoMemo,
    origin: &str,
) -> Result<Vec<Rendered>, CoreError> {
    let ids = |messages: &[MessageId]| messages.iter().map(|m| m.get()).collect::<Vec<_>>();
    let mut rendered = Vec::with_capacity(events.len());
    for event in events {
        let conversation = event.thread.get();
        let by_me = event.actor == Some(me.id);
        let (name, data) = match &event.change {
            Change::MessageAppended { message } => {
                let page =
                    match conversations::conversation_message(conn, me, event.thread, *message) {
                        Ok(Some(page)) => page,
                        // Deleted on this side since, gone, or refused to this
                        // viewer: nothing to show, and the stream goes on (a
                        // storage failure, by contrast, is read again).
                        Ok(None) | Err(CoreError::Refused(_)) => continue,
                        Err(err) => return Err(err),
                    };
                let render = Render {
                    view,
                    settings: &settings.fresns,
                    filter: &KeyFilter::None,
                    memo,
                };
                let item = message_items(
                    &page,
                    me,
                    || origin.to_owned(),
                    render,
                    |items, _| serde_json::to_value(items.first()).unwrap_or_default(),
                );
                (
                    "message",
                    json!({ "conversationId": conversation, "message": item }),
                )
            }
            Change::MessagesRead { messages } => (
                "read",
                json!({ "conversationId": conversation, "messageIds": ids(messages), "byMe": by_me }),
            ),
            Change::ConversationRead { through } => (
                "read",
                json!({ "conversationId": conversation, "throughId": through.get(), "byMe": by_me }),
            ),
            Change::MessagesDeleted { messages } => (
                "deleted",
                json!({ "conversationId": conversation, "messageIds": ids(messages) }),
            ),
            Change::ConversationHidden => (
                "conversation_deleted",
                json!({ "conversationId": conversation }),
            ),
            Change::ConversationPinned { pinned } => (
                "pinned",
                json!({ "conversationId": conversation, "isPinned": pinned }),
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
