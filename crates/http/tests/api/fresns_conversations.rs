//! Fresns conversations: send, list, detail, messages, read, pin,
//! delete, panel, User Info and its key filters, time formats.

use actix_web::http::Method;
use chrono::Duration;
use colloq_core::accounts::UserRef;
use colloq_core::conversations::send_direct_message;
use colloq_domain::message::MessageBody;
use colloq_persistence::accounts::{self, ProfileChanges};
use colloq_persistence::{Writer, relations};
use serde_json::{Value, json};

use crate::fresns_helpers::{Key, Session, Tweaks};
use crate::helpers::TestApp;

struct Pair {
    app: TestApp,
    key: Key,
    alice: Session,
    bob: Session,
}

async fn pair() -> Pair {
    let app = TestApp::new();
    let key = app.key(2, false, None);
    let alice = app.fresns_user(&key, "alice").await;
    let bob = app.fresns_user(&key, "bob").await;
    Pair {
        app,
        key,
        alice,
        bob,
    }
}

impl Pair {
    async fn send(&self, from: &Session, to: &str, text: &str) -> Value {
        let res = self
            .app
            .fresns(
                Method::POST,
                "/api/v2/conversation/send-message",
                &self.key,
                from,
                Some(json!({"uidOrUsername": to, "message": text})),
            )
            .await;
        res.fdata().clone()
    }

    async fn call(
        &self,
        method: Method,
        uri: &str,
        who: &Session,
        body: Value,
    ) -> crate::helpers::Resp {
        self.app
            .fresns(method, uri, &self.key, who, Some(body))
            .await
    }

    async fn get(&self, who: &Session, uri: &str) -> crate::helpers::Resp {
        self.app
            .fresns(Method::GET, uri, &self.key, who, None)
            .await
    }

    /// A GET sent with a language tag and a time zone.
    async fn get_in(
        &self,
        who: &Session,
        uri: &str,
        lang: &'static str,
        timezone: &'static str,
    ) -> crate::helpers::Resp {
        let tweaks = Tweaks {
            lang: Some(lang),
            timezone: Some(timezone),
            ..Tweaks::default()
        };
        self.app
            .fresns_tweaked(Method::GET, uri, &self.key, who, None, &tweaks)
            .await
    }

    fn profile(&self, name: &str, changes: &ProfileChanges) {
        let mut conn = self.app.pool.get().unwrap();
        let user = accounts::find_by_username(&mut conn, name)
            .unwrap()
            .unwrap();
        accounts::update_profile(&mut conn, user.id, changes).unwrap();
    }

    /// Records that `who` follows `whom`.
    fn follows(&self, who: &str, whom: &str) {
        let mut conn = self.app.pool.get().unwrap();
        let now = self.app.clock().now();
        relations::follow(&mut conn, self.id_of(who), self.id_of(whom), now).unwrap();
    }

    /// Records that `who` blocks `whom`.
    fn blocks(&self, who: &str, whom: &str) {
        let mut conn = self.app.pool.get().unwrap();
        let now = self.app.clock().now();
        relations::block(&mut conn, self.id_of(who), self.id_of(whom), now).unwrap();
    }

    fn id_of(&self, name: &str) -> colloq_domain::ids::UserId {
        let mut conn = self.app.pool.get().unwrap();
        accounts::find_by_username(&mut conn, name)
            .unwrap()
            .unwrap()
            .id
    }
}

fn ids(res: &crate::helpers::Resp) -> Vec<String> {
    res.fdata()["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[actix_web::test]
async fn send_creates_the_conversation_and_answers_the_message() {
    let p = pair().await;
    let sent = p.send(&p.alice, "bob", "hello bob").await;
    let keys: Vec<&String> = sent.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "id",
            "user",
            "isMe",
            "type",
            "content",
            "file",
            "datetime",
            "datetimeFormat",
            "timeAgo",
            "readStatus"
        ]
    );
    assert_eq!(
        (
            sent["isMe"].clone(),
            sent["type"].clone(),
            sent["readStatus"].clone()
        ),
        (json!(true), json!(1), json!(false))
    );
    assert_eq!(sent["content"], "hello bob");
    assert_eq!(sent["file"], json!(null));
    assert_eq!(sent["timeAgo"], "1 minute ago");
    assert_eq!(sent["user"]["username"], "alice");
    assert_eq!(
        sent["user"]["conversation"]["code"], 31602,
        "one's own profile cannot be messaged"
    );
    // By uid works as well, and lands in the same conversation.
    let reply = p
        .send(&p.bob, p.alice.uid.as_deref().unwrap(), "hi alice")
        .await;
    let list = p.get(&p.alice, "/api/v2/conversation/list").await;
    assert_eq!(list.fdata()["pagination"]["total"], 1);
    let item = &list.fdata()["list"][0];
    assert_eq!(item["latestMessage"]["id"], reply["id"]);
    assert_eq!(
        (item["messageCount"].clone(), item["unreadCount"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(item["user"]["username"], "bob");
    assert_eq!(
        item["user"]["conversation"],
        json!({"status": true, "code": 0, "message": "Success"})
    );
}

#[actix_web::test]
async fn send_checks_permission_words_keys_and_input() {
    let p = pair().await;
    let to_bob = |text: &str| json!({"uidOrUsername": "bob", "message": text});
    p.call(
        Method::POST,
        "/api/v2/conversation/send-message",
        &p.alice,
        json!({"uidOrUsername": "nobody", "message": "x"}),
    )
    .await
    .fcode(31602);
    p.call(
        Method::POST,
        "/api/v2/conversation/send-message",
        &p.alice,
        json!({"uidOrUsername": "alice", "message": "x"}),
    )
    .await
    .fcode(31602);
    assert_eq!(
        p.call(
            Method::POST,
            "/api/v2/conversation/send-message",
            &p.alice,
            json!({"message": "x"})
        )
        .await
        .fcode(30000),
        "The uid or username field is required."
    );
    assert_eq!(
        p.call(
            Method::POST,
            "/api/v2/conversation/send-message",
            &p.alice,
            json!({"uidOrUsername": "bob"})
        )
        .await
        .fcode(30000),
        "The message field is required when fid is not present."
    );
    assert_eq!(
        p.call(
            Method::POST,
            "/api/v2/conversation/send-message",
            &p.alice,
            json!({"uidOrUsername": "bob", "message": "  "})
        )
        .await
        .fcode(30000),
        "The message field is required when fid is not present."
    );
    assert_eq!(
        p.call(
            Method::POST,
            "/api/v2/conversation/send-message",
            &p.alice,
            json!({"uidOrUsername": "bob", "message": 5})
        )
        .await
        .fcode(30000),
        "The message must be a string."
    );
    p.call(
        Method::POST,
        "/api/v2/conversation/send-message",
        &p.alice,
        json!({"uidOrUsername": "bob", "fid": "abc"}),
    )
    .await
    .fcode(30000);

    let limit = |code| ProfileChanges {
        conversation_limit: Some(code),
        ..ProfileChanges::default()
    };
    p.profile("bob", &limit(4));
    p.call(
        Method::POST,
        "/api/v2/conversation/send-message",
        &p.alice,
        to_bob("x"),
    )
    .await
    .fcode(36608);
    p.profile("bob", &limit(2));
    p.call(
        Method::POST,
        "/api/v2/conversation/send-message",
        &p.alice,
        to_bob("x"),
    )
    .await
    .fcode(36606);
    p.profile("bob", &limit(3));
    p.call(
        Method::POST,
        "/api/v2/conversation/send-message",
        &p.alice,
        to_bob("x"),
    )
    .await
    .fcode(36607);
    p.profile(
        "alice",
        &ProfileChanges {
            is_verified: Some(true),
            ..ProfileChanges::default()
        },
    );
    p.call(
        Method::POST,
        "/api/v2/conversation/send-message",
        &p.alice,
        to_bob("verified may write"),
    )
    .await
    .fdata();
    p.profile(
        "alice",
        &ProfileChanges {
            is_verified: Some(false),
            ..ProfileChanges::default()
        },
    );
    p.profile("bob", &limit(2));
    // Documented meaning: bob accepts users *he* follows.
    p.follows("alice", "bob");
    p.call(
        Method::POST,
        "/api/v2/conversation/send-message",
        &p.alice,
        to_bob("x"),
    )
    .await
    .fcode(36606);
    p.follows("bob", "alice");
    p.call(
        Method::POST,
        "/api/v2/conversation/send-message",
        &p.alice,
        to_bob("followed may write"),
    )
    .await
    .fdata();
    p.profile("bob", &limit(1));
    p.blocks("bob", "alice");
    p.call(
        Method::POST,
        "/api/v2/conversation/send-message",
        &p.alice,
        to_bob("x"),
    )
    .await
    .fcode(36608);

    let carol = p.app.fresns_user(&p.key, "carol").await;
    p.profile(
        "bob",
        &ProfileChanges {
            is_enabled: Some(false),
            ..ProfileChanges::default()
        },
    );
    p.call(
        Method::POST,
        "/api/v2/conversation/send-message",
        &carol,
        to_bob("x"),
    )
    .await
    .fcode(35202);
    p.profile(
        "bob",
        &ProfileChanges {
            deleted_at: Some(Some(p.app.clock().now().naive_utc())),
            ..ProfileChanges::default()
        },
    );
    p.call(
        Method::POST,
        "/api/v2/conversation/send-message",
        &carol,
        to_bob("x"),
    )
    .await
    .fcode(35203);

    let mut settings = TestApp::settings();
    settings.fresns.block_words = vec!["Spam".to_owned()];
    let strict = TestApp::with_settings(settings);
    let key = strict.key(2, false, None);
    let dave = strict.fresns_user(&key, "dave").await;
    strict.fresns_user(&key, "erin").await;
    let res = strict
        .fresns(
            Method::POST,
            "/api/v2/conversation/send-message",
            &key,
            &dave,
            Some(json!({"uidOrUsername": "erin", "message": "buy SPAM now"})),
        )
        .await;
    res.fcode(36605);

    let read_only = p.app.key(2, true, None);
    let carol_ro = p.app.fresns_login(&read_only, "carol").await;
    p.app
        .fresns(
            Method::POST,
            "/api/v2/conversation/send-message",
            &read_only,
            &carol_ro,
            Some(json!({"uidOrUsername": "alice", "message": "x"})),
        )
        .await
        .fcode(31305);
    p.app
        .fresns(
            Method::GET,
            "/api/v2/conversation/list",
            &read_only,
            &carol_ro,
            None,
        )
        .await
        .fdata();

    let mut off = TestApp::settings();
    off.fresns.conversation_enabled = false;
    let closed = TestApp::with_settings(off);
    let key = closed.key(2, false, None);
    let frank = closed.fresns_user(&key, "frank").await;
    closed.fresns_user(&key, "gina").await;
    closed
        .fresns(
            Method::POST,
            "/api/v2/conversation/send-message",
            &key,
            &frank,
            Some(json!({"uidOrUsername": "gina", "message": "x"})),
        )
        .await
        .fcode(36600);
}

/// Five messages in one conversation, all stamped with the same instant, so
/// only the id tie-breaker orders them.
fn same_instant_thread(p: &Pair) -> i64 {
    let mut conn = p.app.pool.get().unwrap();
    let alice = accounts::find_by_username(&mut conn, "alice")
        .unwrap()
        .unwrap();
    let now = p.app.clock().now();
    let mut id = 0;
    for i in 1..=5 {
        let body = MessageBody::parse(format!("m{i}")).unwrap();
        let (message, _) = send_direct_message(
            &mut conn,
            &Writer::direct(),
            &alice,
            &UserRef::Username("bob".to_owned()),
            colloq_core::conversations::DirectMessage {
                content: colloq_core::conversations::DirectContent::Text(body),
                key: None,
            },
            &[],
            now,
        )
        .unwrap();
        id = message.thread.get();
    }
    id
}

#[actix_web::test]
async fn order_direction_picks_the_page_and_page_list_direction_only_reverses_it() {
    let p = pair().await;
    let id = same_instant_thread(&p);
    let page = |q: &str| format!("/api/v2/conversation/{id}/messages?pageSize=2&{q}");
    let cases = [
        ("", vec!["m5", "m4"]),
        (
            "orderDirection=desc&pageListDirection=latest",
            vec!["m5", "m4"],
        ),
        (
            "orderDirection=desc&pageListDirection=oldest",
            vec!["m4", "m5"],
        ),
        (
            "orderDirection=asc&pageListDirection=latest",
            vec!["m1", "m2"],
        ),
        (
            "orderDirection=asc&pageListDirection=oldest",
            vec!["m2", "m1"],
        ),
        ("orderDirection=asc&page=2", vec!["m3", "m4"]),
        ("orderDirection=desc&page=3", vec!["m1"]),
    ];
    for (q, expected) in cases {
        assert_eq!(ids(&p.get(&p.bob, &page(q)).await), expected, "{q}");
    }
    let res = p.get(&p.bob, &page("page=9")).await;
    assert_eq!(res.fdata()["list"], json!([]));
    assert_eq!(
        res.fdata()["pagination"],
        json!({"total": 5, "pageSize": 2, "currentPage": 9, "lastPage": 3})
    );
    for zero in ["page=0", "page=-4"] {
        let res = p.get(&p.bob, &page(zero)).await;
        assert_eq!(res.fdata()["pagination"]["currentPage"], 1, "{zero}");
    }
    let default = p
        .get(&p.bob, &format!("/api/v2/conversation/{id}/messages"))
        .await;
    assert_eq!(default.fdata()["pagination"]["pageSize"], 15);
    for (q, msg) in [
        ("pageSize=0", "The page size must be between 1 and 30."),
        ("pageSize=31", "The page size must be between 1 and 30."),
        ("pageSize=abc", "The page size must be an integer."),
        ("page=x", "The page must be an integer."),
        (
            "orderDirection=up",
            "The selected order direction is invalid.",
        ),
        (
            "pageListDirection=newest",
            "The selected page list direction is invalid.",
        ),
    ] {
        assert_eq!(
            p.get(&p.bob, &format!("/api/v2/conversation/{id}/messages?{q}"))
                .await
                .fcode(30000),
            msg
        );
    }
    assert_eq!(
        p.get(&p.bob, "/api/v2/conversation/abc/messages")
            .await
            .fcode(30000),
        "The conversation id must be an integer."
    );
    p.get(&p.bob, "/api/v2/conversation/987654/messages")
        .await
        .fcode(36601);
    let carol = p.app.fresns_user(&p.key, "carol").await;
    p.get(&carol, &format!("/api/v2/conversation/{id}/messages"))
        .await
        .fcode(36602);
    p.get(&carol, &format!("/api/v2/conversation/{id}/detail"))
        .await
        .fcode(36602);
}

#[actix_web::test]
async fn is_me_read_status_mark_as_read_and_panel_from_both_sides() {
    let p = pair().await;
    let first = p.send(&p.alice, "bob", "one").await;
    p.send(&p.alice, "bob", "two").await;
    p.send(&p.bob, "alice", "three").await;
    let id = p.get(&p.alice, "/api/v2/conversation/list").await.fdata()["list"][0]["id"]
        .as_i64()
        .unwrap();
    let uri = format!("/api/v2/conversation/{id}/messages?orderDirection=asc");
    let bob_view = p.get(&p.bob, &uri).await;
    let flags: Vec<(bool, bool)> = bob_view.fdata()["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["isMe"].as_bool().unwrap(),
                m["readStatus"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(flags, vec![(false, false), (false, false), (true, false)]);
    assert_eq!(
        p.get(&p.bob, "/api/v2/user/panel").await.fdata()["conversations"],
        json!({"conversationCount": 1, "unreadMessages": 2})
    );
    // Listing marked nothing read.
    assert_eq!(
        p.get(&p.bob, &format!("/api/v2/conversation/{id}/detail"))
            .await
            .fdata()["unreadCount"],
        2
    );

    assert_eq!(
        p.call(
            Method::PUT,
            "/api/v2/conversation/mark-as-read",
            &p.bob,
            json!({"type": "message", "messageIds": format!("{},x,,999999", first["id"])})
        )
        .await
        .fdata(),
        &json!(null)
    );
    assert_eq!(
        p.get(&p.bob, &format!("/api/v2/conversation/{id}/detail"))
            .await
            .fdata()["unreadCount"],
        1
    );
    p.call(
        Method::PUT,
        "/api/v2/conversation/mark-as-read",
        &p.bob,
        json!({"type": "conversation", "conversationId": id}),
    )
    .await
    .fdata();
    let detail = p
        .get(&p.bob, &format!("/api/v2/conversation/{id}/detail"))
        .await;
    let keys: Vec<&String> = detail.fdata().as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "user", "messageCount", "unreadCount"]);
    assert_eq!(detail.fdata()["unreadCount"], 0);
    let alice_view = p.get(&p.alice, &uri).await;
    let flags: Vec<(bool, bool)> = alice_view.fdata()["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["isMe"].as_bool().unwrap(),
                m["readStatus"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        flags,
        vec![(true, true), (true, true), (false, false)],
        "alice sees bob read hers"
    );
    assert_eq!(
        p.get(&p.alice, "/api/v2/user/panel").await.fdata()["conversations"]["unreadMessages"],
        1
    );

    let carol = p.app.fresns_user(&p.key, "carol").await;
    p.call(
        Method::PUT,
        "/api/v2/conversation/mark-as-read",
        &carol,
        json!({"type": "conversation", "conversationId": id}),
    )
    .await
    .fcode(36602);
    p.call(
        Method::PUT,
        "/api/v2/conversation/mark-as-read",
        &carol,
        json!({"type": "conversation", "conversationId": 424242}),
    )
    .await
    .fcode(36602);
    assert_eq!(
        p.call(
            Method::PUT,
            "/api/v2/conversation/mark-as-read",
            &p.bob,
            json!({"type": "all"})
        )
        .await
        .fcode(30000),
        "The selected type is invalid."
    );
    assert_eq!(
        p.call(
            Method::PUT,
            "/api/v2/conversation/mark-as-read",
            &p.bob,
            json!({"type": "conversation"})
        )
        .await
        .fcode(30000),
        "The conversation id field is required when type is conversation."
    );
    assert_eq!(
        p.call(
            Method::PUT,
            "/api/v2/conversation/mark-as-read",
            &p.bob,
            json!({"type": "message"})
        )
        .await
        .fcode(30000),
        "The message ids field is required when type is message."
    );
    assert_eq!(
        p.call(
            Method::PUT,
            "/api/v2/conversation/mark-as-read",
            &p.bob,
            json!({})
        )
        .await
        .fcode(30000),
        "The type field is required."
    );
}

#[actix_web::test]
async fn pin_toggles_my_side_and_filters_the_list() {
    let p = pair().await;
    p.send(&p.alice, "bob", "hi").await;
    let carol = p.app.fresns_user(&p.key, "carol").await;
    p.send(&carol, "alice", "hey").await;
    let list = p.get(&p.alice, "/api/v2/conversation/list").await;
    let first: Vec<&str> = list.fdata()["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["user"]["username"].as_str().unwrap())
        .collect();
    assert_eq!(
        first,
        ["carol", "alice"].map(|n| if n == "alice" { "bob" } else { n }),
        "latest message first"
    );
    let bob_conv = list.fdata()["list"][1]["id"].clone();
    p.call(
        Method::PUT,
        "/api/v2/conversation/pin",
        &p.alice,
        json!({"conversationId": bob_conv.clone()}),
    )
    .await
    .fdata();
    let pinned = p.get(&p.alice, "/api/v2/conversation/list?pinned=1").await;
    assert_eq!(pinned.fdata()["list"][0]["id"], bob_conv);
    assert_eq!(pinned.fdata()["list"][0]["pinned"], true);
    assert_eq!(pinned.fdata()["pagination"]["total"], 1);
    assert_eq!(
        p.get(&p.alice, "/api/v2/conversation/list?pinned=0")
            .await
            .fdata()["pagination"]["total"],
        1
    );
    assert_eq!(
        p.get(&p.bob, "/api/v2/conversation/list?pinned=1")
            .await
            .fdata()["pagination"]["total"],
        0,
        "pins are per side"
    );
    p.call(
        Method::PUT,
        "/api/v2/conversation/pin",
        &p.alice,
        json!({"conversationId": json!(bob_conv.as_i64().unwrap().to_string())}),
    )
    .await
    .fdata();
    assert_eq!(
        p.get(&p.alice, "/api/v2/conversation/list?pinned=1")
            .await
            .fdata()["pagination"]["total"],
        0
    );
    p.call(
        Method::PUT,
        "/api/v2/conversation/pin",
        &p.alice,
        json!({"conversationId": json!("12a")}),
    )
    .await
    .fcode(30002);
    p.call(
        Method::PUT,
        "/api/v2/conversation/pin",
        &p.alice,
        json!({"conversationId": json!(null)}),
    )
    .await
    .fcode(30002);
    p.call(
        Method::PUT,
        "/api/v2/conversation/pin",
        &p.alice,
        json!({"conversationId": json!(777777)}),
    )
    .await
    .fcode(36601);
    p.call(
        Method::PUT,
        "/api/v2/conversation/pin",
        &carol,
        json!({"conversationId": bob_conv}),
    )
    .await
    .fcode(36602);
    assert_eq!(
        p.get(&p.alice, "/api/v2/conversation/list?pinned=yes")
            .await
            .fcode(30000),
        "The pinned field must be true or false."
    );
}

#[actix_web::test]
async fn deleting_is_per_side_and_a_new_message_brings_the_conversation_back() {
    let p = pair().await;
    let one = p.send(&p.alice, "bob", "one").await;
    p.send(&p.bob, "alice", "two").await;
    let id = p.get(&p.alice, "/api/v2/conversation/list").await.fdata()["list"][0]["id"]
        .as_i64()
        .unwrap();
    let uri = format!("/api/v2/conversation/{id}/messages?orderDirection=asc");

    p.call(
        Method::DELETE,
        "/api/v2/conversation/delete",
        &p.alice,
        json!({"type": "message", "messageIds": one["id"].to_string()}),
    )
    .await
    .fdata();
    assert_eq!(ids(&p.get(&p.alice, &uri).await), ["two"]);
    assert_eq!(
        p.get(&p.alice, &uri).await.fdata()["pagination"]["total"],
        1
    );
    assert_eq!(
        ids(&p.get(&p.bob, &uri).await),
        ["one", "two"],
        "bob still has it"
    );

    p.call(
        Method::DELETE,
        "/api/v2/conversation/delete",
        &p.bob,
        json!({"type": "conversation", "conversationId": id}),
    )
    .await
    .fdata();
    assert_eq!(
        p.get(&p.bob, "/api/v2/conversation/list").await.fdata()["pagination"]["total"],
        0
    );
    assert_eq!(
        p.get(&p.bob, "/api/v2/user/panel").await.fdata()["conversations"],
        json!({"conversationCount": 0, "unreadMessages": 0})
    );
    assert_eq!(ids(&p.get(&p.bob, &uri).await), Vec::<String>::new());
    assert_eq!(
        p.get(&p.bob, &format!("/api/v2/conversation/{id}/detail"))
            .await
            .fdata()["messageCount"],
        0,
        "detail still answers"
    );
    assert_eq!(
        p.get(&p.alice, "/api/v2/conversation/list").await.fdata()["pagination"]["total"],
        1
    );

    p.send(&p.alice, "bob", "three").await;
    let back = p.get(&p.bob, "/api/v2/conversation/list").await;
    assert_eq!(back.fdata()["list"][0]["messageCount"], 1);
    assert_eq!(back.fdata()["list"][0]["unreadCount"], 1);
    assert_eq!(ids(&p.get(&p.bob, &uri).await), ["three"]);
    let carol = p.app.fresns_user(&p.key, "carol").await;
    p.call(
        Method::DELETE,
        "/api/v2/conversation/delete",
        &carol,
        json!({"type": "conversation", "conversationId": id}),
    )
    .await
    .fcode(36602);
}

#[actix_web::test]
async fn user_info_has_every_key_in_order_and_filters_apply() {
    let p = pair().await;
    p.send(&p.alice, "bob", "hi").await;
    let list = p.get(&p.bob, "/api/v2/conversation/list").await;
    let user = &list.fdata()["list"][0]["user"];
    let keys: Vec<&str> = user
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected = [
        "fsid",
        "uid",
        "username",
        "url",
        "nickname",
        "avatar",
        "decorate",
        "banner",
        "gender",
        "birthday",
        "bio",
        "location",
        "conversationLimit",
        "commentLimit",
        "verifiedStatus",
        "verifiedIcon",
        "verifiedDesc",
        "verifiedDateTime",
        "expired",
        "expiryDateTime",
        "lastPublishPost",
        "lastPublishComment",
        "lastEditUsername",
        "lastEditNickname",
        "registerDate",
        "hasPassword",
        "rankState",
        "status",
        "waitDelete",
        "waitDeleteDateTime",
        "bioHtml",
        "nicknameColor",
        "rid",
        "roleName",
        "roleNameDisplay",
        "roleIcon",
        "roleIconDisplay",
        "roleExpiryDateTime",
        "roleRankState",
        "rolePermissions",
        "roleStatus",
        "stats",
        "archives",
        "operations",
        "extends",
        "roles",
        "interaction",
        "conversation",
    ];
    assert_eq!(keys, expected);
    assert_eq!(user["stats"]["viewMeCount"], 0);
    let filtered = p
        .get(
            &p.bob,
            "/api/v2/conversation/list?whitelistKeys=uid,nickname,roles.0.rid&blacklistKeys=uid",
        )
        .await;
    assert_eq!(
        filtered.fdata()["list"][0]["user"],
        json!({"uid": user["uid"], "nickname": "alice", "roles": [{"rid": 1}]})
    );
    let empty = p
        .get(&p.bob, "/api/v2/conversation/list?whitelistKeys=nothing")
        .await;
    assert_eq!(empty.fdata()["list"][0]["user"], json!([]));
    let id = list.fdata()["list"][0]["id"].as_i64().unwrap();
    let blacklisted = p.get(&p.bob, &format!("/api/v2/conversation/{id}/messages?blacklistKeys=stats,roles,interaction,extends,operations")).await;
    let item_user = &blacklisted.fdata()["list"][0]["user"];
    assert!(item_user.get("stats").is_none() && item_user.get("roles").is_none());
    assert_eq!(item_user["username"], "alice");
}

#[actix_web::test]
async fn deleted_senders_show_as_the_placeholder() {
    let p = pair().await;
    p.send(&p.alice, "bob", "bye").await;
    p.profile(
        "alice",
        &ProfileChanges {
            deleted_at: Some(Some(p.app.clock().now().naive_utc())),
            ..ProfileChanges::default()
        },
    );
    let list = p
        .get(&p.bob, "/api/v2/conversation/list?whitelistKeys=uid")
        .await;
    let user = &list.fdata()["list"][0]["user"];
    assert_eq!(user["uid"], json!(null));
    assert_eq!(user["status"], false);
    assert!(
        user.get("timezone").is_some() && user.get("conversation").is_none(),
        "the placeholder, unfiltered"
    );
    let id = list.fdata()["list"][0]["id"].as_i64().unwrap();
    let msgs = p
        .get(&p.bob, &format!("/api/v2/conversation/{id}/messages"))
        .await;
    assert_eq!(msgs.fdata()["list"][0]["user"]["nickname"], json!(null));
    assert_eq!(msgs.fdata()["list"][0]["content"], "bye");
}

#[actix_web::test]
async fn times_follow_the_timezone_and_language_headers() {
    let p = pair().await;
    p.send(&p.alice, "bob", "hi").await;
    let id = p.get(&p.alice, "/api/v2/conversation/list").await.fdata()["list"][0]["id"]
        .as_i64()
        .unwrap();
    p.app.advance(Duration::hours(2));
    let uri = format!("/api/v2/conversation/{id}/messages");
    let utc = p.get(&p.bob, &uri).await.fdata()["list"][0].clone();
    let zh = p.get_in(&p.bob, &uri, "zh-Hans", "+5.5").await;
    let zh = &zh.fdata_any()["list"][0];
    assert_eq!(utc["timeAgo"], "2 hour ago");
    assert_eq!(zh["timeAgo"], "2 小时前");
    let utc_time = chrono::NaiveDateTime::parse_from_str(
        utc["datetime"].as_str().unwrap(),
        "%m/%d/%Y %H:%M:%S",
    )
    .unwrap();
    let zh_time = chrono::NaiveDateTime::parse_from_str(
        zh["datetime"].as_str().unwrap(),
        "%Y-%m-%d %H:%M:%S",
    )
    .unwrap();
    assert_eq!(zh_time - utc_time, Duration::minutes(330));
    p.get_in(&p.bob, &uri, "en", "+5.75").await.fdata();
    let neg = p.get_in(&p.bob, &uri, "zh-Hant", "-3.5").await;
    assert_eq!(neg.fdata_any()["list"][0]["timeAgo"], "2 小時前");
}

#[actix_web::test]
async fn malformed_bodies_and_paths_get_the_fresns_envelope() {
    let p = pair().await;
    let raw = |body: &'static [u8], content_type: &'static str| {
        p.app
            .fresns_request(
                Method::POST,
                "/api/v2/conversation/send-message",
                &p.key,
                &p.alice,
                None,
                &Tweaks::default(),
            )
            .insert_header(("content-type", content_type))
            .set_payload(body)
    };
    let res = p.app.send(raw(b"{broken", "application/json")).await;
    assert_eq!(res.fcode(30000), "The request body must be a JSON object.");
    let res = p.app.send(raw(b"[1,2]", "application/json")).await;
    assert_eq!(res.fcode(30000), "The request body must be a JSON object.");
    let res = p
        .app
        .send(raw(
            b"uidOrUsername=bob&message=form+post",
            "application/x-www-form-urlencoded",
        ))
        .await;
    assert_eq!(
        res.fdata()["content"],
        "form post",
        "form bodies work as in Laravel"
    );
    let big: &'static [u8] = Box::leak(vec![b' '; 300 * 1024].into_boxed_slice());
    let res = p.app.send(raw(big, "application/json")).await;
    assert_eq!(res.fcode(30000), "The request body is too large.");
    let res = p.get(&p.alice, "/api/v2/conversation/list/unknown").await;
    assert_eq!(res.status, actix_web::http::StatusCode::NOT_FOUND);
    assert_eq!(res.body["code"], 404);
}

#[actix_web::test]
async fn deep_pages_stay_right_when_one_side_deleted_messages() {
    let p = pair().await;
    let mut sent = Vec::new();
    for i in 1..=40 {
        let from = if i % 3 == 0 { &p.bob } else { &p.alice };
        let to = if i % 3 == 0 { "alice" } else { "bob" };
        sent.push(
            p.send(from, to, &format!("m{i}")).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let id = p.get(&p.alice, "/api/v2/conversation/list").await.fdata()["list"][0]["id"]
        .as_i64()
        .unwrap();
    let deleted: Vec<i64> = [1, 2, 7, 8, 9, 20, 33, 40]
        .iter()
        .map(|i| sent[i - 1])
        .collect();
    let ids_csv = deleted
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    p.call(
        Method::DELETE,
        "/api/v2/conversation/delete",
        &p.alice,
        json!({"type": "message", "messageIds": ids_csv}),
    )
    .await
    .fdata();
    let visible: Vec<String> = (1..=40)
        .filter(|i| ![1, 2, 7, 8, 9, 20, 33, 40].contains(i))
        .map(|i| format!("m{i}"))
        .collect();
    for (order, expected) in [
        ("asc", visible.clone()),
        ("desc", visible.iter().rev().cloned().collect()),
    ] {
        let mut seen = Vec::new();
        for page in 1..=6 {
            let res = p.get(&p.alice, &format!("/api/v2/conversation/{id}/messages?orderDirection={order}&pageSize=7&page={page}")).await;
            assert_eq!(res.fdata()["pagination"]["total"], 32);
            assert_eq!(res.fdata()["pagination"]["lastPage"], 5);
            seen.extend(ids(&res));
        }
        assert_eq!(seen, expected, "{order}");
    }
    let bob_total = p
        .get(&p.bob, &format!("/api/v2/conversation/{id}/messages"))
        .await;
    assert_eq!(
        bob_total.fdata()["pagination"]["total"],
        40,
        "bob deleted nothing"
    );

    let anchor = sent[20];
    let before = p
        .get(
            &p.alice,
            &format!("/api/v2/conversation/{id}/messages?before_id={anchor}&pageSize=4"),
        )
        .await;
    assert_eq!(
        ids(&before),
        ["m19", "m18", "m17", "m16"],
        "newest first, skipping m20 which alice deleted"
    );
    // A seek is ordered like a page: `orderDirection` (newest first by
    // default), then `pageListDirection` reverses it.
    let seek = |query: String| {
        let p = &p;
        async move {
            ids(&p
                .get(
                    &p.alice,
                    &format!("/api/v2/conversation/{id}/messages?{query}"),
                )
                .await)
        }
    };
    assert_eq!(
        seek(format!("afterId={anchor}&pageSize=3")).await,
        ["m24", "m23", "m22"]
    );
    let paged = p
        .get(
            &p.alice,
            &format!("/api/v2/conversation/{id}/messages?before_id={anchor}&pageSize=4&page=3"),
        )
        .await;
    assert_eq!(ids(&paged), ["m19", "m18", "m17", "m16"], "page is ignored");
    assert_eq!(
        paged.fdata()["pagination"],
        json!({"total": 32, "pageSize": 4, "currentPage": 1, "lastPage": 8})
    );
    assert_eq!(
        seek(format!(
            "afterId={anchor}&pageSize=3&pageListDirection=oldest"
        ))
        .await,
        ["m22", "m23", "m24"]
    );
    assert_eq!(
        seek(format!("after_id={anchor}&pageSize=3&orderDirection=asc")).await,
        ["m22", "m23", "m24"]
    );
    assert_eq!(
        seek(format!("before_id={anchor}&pageSize=4&orderDirection=asc")).await,
        ["m16", "m17", "m18", "m19"]
    );
    assert_eq!(
        seek(format!(
            "beforeId={anchor}&pageSize=4&pageListDirection=oldest"
        ))
        .await,
        ["m16", "m17", "m18", "m19"]
    );
    assert_eq!(
        p.get(
            &p.alice,
            &format!("/api/v2/conversation/{id}/messages?before_id=1&after_id=2")
        )
        .await
        .fcode(30000),
        "The before id and after id cannot be used together."
    );
    assert_eq!(
        p.get(
            &p.alice,
            &format!("/api/v2/conversation/{id}/messages?beforeId=999999")
        )
        .await
        .fcode(30000),
        "The before id does not name a message of this conversation."
    );
}

#[actix_web::test]
async fn message_pages_show_the_viewers_permission_towards_each_sender() {
    // The page reads the other participant and the follow and block facts in
    // one query; each sender's User Info shows whether the viewer may write.
    let p = pair().await;
    p.send(&p.alice, "bob", "hi").await;
    p.send(&p.bob, "alice", "hello").await;
    let id = p.get(&p.alice, "/api/v2/conversation/list").await.fdata()["list"][0]["id"]
        .as_i64()
        .unwrap();
    let uri = format!("/api/v2/conversation/{id}/messages?orderDirection=asc");
    let codes = |res: &crate::helpers::Resp| -> Vec<(bool, i64)> {
        res.fdata()["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["isMe"].as_bool().unwrap(),
                    m["user"]["conversation"]["code"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    // Alice's own profile carries the refusal to message oneself; bob is open.
    let open = codes(&p.get(&p.alice, &uri).await);
    assert_eq!(open[1], (false, 0), "{open:?}");
    let own = open[0].1;
    assert_ne!(own, 0, "one cannot message oneself");

    p.profile(
        "bob",
        &ProfileChanges {
            conversation_limit: Some(2),
            ..ProfileChanges::default()
        },
    );
    assert_eq!(
        codes(&p.get(&p.alice, &uri).await),
        vec![(true, own), (false, 36606)],
        "bob only accepts people he follows"
    );
    p.follows("bob", "alice");
    assert_eq!(
        codes(&p.get(&p.alice, &uri).await),
        vec![(true, own), (false, 0)]
    );
    p.blocks("bob", "alice");
    assert_eq!(
        codes(&p.get(&p.alice, &uri).await),
        vec![(true, own), (false, 36608)]
    );
}

#[actix_web::test]
async fn a_pages_user_info_follows_profile_edits_language_and_zone() {
    // User Info on a message page comes from a memo keyed by everything it is
    // rendered from; none of these changes may show a stale one.
    let p = pair().await;
    p.send(&p.alice, "bob", "hi").await;
    let id = p.get(&p.alice, "/api/v2/conversation/list").await.fdata()["list"][0]["id"]
        .as_i64()
        .unwrap();
    let uri = format!("/api/v2/conversation/{id}/messages");
    let alice_on_page = |res: &crate::helpers::Resp| res.fdata_any()["list"][0]["user"].clone();
    let before = alice_on_page(&p.get(&p.bob, &uri).await);
    assert_eq!(before["verifiedStatus"], false);
    assert_eq!(before["status"], true);
    assert_eq!(before["roles"][0]["name"], "User");

    p.profile(
        "alice",
        &ProfileChanges {
            is_verified: Some(true),
            is_enabled: Some(false),
            ..ProfileChanges::default()
        },
    );
    let after = alice_on_page(&p.get(&p.bob, &uri).await);
    assert_eq!(after["verifiedStatus"], true);
    assert_eq!(after["status"], false);

    let zh = alice_on_page(&p.get_in(&p.bob, &uri, "zh-Hans", "+5.5").await);
    assert_eq!(zh["roles"][0]["name"], "普通用户");
    assert_ne!(zh["registerDate"], after["registerDate"]);
    // And back: the English, UTC rendering is still the edited one.
    assert_eq!(alice_on_page(&p.get(&p.bob, &uri).await), after);
}

/// Upstream reads a write's parameters with `$request->all()`: the query
/// string and the body together, the body winning a name both carry.
#[actix_web::test]
async fn write_parameters_come_from_the_query_and_the_body_the_body_winning() {
    let p = pair().await;
    p.send(&p.alice, "bob", "one").await;
    let id = p.get(&p.bob, "/api/v2/conversation/list").await.fdata()["list"][0]["id"]
        .as_i64()
        .unwrap();
    let detail = format!("/api/v2/conversation/{id}/detail");
    assert_eq!(p.get(&p.bob, &detail).await.fdata()["unreadCount"], 1);
    // The body names another conversation: it wins, and that one is refused.
    p.call(
        Method::PUT,
        &format!("/api/v2/conversation/mark-as-read?type=conversation&conversationId={id}"),
        &p.bob,
        json!({"conversationId": 424_242}),
    )
    .await
    .fcode(36602);
    assert_eq!(p.get(&p.bob, &detail).await.fdata()["unreadCount"], 1);
    // Everything in the query, an empty body.
    p.call(
        Method::PUT,
        &format!("/api/v2/conversation/mark-as-read?type=conversation&conversationId={id}"),
        &p.bob,
        json!({}),
    )
    .await
    .fdata();
    assert_eq!(p.get(&p.bob, &detail).await.fdata()["unreadCount"], 0);
    // Sending, with the recipient in the query and the text in the body.
    let sent = p
        .call(
            Method::POST,
            "/api/v2/conversation/send-message?uidOrUsername=bob",
            &p.alice,
            json!({"message": "from the query"}),
        )
        .await;
    assert_eq!(sent.fdata()["content"], "from the query");
}

/// `user/panel` has upstream's keys and types: the official client reads
/// `unreadNotifications.all` and `draftCount.posts`, and `fileAccept` lists
/// what the upload endpoint takes.
#[actix_web::test]
async fn the_panel_has_upstreams_full_key_set() {
    let p = pair().await;
    p.send(&p.alice, "bob", "one").await;
    let res = p.get(&p.bob, "/api/v2/user/panel").await;
    let panel = res.fdata();
    let keys: Vec<&String> = panel.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "multiUser",
            "features",
            "profiles",
            "conversations",
            "unreadNotifications",
            "draftCount",
            "fileAccept"
        ]
    );
    assert_eq!(
        panel["multiUser"],
        json!({"status": false, "service": null})
    );
    assert_eq!(panel["features"], json!([]));
    assert_eq!(panel["profiles"], json!([]));
    assert_eq!(
        panel["conversations"],
        json!({"conversationCount": 1, "unreadMessages": 1})
    );
    assert_eq!(
        panel["unreadNotifications"],
        json!({"systems": 0, "recommends": 0, "likes": 0, "dislikes": 0, "follows": 0,
               "blocks": 0, "mentions": 0, "comments": 0, "quotes": 0, "all": 0})
    );
    assert_eq!(panel["draftCount"], json!({"posts": 0, "comments": 0}));
    let accept = &panel["fileAccept"];
    let images = accept["images"].as_str().unwrap();
    assert!(images.starts_with("image/jpeg,"), "{images}");
    assert!(
        images.contains(",.jpg,") && !images.contains("video/"),
        "{images}"
    );
    assert!(accept["videos"].as_str().unwrap().contains(".mp4"));
    assert!(accept["audios"].as_str().unwrap().contains("audio/mpeg"));
    assert!(accept["documents"].as_str().unwrap().contains(".pdf"));
}
