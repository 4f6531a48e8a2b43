//! One open event stream: read the viewer's feed from the database after the
//! last position sent, send what is there, wait for news, repeat; the same
//! frames go out as server-sent events or WebSocket messages.
//!
//! What a stream holds is bounded whatever the client does: one task, one
//! subscription in the hub, and a queue of `events.queue` frames. A client
//! that leaves the queue full for `events.slow_client_secs` is disconnected;
//! it resumes from the last id it received, losing nothing.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, Responder, rt, web};
use actix_web_lab::sse;
use actix_ws::{CloseCode, CloseReason, Message};
use chrono::{DateTime, Utc};
use colloq_core::CoreError;
use colloq_core::sessions::{self, SessionKey, TokenScope};
use colloq_domain::event::{Event, Feed};
use colloq_persistence::DbConn;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep, timeout};

use super::Subscription;
use crate::AppState;

/// Events read from the database at a time.
const PAGE: i64 = 100;

/// The first and the longest wait before reading again when a notice named a
/// position the read did not reach. On PostgreSQL an event is readable only
/// once every transaction older than its own has ended (see
/// `colloq_persistence::events`), and their commits may notify other feeds.
const RETRY: (Duration, Duration) = (Duration::from_millis(2), Duration::from_millis(200));

/// One event as a dialect renders it for one viewer.
#[derive(Debug)]
pub(crate) struct Rendered {
    /// The event's position in the feed (the SSE `id`).
    pub(crate) position: i64,
    /// Its type (the SSE `event`).
    pub(crate) name: &'static str,
    /// Its payload, JSON.
    pub(crate) data: String,
}

/// Renders a feed's events for the stream's viewer, in the dialect's own
/// shapes. Runs on the blocking pool, inside a read snapshot.
pub(crate) type Render = Arc<
    dyn Fn(&mut DbConn, &[Event], DateTime<Utc>) -> Result<Vec<Rendered>, CoreError> + Send + Sync,
>;

/// What goes to the client.
#[derive(Debug)]
enum Frame {
    Event(Rendered),
    /// The position asked for cannot be replayed: the client reloads its
    /// state and goes on from `head`.
    Resync {
        head: i64,
    },
    Heartbeat,
    /// The stream ends, and why.
    End(&'static str),
}

/// A stream the caller may open: its viewer's feed, as their session.
pub(crate) struct Opening {
    pub(crate) feed: Feed,
    pub(crate) session: SessionKey,
    pub(crate) scope: TokenScope,
    /// The last position the client has (`Last-Event-ID`, `?after=`); none
    /// for "from now on".
    pub(crate) after: Option<i64>,
    pub(crate) render: Render,
}

/// Where to resume: `Last-Event-ID` (what browsers send on reconnect), or
/// the `after` query parameter. Anything else that is not a position is the
/// client's mistake.
pub(crate) fn resume_point(req: &HttpRequest) -> Result<Option<i64>, String> {
    let header = req
        .headers()
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or("").trim().to_owned())
        .filter(|v| !v.is_empty());
    match header.or_else(|| query_values(req, "after").next()) {
        None => Ok(None),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|p| *p >= 0)
            .map(Some)
            .ok_or_else(|| {
                format!("`{text}` is not an event id: give the id of the last event received")
            }),
    }
}

/// The `ticket` query parameter, when given.
pub(crate) fn ticket(req: &HttpRequest) -> Option<String> {
    query_values(req, "ticket").find(|v| !v.is_empty())
}

/// The values of the query parameter `name`, in order.
fn query_values<'a>(req: &HttpRequest, name: &'a str) -> impl Iterator<Item = String> + 'a {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default()
        .into_iter()
        .filter(move |(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Starts the stream: subscribes, settles where it starts, and only then
/// lets the response go, so that a client that sees the stream open and
/// then acts hears of what it did. Its frames come out of the receiver.
async fn start(state: AppState, opening: Opening) -> mpsc::Receiver<Frame> {
    let (tx, rx) = mpsc::channel(state.settings().events.queue);
    let slow = Duration::from_secs(state.settings().events.slow_client_secs);
    // Subscribed before the first read, so nothing committed after that read
    // goes unheard.
    let sub = state
        .live()
        .subscribe(opening.feed, opening.session.clone());
    let feed = opening.feed;
    let bounds = state
        .read_with(move |conn, _now| colloq_core::events::bounds(conn, feed))
        .await;
    let from = match (bounds, opening.after) {
        (Err(err), _) => {
            tracing::warn!(error = %err, %feed, "an event stream could not start");
            let _gone = tx.try_send(Frame::End("the database is unavailable"));
            return rx;
        }
        (Ok((_, head)), None) => head,
        // Trimmed away, or a position this feed never reached (another
        // database): the client must reload.
        (Ok((oldest, head)), Some(after))
            if after > head || (after > 0 && oldest.is_some_and(|o| after < o)) =>
        {
            if !deliver(&tx, Frame::Resync { head }, slow).await {
                return rx;
            }
            head
        }
        (Ok(_), Some(after)) => after,
    };
    rt::spawn(produce(state, opening, sub, from, tx));
    rx
}

/// Sends one frame, waiting at most `slow` for room. False: stop.
async fn deliver(tx: &mpsc::Sender<Frame>, frame: Frame, slow: Duration) -> bool {
    match timeout(slow, tx.send(frame)).await {
        Ok(Ok(())) => true,
        Ok(Err(_closed)) => false,
        Err(_elapsed) => {
            metrics::counter!("colloq_event_streams_slow_total").increment(1);
            false
        }
    }
}

async fn produce(
    state: AppState,
    opening: Opening,
    mut sub: Subscription,
    mut last: i64,
    tx: mpsc::Sender<Frame>,
) {
    let Opening {
        feed,
        session,
        scope,
        render,
        ..
    } = opening;
    let settings = &state.settings().events;
    let slow = Duration::from_secs(settings.slow_client_secs);
    let beat = Duration::from_secs(settings.heartbeat_secs);
    let mut ticker = interval_at(Instant::now() + beat, beat);
    // A stream held up delivering owes one heartbeat afterwards, not a burst.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut retry = RETRY.0;
    loop {
        // Catch up with the database.
        loop {
            let render = Arc::clone(&render);
            let read = state
                .read_with(move |conn, now| {
                    let events = colloq_core::events::read(conn, feed, last, PAGE)?;
                    let newest = events.last().map(|e| e.position);
                    Ok::<_, CoreError>((newest, events.len(), render(conn, &events, now)?))
                })
                .await;
            let (newest, count, rendered) = match read {
                Ok(read) => read,
                Err(err) => {
                    // Tried again at the next notice or heartbeat.
                    tracing::warn!(error = %err, %feed, "an event stream could not read its feed");
                    break;
                }
            };
            for frame in rendered {
                if !deliver(&tx, Frame::Event(frame), slow).await {
                    return;
                }
            }
            last = newest.unwrap_or(last);
            if count < PAGE as usize {
                break;
            }
        }
        let (Some(news), Some(ended)) = (sub.news.as_mut(), sub.ended.as_mut()) else {
            return;
        };
        // Heard of an event not readable yet: read again soon, then less
        // and less often, until it is.
        let behind = *news.borrow() > last;
        if !behind {
            retry = RETRY.0;
        }
        tokio::select! {
            changed = news.changed() => if changed.is_err() { return },
            () = sleep(retry), if behind => {
                metrics::counter!("colloq_event_stream_retries_total").increment(1);
                retry = (retry * 2).min(RETRY.1);
            }
            _ = sub.epoch.changed() => {}
            _ = ended.changed() => {
                let _gone = deliver(&tx, Frame::End("logged out"), slow).await;
                return;
            }
            _ = sub.closing.changed() => {
                let _gone = deliver(&tx, Frame::End("the server is stopping; reconnect"), slow).await;
                return;
            }
            _ = ticker.tick() => {
                let key = session.clone();
                let valid = state
                    .read_with(move |conn, now| sessions::still_valid(conn, &key, scope, now))
                    .await;
                if matches!(valid, Ok(false)) {
                    let _gone = deliver(&tx, Frame::End("the session has ended"), slow).await;
                    return;
                }
                // A client too slow for its heartbeat is in the same place as
                // one too slow for an event.
                if !deliver(&tx, Frame::Heartbeat, slow).await {
                    return;
                }
            }
            () = tx.closed() => return,
        }
    }
}

/// The stream as server-sent events.
pub(crate) async fn sse(req: &HttpRequest, state: &AppState, opening: Opening) -> HttpResponse {
    let frames = start(state.clone(), opening).await;
    let events = futures_util::stream::unfold(frames, |mut frames| async move {
        let frame = frames.recv().await?;
        Some((Ok::<_, Infallible>(sse_event(frame)), frames))
    });
    sse::Sse::from_stream(events)
        .respond_to(req)
        .map_into_boxed_body()
}

fn sse_event(frame: Frame) -> sse::Event {
    match frame {
        Frame::Event(r) => sse::Data::new(r.data)
            .event(r.name)
            .id(r.position.to_string())
            .into(),
        Frame::Resync { head } => sse::Data::new(format!(r#"{{"head":{head}}}"#))
            .event("resync")
            .id(head.to_string())
            .into(),
        Frame::Heartbeat => sse::Event::Comment("heartbeat".into()),
        Frame::End(reason) => sse::Data::new(reason_json(reason)).event("end").into(),
    }
}

fn reason_json(reason: &str) -> String {
    serde_json::json!({ "reason": reason }).to_string()
}

/// The stream as WebSocket text messages, each `{"id", "type", "data"}`.
///
/// # Errors
/// When the request is not a WebSocket handshake.
pub(crate) async fn websocket(
    req: &HttpRequest,
    body: web::Payload,
    state: &AppState,
    opening: Opening,
) -> Result<HttpResponse, actix_web::Error> {
    let (response, session, messages) = actix_ws::handle(req, body)?;
    let beat = Duration::from_secs(state.settings().events.heartbeat_secs);
    let frames = start(state.clone(), opening).await;
    rt::spawn(pump(frames, session, messages, beat));
    Ok(response)
}

async fn pump(
    mut frames: mpsc::Receiver<Frame>,
    mut session: actix_ws::Session,
    mut messages: actix_ws::MessageStream,
    beat: Duration,
) {
    let mut heard = Instant::now();
    let reason = loop {
        tokio::select! {
            frame = frames.recv() => {
                let text = match frame {
                    None => break None,
                    Some(Frame::End(reason)) => {
                        break Some(CloseReason { code: CloseCode::Policy, description: Some(reason.to_owned()) });
                    }
                    Some(Frame::Heartbeat) => {
                        // A peer that answered no ping for two heartbeats is gone.
                        if heard.elapsed() > beat * 2 {
                            break Some(CloseReason { code: CloseCode::Away, description: Some("no answer to pings".to_owned()) });
                        }
                        if session.ping(b"").await.is_err() {
                            return;
                        }
                        continue;
                    }
                    Some(Frame::Event(r)) => {
                        format!(r#"{{"id":{},"type":"{}","data":{}}}"#, r.position, r.name, r.data)
                    }
                    Some(Frame::Resync { head }) => {
                        format!(r#"{{"id":{head},"type":"resync","data":{{"head":{head}}}}}"#)
                    }
                };
                if session.text(text).await.is_err() {
                    return;
                }
            }
            message = messages.next() => match message {
                Some(Ok(Message::Ping(bytes))) => {
                    heard = Instant::now();
                    if session.pong(&bytes).await.is_err() {
                        return;
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break None,
                // A pong, or anything the client says: it is alive.
                Some(Ok(_)) => heard = Instant::now(),
            },
        }
    };
    let _closed = session.close(reason).await;
}
