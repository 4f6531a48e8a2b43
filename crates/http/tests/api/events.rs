//! The change feed: every state change a participant could see is recorded,
//! whichever dialect caused it, in the feed of everyone who may see it, at
//! increasing positions, and read back from any position.

use actix_web::http::Method;
use colloq_domain::event::{Change, Event, Feed};
use colloq_domain::ids::{MessageId, ThreadId, UserId};
use colloq_domain::order::OrderStatus;
use serde_json::{Value, json};

use crate::fresns_helpers::{Key, Session};
use crate::helpers::{Auth, TestApp};

impl TestApp {
    /// Every event of `feed`, read in pages of three to cover resuming.
    pub(crate) fn feed(&self, feed: Feed) -> Vec<Event> {
        let mut conn = self.pool.get().unwrap();
        colloq_persistence::testing::settle(&mut conn);
        let mut all: Vec<Event> = Vec::new();
        loop {
            let after = all.last().map_or(0, |e| e.position);
            let page = colloq_core::events::read(&mut conn, feed, after, 3).unwrap();
            if page.is_empty() {
                break;
            }
            all.extend(page);
        }
        let head = colloq_core::events::head(&mut conn, feed).unwrap();
        let positions: Vec<i64> = all.iter().map(|e| e.position).collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "{feed}: positions increase: {positions:?}"
        );
        assert_eq!(positions.last().copied().unwrap_or(0), head, "{feed}");
        assert!(all.iter().all(|e| e.feed == feed));
        all
    }

    /// The positions of `feed`'s events: what a stream's ids must be.
    pub(crate) fn positions(&self, feed: Feed) -> Vec<i64> {
        self.feed(feed).iter().map(|e| e.position).collect()
    }

    /// The messages `feed` was told were appended, in id order.
    fn appended(&self, feed: Feed) -> Vec<MessageId> {
        let mut ids: Vec<MessageId> = self
            .feed(feed)
            .iter()
            .filter_map(|e| match e.change {
                Change::MessageAppended { message } => Some(message),
                _ => None,
            })
            .collect();
        ids.sort_unstable();
        ids
    }

    /// The (thread, actor, change) of each event of `feed`.
    fn changes(&self, feed: Feed) -> Vec<(ThreadId, Option<UserId>, Change)> {
        self.feed(feed)
            .into_iter()
            .map(|e| (e.thread, e.actor, e.change))
            .collect()
    }
}

fn message(v: &Value) -> MessageId {
    MessageId(v["id"].as_i64().unwrap())
}

/// The system note of each status change, read from the order's thread.
async fn notes(app: &TestApp, token: &str, order: i64) -> Vec<MessageId> {
    app.thread(token, order)
        .await
        .iter()
        .filter(|m| m["sender_type"] == "system")
        .map(message)
        .collect()
}

#[actix_web::test]
async fn an_orders_life_is_told_to_its_customer_and_to_staff() {
    let app = TestApp::new();
    let (alice, token) = app.customer("alice").await;
    let (staffer, admin) = app.staff("staffer").await;
    let (alice, staffer) = (UserId(alice), UserId(staffer));
    let order = app.order(&token).await;
    let thread = ThreadId(order);

    let question = message(&app.say(Auth::Token(&token), order, "Can you?").await);
    let reply = message(&app.say(Auth::Admin(&admin), order, "We can").await);
    app.post(
        "/api/communication/order/update",
        Auth::Token(&token),
        json!({"id": order, "title": "Theme, blue"}),
    )
    .await
    .data();
    let quoted = app
        .post(
            "/system/api/communication/order/quote",
            Auth::Admin(&admin),
            json!({"id": order, "quote_price": 9900, "quote_content": "Theme"}),
        )
        .await;
    quoted.data();
    app.post(
        "/system/api/communication/order/images",
        Auth::Admin(&admin),
        json!({"id": order, "sketch_images": ["https://x/s1.png"]}),
    )
    .await
    .data();
    app.post(
        "/api/communication/order/accept",
        Auth::Token(&token),
        json!({"id": order}),
    )
    .await
    .data();
    // A refused change records nothing: the transaction rolled back whole.
    app.post(
        "/api/communication/order/cancel",
        Auth::Token(&token),
        json!({"id": order}),
    )
    .await
    .assert_error(-1, "cannot cancel");

    let notes = notes(&app, &token, order).await;
    assert_eq!(notes.len(), 3, "{notes:?}");
    let quote = app
        .thread(&token, order)
        .await
        .iter()
        .find(|m| m["message_type"] == "quote")
        .map(message)
        .unwrap();
    let expected = vec![
        (thread, Some(alice), Change::OrderCreated),
        (
            thread,
            Some(alice),
            Change::MessageAppended { message: question },
        ),
        (
            thread,
            Some(staffer),
            Change::MessageAppended { message: reply },
        ),
        (
            thread,
            Some(staffer),
            Change::OrderStatusChanged {
                from: OrderStatus::Pending,
                to: OrderStatus::Communicating,
                note: notes[0],
            },
        ),
        (thread, Some(alice), Change::OrderUpdated),
        (thread, Some(staffer), Change::OrderUpdated),
        (
            thread,
            Some(staffer),
            Change::MessageAppended { message: quote },
        ),
        (
            thread,
            Some(staffer),
            Change::OrderStatusChanged {
                from: OrderStatus::Communicating,
                to: OrderStatus::Quoted,
                note: notes[1],
            },
        ),
        (thread, Some(staffer), Change::OrderUpdated),
        (
            thread,
            Some(alice),
            Change::OrderStatusChanged {
                from: OrderStatus::Quoted,
                to: OrderStatus::Accepted,
                note: notes[2],
            },
        ),
    ];
    assert_eq!(app.changes(Feed::User(alice)), expected);
    assert_eq!(app.changes(Feed::Staff), expected);
    assert!(
        app.feed(Feed::User(staffer)).is_empty(),
        "staff hear of orders in the staff feed, not their own"
    );
}

#[actix_web::test]
async fn customers_hear_only_of_their_own_orders() {
    let app = TestApp::new();
    let (alice, alice_token) = app.customer("alice").await;
    let (bob, bob_token) = app.customer("bob").await;
    let (_, admin) = app.staff("staffer").await;
    let alices = app.order(&alice_token).await;
    let bobs = app.order(&bob_token).await;
    app.say(Auth::Admin(&admin), bobs, "hi bob").await;
    app.say(Auth::Token(&alice_token), alices, "hi").await;

    let threads = |feed| -> Vec<i64> { app.feed(feed).iter().map(|e| e.thread.get()).collect() };
    assert_eq!(threads(Feed::User(UserId(alice))), [alices, alices]);
    assert_eq!(threads(Feed::User(UserId(bob))), [bobs, bobs, bobs]);
    assert_eq!(threads(Feed::Staff), [alices, bobs, bobs, bobs, alices]);
    // A feed read from its head has nothing until the next change.
    let mut conn = app.pool.get().unwrap();
    let head = colloq_core::events::head(&mut conn, Feed::Staff).unwrap();
    assert!(
        colloq_core::events::read(&mut conn, Feed::Staff, head, 10)
            .unwrap()
            .is_empty()
    );
    drop(conn);
    app.say(Auth::Token(&bob_token), bobs, "thanks").await;
    let mut conn = app.pool.get().unwrap();
    colloq_persistence::testing::settle(&mut conn);
    let next = colloq_core::events::read(&mut conn, Feed::Staff, head, 10).unwrap();
    assert_eq!(next.len(), 1);
    assert!(next[0].position > head);
}

#[actix_web::test]
async fn a_retried_send_records_its_event_once() {
    let app = TestApp::new();
    let (alice, token) = app.customer("alice").await;
    let order = app.order(&token).await;
    let send = || {
        let req = actix_web::test::TestRequest::post()
            .uri("/api/communication/message/send")
            .insert_header(("token", token.as_str()))
            .insert_header(("Idempotency-Key", "retry-1"))
            .set_json(json!({"comm_order_id": order, "message_type": "text", "content": "once"}));
        app.send(req)
    };
    let first = message(send().await.data());
    let again = message(send().await.data());
    assert_eq!(first, again);
    let appended: Vec<Change> = app
        .changes(Feed::User(UserId(alice)))
        .into_iter()
        .map(|(_, _, c)| c)
        .filter(|c| matches!(c, Change::MessageAppended { .. }))
        .collect();
    assert_eq!(appended, [Change::MessageAppended { message: first }]);
}

pub(crate) struct Fresns {
    pub(crate) app: TestApp,
    pub(crate) key: Key,
    pub(crate) alice: (UserId, Session),
    pub(crate) bob: (UserId, Session),
}

pub(crate) async fn fresns() -> Fresns {
    let app = TestApp::new();
    let key = app.key(2, false, None);
    let mut people = Vec::new();
    for name in ["alice", "bob"] {
        let (id, _) = app.customer(name).await;
        people.push((UserId(id), app.fresns_login(&key, name).await));
    }
    let bob = people.pop().unwrap();
    let alice = people.pop().unwrap();
    Fresns {
        app,
        key,
        alice,
        bob,
    }
}

impl Fresns {
    pub(crate) async fn call(
        &self,
        method: Method,
        uri: &str,
        who: &Session,
        body: Value,
    ) -> Value {
        self.app
            .fresns(method, uri, &self.key, who, Some(body))
            .await
            .fdata()
            .clone()
    }

    pub(crate) async fn send(&self, from: &Session, to: &str, text: &str) -> MessageId {
        let body = json!({"uidOrUsername": to, "message": text});
        let sent = self
            .call(
                Method::POST,
                "/api/v2/conversation/send-message",
                from,
                body,
            )
            .await;
        message(&sent)
    }
}

#[actix_web::test]
async fn a_conversation_tells_each_side_what_it_may_see() {
    let f = fresns().await;
    let ((alice, a), (bob, b)) = (&f.alice, &f.bob);
    let first = f.send(a, "bob", "one").await;
    let second = f.send(a, "bob", "two").await;
    let answer = f.send(b, "alice", "three").await;
    let conversation = f.app.feed(Feed::User(*alice))[0].thread;
    let id = conversation.get();

    f.call(
        Method::PUT,
        "/api/v2/conversation/mark-as-read",
        b,
        json!({"type": "message", "messageIds": format!("{},{}", first.get(), answer.get())}),
    )
    .await;
    f.call(
        Method::PUT,
        "/api/v2/conversation/mark-as-read",
        b,
        json!({"type": "conversation", "conversationId": id}),
    )
    .await;
    // Nothing left unread: no event.
    f.call(
        Method::PUT,
        "/api/v2/conversation/mark-as-read",
        b,
        json!({"type": "conversation", "conversationId": id}),
    )
    .await;
    f.call(
        Method::PUT,
        "/api/v2/conversation/pin",
        a,
        json!({"conversationId": id}),
    )
    .await;
    f.call(
        Method::DELETE,
        "/api/v2/conversation/delete",
        a,
        json!({"type": "message", "messageIds": first.get().to_string()}),
    )
    .await;
    f.call(
        Method::DELETE,
        "/api/v2/conversation/delete",
        b,
        json!({"type": "conversation", "conversationId": id}),
    )
    .await;

    let (alice, bob) = (*alice, *bob);
    let appended = |from: UserId, message| {
        (
            conversation,
            Some(from),
            Change::MessageAppended { message },
        )
    };
    let shared = [
        appended(alice, first),
        appended(alice, second),
        appended(bob, answer),
        (
            conversation,
            Some(bob),
            Change::MessagesRead {
                messages: vec![first],
            },
        ),
        (
            conversation,
            Some(bob),
            Change::ConversationRead { through: second },
        ),
    ];
    let mut alices = shared.to_vec();
    alices.push((
        conversation,
        Some(alice),
        Change::ConversationPinned { pinned: true },
    ));
    alices.push((
        conversation,
        Some(alice),
        Change::MessagesDeleted {
            messages: vec![first],
        },
    ));
    let mut bobs = shared.to_vec();
    bobs.push((conversation, Some(bob), Change::ConversationHidden));
    assert_eq!(f.app.changes(Feed::User(alice)), alices);
    assert_eq!(f.app.changes(Feed::User(bob)), bobs);
    assert!(f.app.feed(Feed::Staff).is_empty());
}

#[actix_web::test]
async fn a_stranger_hears_nothing_of_a_conversation() {
    let f = fresns().await;
    let (carol, _) = f.app.customer("carol").await;
    f.send(&f.alice.1, "bob", "private").await;
    assert!(f.app.feed(Feed::User(UserId(carol))).is_empty());
    assert_eq!(f.app.feed(Feed::User(f.bob.0)).len(), 1);
}

/// Many writers at once, on both engines: each feed still has every change
/// exactly once, at increasing positions.
#[actix_web::test]
async fn concurrent_writers_leave_no_gap_and_no_repeat() {
    let app = TestApp::new();
    let (_, admin) = app.staff("staffer").await;
    let mut orders = Vec::new();
    for name in ["alice", "bob", "carol", "dave"] {
        let (_, token) = app.customer(name).await;
        orders.push(app.order(&token).await);
    }
    let sends = orders
        .iter()
        .flat_map(|&order| (0..6).map(move |i| (order, format!("reply {i}"))));
    let (app_ref, admin) = (&app, admin.as_str());
    let sent =
        futures_util::future::join_all(sends.map(|(order, text)| async move {
            app_ref.say(Auth::Admin(admin), order, &text).await
        }))
        .await;
    let mut sent: Vec<MessageId> = sent.iter().map(message).collect();
    sent.sort_unstable();
    assert_eq!(app.appended(Feed::Staff), sent);
    // Four creations, 24 replies, and each order opened once.
    assert_eq!(app.feed(Feed::Staff).len(), 4 + 24 + 4);
}

/// A customer's messages hold their order shared and staff replies hold it
/// exclusively, both before the thread: mixed at once, on both engines,
/// every one is stored and told once, and none waits forever for another.
#[actix_web::test]
async fn customer_and_staff_writes_to_one_order_at_once_all_succeed() {
    let app = TestApp::new();
    let (_, admin) = app.staff("staffer").await;
    let (alice, token) = app.customer("alice").await;
    let order = app.order(&token).await;
    let (app_ref, admin, token) = (&app, admin.as_str(), token.as_str());
    let sent = futures_util::future::join_all((0..16).map(|i| async move {
        let auth = if i % 2 == 0 {
            Auth::Token(token)
        } else {
            Auth::Admin(admin)
        };
        app_ref.say(auth, order, &format!("message {i}")).await
    }))
    .await;
    let mut sent: Vec<MessageId> = sent.iter().map(message).collect();
    sent.sort_unstable();
    assert_eq!(app.appended(Feed::User(UserId(alice))), sent);
    assert_eq!(app.appended(Feed::Staff), sent);
    // The first staff reply opened the order, once.
    let opened = app
        .changes(Feed::Staff)
        .into_iter()
        .filter(|(_, _, c)| matches!(c, Change::OrderStatusChanged { .. }))
        .count();
    assert_eq!(opened, 1);
}
