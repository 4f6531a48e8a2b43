//! Live delivery: both dialects' event streams, over real sockets (SSE and
//! WebSocket), on the test's own database. Each test serves the app on a free
//! port and drives the writes through the same state, as a second client.

use std::pin::Pin;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::Method;
use actix_web::web::Bytes;
use awc::error::PayloadError;
use awc::ws;
use colloq_domain::event::Feed;
use colloq_domain::ids::UserId;
use futures_util::{SinkExt, Stream, StreamExt};
use serde_json::{Value, json};

use crate::events::{Fresns, fresns};
use crate::fresns_helpers::{Session, Tweaks};
use crate::helpers::{Auth, TestApp};

/// How long a test waits for a frame it expects.
const WAIT: Duration = Duration::from_secs(5);
/// How long a test listens to show that nothing comes.
const QUIET: Duration = Duration::from_millis(300);

/// The app served on a free port for as long as this lives.
struct Served {
    base: String,
    handle: ServerHandle,
}

impl Drop for Served {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

fn serve(app: &TestApp) -> Served {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = colloq_http::serve(listener, app.state.clone()).unwrap();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    Served { base, handle }
}

/// One event as a client receives it, whatever the transport.
#[derive(Debug, Clone, PartialEq)]
struct Received {
    id: Option<i64>,
    kind: String,
    data: Value,
}

type Body = Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>;

/// A server-sent events client.
struct Sse {
    body: Body,
    buffer: String,
    /// Comment lines seen (heartbeats).
    comments: usize,
}

/// Opens `path` as an event stream with these headers.
async fn sse(served: &Served, path: &str, headers: &[(String, String)]) -> Sse {
    let mut req = awc::Client::new().get(format!("{}{path}", served.base));
    for (name, value) in headers {
        req = req.insert_header((name.as_str(), value.as_str()));
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    let kind = res.headers().get("content-type").unwrap().to_str().unwrap();
    assert!(kind.starts_with("text/event-stream"), "{kind}");
    Sse {
        body: Box::pin(res),
        buffer: String::new(),
        comments: 0,
    }
}

/// The JSON envelope a stream endpoint answers instead of a stream.
async fn refused(served: &Served, path: &str, headers: &[(String, String)]) -> Value {
    let mut req = awc::Client::new().get(format!("{}{path}", served.base));
    for (name, value) in headers {
        req = req.insert_header((name.as_str(), value.as_str()));
    }
    let mut res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

impl Sse {
    /// The next event within `wait`; `None` when none came or the stream ended.
    async fn within(&mut self, wait: Duration) -> Option<Received> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut kind, mut data) = (None, String::new(), String::new());
                for line in block.lines() {
                    if line.starts_with(':') {
                        self.comments += 1;
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        id = v.parse().ok();
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        kind = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if !kind.is_empty() {
                    let data = serde_json::from_str(&data).unwrap();
                    return Some(Received { id, kind, data });
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next()).await;
            match chunk {
                Ok(Some(Ok(bytes))) => self.buffer.push_str(std::str::from_utf8(&bytes).unwrap()),
                _ => return None,
            }
        }
    }

    async fn next(&mut self) -> Received {
        self.within(WAIT)
            .await
            .unwrap_or_else(|| panic!("no event within {WAIT:?}"))
    }

    async fn quiet(&mut self) {
        let got = self.within(QUIET).await;
        assert!(got.is_none(), "nothing expected, got {got:?}");
    }
}

/// A WebSocket client.
struct Ws {
    conn: actix_codec::Framed<awc::BoxedSocket, ws::Codec>,
    /// Answer the server's pings (a live client does).
    answer_pings: bool,
}

/// How a WebSocket stream ended.
#[derive(Debug)]
enum WsEnd {
    Closed(Option<ws::CloseReason>),
    Silent,
}

async fn websocket(served: &Served, path: &str, headers: &[(String, String)]) -> Ws {
    let url = format!("{}{path}", served.base).replacen("http", "ws", 1);
    let mut req = awc::Client::new().ws(url);
    for (name, value) in headers {
        req = req.header(name.as_str(), value.as_str());
    }
    let (_res, conn) = req.connect().await.unwrap();
    Ws {
        conn,
        answer_pings: true,
    }
}

impl Ws {
    async fn within(&mut self, wait: Duration) -> Result<Received, WsEnd> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.conn.next()).await;
            match frame {
                Ok(Some(Ok(ws::Frame::Text(text)))) => {
                    let v: Value = serde_json::from_slice(&text).unwrap();
                    return Ok(Received {
                        id: v["id"].as_i64(),
                        kind: v["type"].as_str().unwrap().to_owned(),
                        data: v["data"].clone(),
                    });
                }
                Ok(Some(Ok(ws::Frame::Ping(bytes)))) => {
                    if self.answer_pings {
                        self.conn.send(ws::Message::Pong(bytes)).await.unwrap();
                    }
                }
                Ok(Some(Ok(ws::Frame::Close(reason)))) => return Err(WsEnd::Closed(reason)),
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) => return Err(WsEnd::Closed(None)),
                Err(_elapsed) => return Err(WsEnd::Silent),
            }
        }
    }

    async fn next(&mut self) -> Received {
        self.within(WAIT)
            .await
            .unwrap_or_else(|end| panic!("no event within {WAIT:?}: {end:?}"))
    }

    async fn quiet(&mut self) {
        let got = self.within(QUIET).await;
        assert!(
            matches!(got, Err(WsEnd::Silent)),
            "nothing expected, got {got:?}"
        );
    }
}

/// A fresh AnQiCMS stream ticket of `token`'s session.
async fn ticket(app: &TestApp, token: &str) -> String {
    let issued = app
        .post(
            "/api/communication/stream-ticket",
            Auth::Token(token),
            json!({}),
        )
        .await;
    issued.data()["ticket"].as_str().unwrap().to_owned()
}

/// Another session of `name` (another device), through the customer login.
async fn login(app: &TestApp, name: &str) -> String {
    let login = app
        .post(
            "/api/login",
            Auth::None,
            json!({"user_name": name, "password": "secret-pw"}),
        )
        .await;
    login.data()["token"].as_str().unwrap().to_owned()
}

fn token(token: &str) -> Vec<(String, String)> {
    vec![("token".to_owned(), token.to_owned())]
}

fn admin(token: &str) -> Vec<(String, String)> {
    vec![("admin".to_owned(), token.to_owned())]
}

fn kinds(events: &[Received]) -> Vec<&str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

async fn take(n: usize, sse: &mut Sse) -> Vec<Received> {
    let mut got = Vec::new();
    for _ in 0..n {
        got.push(sse.next().await);
    }
    got
}

#[actix_web::test]
async fn anqicms_streams_tell_the_customer_and_staff_and_nobody_else() {
    let app = TestApp::new();
    let served = serve(&app);
    let (_, alice) = app.customer("alice").await;
    let (_, bob) = app.customer("bob").await;
    let (_, staff) = app.staff("staffer").await;
    let mut alice_sse = sse(&served, "/api/communication/events", &token(&alice)).await;
    let mut staff_sse = sse(&served, "/api/communication/events", &admin(&staff)).await;
    let mut bob_ws = websocket(&served, "/api/communication/ws", &token(&bob)).await;

    let order = app.order(&alice).await;
    let asked = app.say(Auth::Token(&alice), order, "Can you?").await;
    let answered = app.say(Auth::Admin(&staff), order, "We can").await;

    for stream in [&mut alice_sse, &mut staff_sse] {
        let got = take(4, stream).await;
        // Staff's first reply opens the order: its status change, with its
        // system note, follows the reply.
        assert_eq!(
            kinds(&got),
            ["order_created", "message", "message", "order_status"]
        );
        assert_eq!(
            (&got[3].data["from"], &got[3].data["to"]),
            (&json!(0), &json!(1))
        );
        assert_eq!(got[3].data["message"]["sender_type"], "system");
        assert_eq!(got[0].data["order"]["id"], order);
        // The message exactly as the messages list renders it.
        assert_eq!(got[1].data["message"], asked);
        assert_eq!(got[2].data["message"], answered);
        assert_eq!(got[2].data["comm_order_id"], order);
        let ids: Vec<i64> = got.iter().map(|e| e.id.unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        stream.quiet().await;
    }
    // Bob hears nothing of Alice's order; his own comes through.
    bob_ws.quiet().await;
    let his = app.order(&bob).await;
    let got = bob_ws.next().await;
    assert_eq!(
        (got.kind.as_str(), &got.data["order"]["id"]),
        ("order_created", &json!(his))
    );
    assert_eq!(staff_sse.next().await.data["order"]["id"], his);
    alice_sse.quiet().await;
}

#[actix_web::test]
async fn anqicms_streams_resume_after_a_disconnect_with_nothing_missed_or_repeated() {
    let app = TestApp::new();
    let served = serve(&app);
    let (alice_id, alice) = app.customer("alice").await;
    let feed = Feed::User(UserId(alice_id));
    let order = app.order(&alice).await;
    let mut first = sse(&served, "/api/communication/events?after=0", &token(&alice)).await;
    let created = first.next().await;
    assert_eq!(
        (created.id, created.kind.as_str()),
        (Some(app.positions(feed)[0]), "order_created")
    );
    drop(first);
    // Sent while the client was away.
    for text in ["one", "two", "three"] {
        app.say(Auth::Token(&alice), order, text).await;
    }
    // A browser resumes with Last-Event-ID ...
    let mut headers = token(&alice);
    headers.push(("Last-Event-ID".to_owned(), created.id.unwrap().to_string()));
    let mut resumed = sse(&served, "/api/communication/events", &headers).await;
    let got = take(3, &mut resumed).await;
    let texts: Vec<&Value> = got.iter().map(|e| &e.data["message"]["content"]).collect();
    assert_eq!(texts, ["one", "two", "three"]);
    let positions = app.positions(feed);
    assert_eq!(
        got.iter().map(|e| e.id.unwrap()).collect::<Vec<_>>(),
        positions[1..4]
    );
    app.say(Auth::Token(&alice), order, "live").await;
    let live = resumed.next().await;
    let positions = app.positions(feed);
    assert_eq!(live.id, Some(positions[4]));
    resumed.quiet().await;
    // ... a WebSocket with ?after=.
    let path = format!("/api/communication/ws?after={}", positions[2]);
    let mut ws = websocket(&served, &path, &token(&alice)).await;
    assert_eq!(ws.next().await.id, Some(positions[3]));
    assert_eq!(ws.next().await.id, Some(positions[4]));
    app.say(Auth::Token(&alice), order, "again").await;
    let live = ws.next().await;
    assert_eq!(
        (live.id, &live.data["message"]["content"]),
        (app.positions(feed).get(5).copied(), &json!("again"))
    );
    ws.quiet().await;
}

#[actix_web::test]
async fn a_position_that_cannot_be_replayed_is_answered_with_resync() {
    let app = TestApp::new();
    let served = serve(&app);
    let (alice_id, alice) = app.customer("alice").await;
    let feed = Feed::User(UserId(alice_id));
    let order = app.order(&alice).await;
    let head = app.positions(feed)[0];
    // Beyond the head (SQLite), or below the oldest event while not 0
    // (PostgreSQL, whose positions are large): a position of another
    // database, or of events gone.
    let mut stream = sse(
        &served,
        "/api/communication/events?after=99",
        &token(&alice),
    )
    .await;
    let resync = stream.next().await;
    assert_eq!(resync.kind, "resync");
    assert_eq!(
        (resync.id, &resync.data),
        (Some(head), &json!({ "head": head }))
    );
    // And goes on from the head.
    app.say(Auth::Token(&alice), order, "after").await;
    let next = stream.next().await;
    assert_eq!(next.id, app.positions(feed).get(1).copied());

    // Not a position at all: the dialect's envelope, naming the problem.
    let bad = refused(
        &served,
        "/api/communication/events?after=soon",
        &token(&alice),
    )
    .await;
    assert_eq!(bad["code"], -1);
    assert!(bad["msg"].as_str().unwrap().contains("soon"), "{bad}");
}

#[actix_web::test]
async fn tickets_open_one_stream_once_in_their_own_dialect_only() {
    let f = fresns().await;
    let app = &f.app;
    let served = serve(app);
    let (_, alice) = app.customer("carol").await;
    let issued = app
        .post(
            "/api/communication/stream-ticket",
            Auth::Token(&alice),
            json!({}),
        )
        .await;
    let first = issued.data()["ticket"].as_str().unwrap().to_owned();
    assert_eq!(issued.data()["expires_in"], 60);
    let path = format!("/api/communication/events?ticket={first}");
    let mut stream = sse(&served, &path, &[]).await;
    app.order(&alice).await;
    assert_eq!(stream.next().await.kind, "order_created");
    // Single use.
    let again = refused(&served, &path, &[]).await;
    assert_eq!(again["code"], 1001, "{again}");
    // Expired.
    let late = ticket(app, &alice).await;
    app.advance(chrono::Duration::seconds(61));
    let expired = refused(
        &served,
        &format!("/api/communication/events?ticket={late}"),
        &[],
    )
    .await;
    assert_eq!(expired["code"], 1001, "{expired}");
    // An AnQiCMS session's ticket does not open a Fresns stream, nor the reverse.
    let fresh = ticket(app, &alice).await;
    let crossed = refused(
        &served,
        &format!("/api/v2/conversation/events?ticket={fresh}"),
        &[],
    )
    .await;
    assert_ne!(crossed["code"], 0, "{crossed}");
    let fresns_ticket = f
        .call(
            Method::POST,
            "/api/v2/conversation/stream-ticket",
            &f.alice.1,
            json!({}),
        )
        .await;
    let fresns_ticket = fresns_ticket["ticket"].as_str().unwrap().to_owned();
    let crossed = refused(
        &served,
        &format!("/api/communication/events?ticket={fresns_ticket}"),
        &[],
    )
    .await;
    assert_eq!(crossed["code"], 1001, "{crossed}");
    // No credentials at all.
    let none = refused(&served, "/api/communication/events", &[]).await;
    assert_eq!(none["code"], 1001, "{none}");
}

#[actix_web::test]
async fn logout_closes_the_sessions_streams_and_no_others() {
    let app = TestApp::new();
    let served = serve(&app);
    let (_, alice) = app.customer("alice").await;
    let other_device = login(&app, "alice").await;
    let mut sse_stream = sse(&served, "/api/communication/events", &token(&alice)).await;
    let mut ws_stream = websocket(&served, "/api/communication/ws", &token(&alice)).await;
    let mut other = sse(&served, "/api/communication/events", &token(&other_device)).await;
    app.post("/api/logout", Auth::Token(&alice), json!({}))
        .await
        .data();
    let end = sse_stream.next().await;
    assert_eq!(
        (end.kind.as_str(), &end.data["reason"]),
        ("end", &json!("logged out"))
    );
    assert!(sse_stream.within(QUIET).await.is_none(), "the stream ended");
    match ws_stream.within(WAIT).await {
        Err(WsEnd::Closed(Some(reason))) => {
            assert_eq!(reason.code, ws::CloseCode::Policy);
        }
        other => panic!("expected a close, got {other:?}"),
    }
    // The other session's stream is still open and live.
    app.order(&other_device).await;
    assert_eq!(other.next().await.kind, "order_created");
}

#[actix_web::test]
async fn heartbeats_flow_and_a_websocket_peer_that_never_answers_is_dropped() {
    let mut settings = TestApp::settings();
    settings.events.heartbeat_secs = 1;
    let app = TestApp::with_settings(settings);
    let served = serve(&app);
    let (_, alice) = app.customer("alice").await;
    let mut stream = sse(&served, "/api/communication/events", &token(&alice)).await;
    assert!(stream.within(Duration::from_millis(2500)).await.is_none());
    assert!(stream.comments >= 2, "heartbeats: {}", stream.comments);

    let mut deaf = websocket(&served, "/api/communication/ws", &token(&alice)).await;
    deaf.answer_pings = false;
    match deaf.within(Duration::from_secs(6)).await {
        Err(WsEnd::Closed(Some(reason))) => assert_eq!(reason.code, ws::CloseCode::Away),
        other => panic!("expected the server to close, got {other:?}"),
    }
    // One that answers stays.
    let mut alive = websocket(&served, "/api/communication/ws", &token(&alice)).await;
    assert!(matches!(
        alive.within(Duration::from_secs(4)).await,
        Err(WsEnd::Silent)
    ));
}

/// The signed headers of a Fresns request by `who`, as a client sends them.
fn signed(f: &Fresns, who: &Session, path: &str) -> Vec<(String, String)> {
    let req = f
        .app
        .fresns_request(Method::GET, path, &f.key, who, None, &Tweaks::default())
        .to_http_request();
    req.headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect()
}

#[actix_web::test]
async fn fresns_streams_show_each_side_its_own_view_and_nothing_else() {
    let f = fresns().await;
    let served = serve(&f.app);
    let (a, b) = (&f.alice.1, &f.bob.1);
    let carol = f.app.fresns_user(&f.key, "carol").await;
    let path = "/api/v2/conversation/events";
    let mut alice = sse(&served, path, &signed(&f, a, path)).await;
    let ticket = f
        .call(
            Method::POST,
            "/api/v2/conversation/stream-ticket",
            b,
            json!({}),
        )
        .await;
    let ticket = ticket["ticket"].as_str().unwrap();
    let mut bob = websocket(
        &served,
        &format!("/api/v2/conversation/ws?ticket={ticket}"),
        &[],
    )
    .await;
    let mut carol_sse = sse(&served, path, &signed(&f, &carol, path)).await;

    let sent = f.send(a, "bob", "hello bob").await;
    let mine = alice.next().await;
    let theirs = bob.next().await;
    for (got, is_me) in [(&mine, true), (&theirs, false)] {
        assert_eq!(got.kind, "message");
        assert_eq!(got.data["message"]["id"], sent.get());
        assert_eq!(got.data["message"]["content"], "hello bob");
        assert_eq!(got.data["message"]["isMe"], is_me);
    }
    let conversation = mine.data["conversationId"].clone();
    // The message as the conversation's own list renders it for Alice.
    let page = f
        .app
        .fresns(
            Method::GET,
            &format!("/api/v2/conversation/{conversation}/messages"),
            &f.key,
            a,
            None,
        )
        .await;
    assert_eq!(mine.data["message"], page.fdata()["list"][0]);

    // Bob deletes it on his side: only Bob hears of it.
    f.call(
        Method::DELETE,
        "/api/v2/conversation/delete",
        b,
        json!({"type": "message", "messageIds": sent.get().to_string()}),
    )
    .await;
    let deleted = bob.next().await;
    assert_eq!(deleted.kind, "deleted");
    assert_eq!(deleted.data["messageIds"], json!([sent.get()]));
    alice.quiet().await;
    // Alice pins the conversation: only Alice hears of it.
    f.call(
        Method::PUT,
        "/api/v2/conversation/pin",
        a,
        json!({"conversationId": conversation}),
    )
    .await;
    let pinned = alice.next().await;
    assert_eq!(
        (pinned.kind.as_str(), &pinned.data["isPinned"]),
        ("pinned", &json!(true))
    );
    bob.quiet().await;
    // Bob reads: both sides hear of it.
    let reply = f.send(b, "alice", "hi alice").await;
    assert_eq!(alice.next().await.data["message"]["id"], reply.get());
    assert_eq!(bob.next().await.data["message"]["id"], reply.get());
    f.call(
        Method::PUT,
        "/api/v2/conversation/mark-as-read",
        a,
        json!({"type": "conversation", "conversationId": conversation}),
    )
    .await;
    for stream_event in [alice.next().await, bob.next().await] {
        assert_eq!(stream_event.kind, "read");
        assert_eq!(stream_event.data["throughId"], reply.get());
    }
    // Carol heard nothing of it; an order of Alice's is not a Fresns event.
    carol_sse.quiet().await;
    let (_, alice_site) = {
        let login = f
            .app
            .post(
                "/api/login",
                Auth::None,
                json!({"user_name": "alice", "password": "secret-pw"}),
            )
            .await;
        ((), login.data()["token"].as_str().unwrap().to_owned())
    };
    f.app.order(&alice_site).await;
    alice.quiet().await;
    // A resumed Fresns stream replays from its position.
    let mut headers = signed(&f, a, path);
    let first = mine.id.unwrap();
    headers.push(("Last-Event-ID".to_owned(), first.to_string()));
    let mut resumed = sse(&served, path, &headers).await;
    assert_eq!(resumed.next().await.kind, "pinned");
}

#[actix_web::test]
async fn fresns_stream_refusals_use_the_fresns_envelope() {
    let f = fresns().await;
    let served = serve(&f.app);
    let path = "/api/v2/conversation/events";
    // Unsigned, and no ticket.
    let unsigned = refused(&served, path, &[]).await;
    assert_ne!(unsigned["code"], 0);
    assert!(unsigned.get("message").is_some(), "{unsigned}");
    // A bad resume point.
    let mut headers = signed(&f, &f.alice.1, path);
    headers.push(("Last-Event-ID".to_owned(), "x".to_owned()));
    let bad = refused(&served, path, &headers).await;
    assert_eq!(bad["code"], 30000, "{bad}");
}

#[actix_web::test]
async fn a_client_that_does_not_read_is_cut_off_and_resumes_without_loss() {
    use std::io::{Read, Write};

    let mut settings = TestApp::settings();
    settings.events.queue = 1;
    settings.events.slow_client_secs = 1;
    let app = TestApp::with_settings(settings);
    let served = serve(&app);
    let (alice_id, alice) = app.customer("alice").await;
    let feed = Feed::User(UserId(alice_id));
    let order = app.order(&alice).await;
    // A client that asks for the stream through a small window, then reads
    // nothing: the kernel's buffers fill (the server's send buffer grows to
    // 4 MiB, hence the number and size of the messages), then the queue.
    let address: std::net::SocketAddr = served.base.trim_start_matches("http://").parse().unwrap();
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(&address.into()).unwrap();
    let mut client: std::net::TcpStream = socket.into();
    write!(
        client,
        "GET /api/communication/events HTTP/1.1\r\nHost: colloq\r\ntoken: {alice}\r\n\r\n"
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let long = "x".repeat(9000);
    const SENT: usize = 700;
    for i in 0..SENT {
        app.say(Auth::Token(&alice), order, &format!("{i} {long}"))
            .await;
    }
    // The server gives up on it a second after its queue filled.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let text = actix_web::web::block(move || {
        client.set_read_timeout(Some(WAIT)).unwrap();
        let mut bytes = Vec::new();
        // Ends at EOF: the server closed the stream (a timeout would be an error).
        client.read_to_end(&mut bytes).map(|_| bytes)
    })
    .await
    .unwrap()
    .unwrap();
    let text = String::from_utf8_lossy(&text);
    let ids: Vec<i64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("id: ").and_then(|v| v.parse().ok()))
        .collect();
    assert!(
        !ids.is_empty() && ids.len() < SENT,
        "received {} of {SENT}",
        ids.len()
    );
    // The messages in order, up to where it stopped. (A stream "from now"
    // on PostgreSQL may also carry the order's creation, committed just
    // before it opened but not yet readable then: see docs/realtime.md.)
    let positions = app.positions(feed);
    assert_eq!(positions.len(), SENT + 1);
    let start = usize::from(ids[0] != positions[0]);
    let end = start + ids.len();
    assert_eq!(ids, positions[start..end]);
    // It comes back with the last id it has: the rest, once each, in order.
    let last = *ids.last().unwrap();
    let mut headers = token(&alice);
    headers.push(("Last-Event-ID".to_owned(), last.to_string()));
    let mut resumed = sse(&served, "/api/communication/events", &headers).await;
    for (i, &expected) in positions.iter().enumerate().skip(end) {
        let got = resumed.next().await;
        assert_eq!(got.id, Some(expected));
        let number = format!("{} ", i - 1);
        assert!(
            got.data["message"]["content"]
                .as_str()
                .unwrap()
                .starts_with(&number)
        );
    }
    resumed.quiet().await;
}

#[actix_web::test]
async fn a_ticket_lives_as_long_as_configured() {
    let mut settings = TestApp::settings();
    settings.events.ticket_ttl_secs = 5;
    let app = TestApp::with_settings(settings);
    let served = serve(&app);
    let (_, alice) = app.customer("alice").await;
    let issued = app
        .post(
            "/api/communication/stream-ticket",
            Auth::Token(&alice),
            json!({}),
        )
        .await;
    assert_eq!(issued.data()["expires_in"], 5);
    let kept = ticket(&app, &alice).await;
    let lapsed = ticket(&app, &alice).await;
    app.advance(chrono::Duration::seconds(4));
    sse(
        &served,
        &format!("/api/communication/events?ticket={kept}"),
        &[],
    )
    .await;
    app.advance(chrono::Duration::seconds(2));
    let late = refused(
        &served,
        &format!("/api/communication/events?ticket={lapsed}"),
        &[],
    )
    .await;
    assert_eq!(late["code"], 1001, "{late}");
}

#[actix_web::test]
async fn a_fresns_websocket_opened_with_signed_headers_resumes_from_after() {
    // A WeChat mini-program signs wx.connectSocket's headers like any call.
    let f = fresns().await;
    let served = serve(&f.app);
    let (a, b) = (&f.alice.1, &f.bob.1);
    let path = "/api/v2/conversation/ws";
    let mut bob = websocket(&served, path, &signed(&f, b, path)).await;
    let first = f.send(a, "bob", "one").await;
    let got = bob.next().await;
    assert_eq!(got.data["message"]["id"], first.get());
    assert_eq!(got.data["message"]["isMe"], false);
    let last = got.id.unwrap();
    drop(bob);
    let second = f.send(a, "bob", "two").await;
    let third = f.send(b, "alice", "three").await;
    let resumed_path = format!("{path}?after={last}");
    let mut bob = websocket(&served, &resumed_path, &signed(&f, b, path)).await;
    let replayed = [bob.next().await, bob.next().await];
    assert_eq!(replayed[0].data["message"]["id"], second.get());
    assert_eq!(replayed[1].data["message"]["id"], third.get());
    assert_eq!(replayed[1].data["message"]["isMe"], true);
    let positions = f.app.positions(Feed::User(f.bob.0));
    let after_last: Vec<i64> = positions.into_iter().filter(|&p| p > last).collect();
    assert_eq!(
        replayed.iter().map(|e| e.id.unwrap()).collect::<Vec<_>>(),
        after_last
    );
    bob.quiet().await;
    // A bad signature opens nothing.
    let mut forged = signed(&f, b, path);
    for (name, value) in &mut forged {
        if name.eq_ignore_ascii_case("x-fresns-signature") {
            *value = "0".repeat(32);
        }
    }
    let refused_ws = refused(&served, path, &forged).await;
    assert_ne!(refused_ws["code"], 0, "{refused_ws}");
}

/// On PostgreSQL an event is readable once every older writer has ended. A
/// stream that heard of a send it cannot read yet keeps trying, and when the
/// older transaction commits (telling no one: it is not a use case) it
/// delivers both, the older first. Without the retry it would wait for its
/// heartbeat, 25 s away.
#[actix_web::test]
async fn a_stream_waits_for_an_older_writer_then_delivers_both_in_order() {
    use colloq_domain::event::{Change, NewEvent};
    use colloq_domain::ids::ThreadId;
    use colloq_persistence::DbConn;
    use diesel::connection::{Connection, TransactionManager};

    let app = TestApp::new();
    let served = serve(&app);
    let (alice_id, alice) = app.customer("alice").await;
    let order = app.order(&alice).await;
    let mut older = app.pool.get().unwrap();
    if matches!(*older, DbConn::Sqlite(_)) {
        // One writer at a time: no older writer can be open beside a send.
        return;
    }
    let feed = Feed::User(UserId(alice_id));
    let created = app.positions(feed)[0];
    let path = format!("/api/communication/events?after={created}");
    let mut stream = sse(&served, &path, &token(&alice)).await;
    type Manager = <DbConn as Connection>::TransactionManager;
    Manager::begin_transaction(&mut *older).unwrap();
    let edit = NewEvent {
        audience: vec![feed],
        thread: ThreadId(order),
        actor: Some(UserId(alice_id)),
        change: Change::OrderUpdated,
    };
    colloq_persistence::events::record(&mut older, &[edit], chrono::Utc::now()).unwrap();
    // The send commits and is announced, but cannot be read yet.
    app.say(Auth::Token(&alice), order, "younger").await;
    stream.quiet().await;
    Manager::commit_transaction(&mut *older).unwrap();
    let first = stream.next().await;
    let second = stream.next().await;
    assert_eq!(
        (first.kind.as_str(), second.kind.as_str()),
        ("order_updated", "message")
    );
    assert_eq!(second.data["message"]["content"], "younger");
    assert!(first.id < second.id);
}
