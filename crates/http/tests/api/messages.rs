//! `GET /api/communication/messages` and `POST .../message/send`.

use serde_json::json;

use crate::helpers::{Auth, TestApp};

/// An order with `n` customer messages `m1..mn`; returns (app, token, order).
async fn thread(n: usize) -> (TestApp, String, i64) {
    let app = TestApp::new();
    let (_, token) = app.customer("alice").await;
    let order = app.order(&token).await;
    for i in 1..=n {
        app.say(Auth::Token(&token), order, &format!("m{i}")).await;
    }
    (app, token, order)
}

fn contents(res: &crate::helpers::Resp) -> Vec<String> {
    res.data()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect()
}

fn range(from: usize, to: usize) -> Vec<String> {
    (from..=to).map(|i| format!("m{i}")).collect()
}

#[actix_web::test]
async fn the_seed_defaults_are_page_1_of_10_oldest_first_with_total() {
    let (app, token, order) = thread(23).await;
    let res = app
        .get(
            &format!("/api/communication/messages?comm_order_id={order}"),
            Auth::Token(&token),
        )
        .await;
    assert_eq!(contents(&res), range(1, 10));
    assert_eq!(res.body["total"], 23);
    assert_eq!(res.msg(), "");
    let page3 = app
        .get(
            &format!("/api/communication/messages?comm_order_id={order}&current=3"),
            Auth::Token(&token),
        )
        .await;
    assert_eq!(contents(&page3), range(21, 23));
    let ids: Vec<i64> = page3
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ascending ids: {ids:?}"
    );
}

#[actix_web::test]
async fn page_size_its_alias_and_the_cap() {
    let (app, token, order) = thread(12).await;
    let uri = |q: &str| format!("/api/communication/messages?comm_order_id={order}&{q}");
    assert_eq!(
        contents(
            &app.get(&uri("current=1&page_size=5"), Auth::Token(&token))
                .await
        ),
        range(1, 5)
    );
    assert_eq!(
        contents(
            &app.get(&uri("current=2&pageSize=5"), Auth::Token(&token))
                .await
        ),
        range(6, 10)
    );
    assert_eq!(
        contents(
            &app.get(&uri("pageSize=3&page_size=4"), Auth::Token(&token))
                .await
        ),
        range(1, 4),
        "page_size wins"
    );
    assert_eq!(
        contents(&app.get(&uri("page_size=100"), Auth::Token(&token)).await),
        range(1, 12)
    );
    app.get(&uri("page_size=101"), Auth::Token(&token))
        .await
        .assert_error(-1, "page_size must be an integer between 1 and 100");
}

#[actix_web::test]
async fn a_page_past_the_end_is_empty_with_the_right_total() {
    let (app, token, order) = thread(3).await;
    for current in ["2", "1000", "9223372036854775807"] {
        let res = app
            .get(
                &format!("/api/communication/messages?comm_order_id={order}&current={current}"),
                Auth::Token(&token),
            )
            .await;
        assert_eq!(
            res.body,
            json!({"code": 0, "msg": "", "data": [], "total": 3}),
            "current={current}"
        );
    }
}

#[actix_web::test]
async fn every_bad_parameter_is_named() {
    let (app, token, order) = thread(1).await;
    let base = "/api/communication/messages?";
    app.get(base, Auth::Token(&token))
        .await
        .assert_error(-1, "comm_order_id is required");
    let cases = [
        ("comm_order_id=abc", "comm_order_id must be an integer"),
        ("comm_order_id=1.5", "comm_order_id must be an integer"),
        (
            "comm_order_id=0",
            "comm_order_id must be a positive integer",
        ),
        (
            "comm_order_id=-4",
            "comm_order_id must be a positive integer",
        ),
        (
            "comm_order_id=9223372036854775808",
            "comm_order_id must be an integer",
        ),
    ];
    for (query, msg) in cases {
        app.get(&format!("{base}{query}"), Auth::Token(&token))
            .await
            .assert_error(-1, msg);
    }
    for (param, expected) in [
        ("current", "current must be"),
        (
            "page_size",
            "page_size must be an integer between 1 and 100",
        ),
        ("pageSize", "pageSize must be an integer between 1 and 100"),
    ] {
        for value in ["abc", "0", "-1", "9223372036854775808"] {
            let res = app
                .get(
                    &format!("{base}comm_order_id={order}&{param}={value}"),
                    Auth::Token(&token),
                )
                .await;
            res.assert_error(-1, expected);
        }
    }
    for value in ["101", "1000"] {
        app.get(
            &format!("{base}comm_order_id={order}&page_size={value}"),
            Auth::Token(&token),
        )
        .await
        .assert_error(-1, "page_size must be an integer between 1 and 100");
    }
}

#[actix_web::test]
async fn login_and_ownership_are_checked() {
    let (app, _token, order) = thread(1).await;
    let (_, bob) = app.customer("bob").await;
    let uri = format!("/api/communication/messages?comm_order_id={order}");
    app.get(&uri, Auth::None)
        .await
        .assert_error(1001, "requires login");
    let theirs = app.get(&uri, Auth::Token(&bob)).await;
    theirs.assert_error(1002, "not authorised");
    let missing = app
        .get(
            "/api/communication/messages?comm_order_id=424242",
            Auth::Token(&bob),
        )
        .await;
    assert_eq!(theirs.body, missing.body);
}

/// The list checks its token without loading the profile
/// (`Credential::read_id`); it must refuse and renew exactly as the endpoints
/// that load it do.
#[actix_web::test]
async fn the_lighter_token_check_refuses_and_renews_like_the_full_one() {
    let (app, token, order) = thread(1).await;
    let (_, admin) = app.staff("staffer").await;
    let uri = format!("/api/communication/messages?comm_order_id={order}");
    app.get(&uri, Auth::Token("made-up"))
        .await
        .assert_error(1001, "requires login");
    // A token works in its own scope only: a customer's is no staff token,
    // and a staff token is no customer's.
    app.get(&uri, Auth::Admin(&token))
        .await
        .assert_error(1001, "requires login");
    app.get(&uri, Auth::Token(&admin))
        .await
        .assert_error(1001, "requires login");
    assert_eq!(
        contents(&app.get(&uri, Auth::Admin(&admin)).await),
        range(1, 1)
    );

    app.clock()
        .advance(chrono::Duration::days(30) - chrono::Duration::minutes(30));
    let res = app.get(&uri, Auth::Token(&token)).await;
    assert_eq!(contents(&res), range(1, 1));
    let renewed = res
        .headers
        .get("update-token")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(renewed, token);
    app.clock().advance(chrono::Duration::hours(1));
    app.get(&uri, Auth::Token(&token))
        .await
        .assert_error(1001, "requires login");
    let res = app.get(&uri, Auth::Token(&renewed)).await;
    assert_eq!(contents(&res), range(1, 1));
    app.post("/api/logout", Auth::Token(&renewed), json!({}))
        .await
        .data();
    app.get(&uri, Auth::Token(&renewed))
        .await
        .assert_error(1001, "requires login");
}

#[actix_web::test]
async fn staff_read_every_order() {
    let (app, _token, order) = thread(2).await;
    let (_, admin) = app.staff("staffer").await;
    for path in [
        "/api/communication/messages",
        "/system/api/communication/messages",
    ] {
        let res = app
            .get(
                &format!("{path}?comm_order_id={order}"),
                Auth::Admin(&admin),
            )
            .await;
        assert_eq!(contents(&res), range(1, 2));
    }
}

#[actix_web::test]
async fn the_list_shape_is_pinned() {
    let app = TestApp::new();
    let (_, token) = app.customer("testuser").await;
    let (_, admin) = app.staff("admin").await;
    let order = app.order(&token).await;
    app.say(Auth::Token(&token), order, "您好,我想定制一个外贸网站主题")
        .await;
    app.post(
        "/system/api/communication/message/send",
        Auth::Admin(&admin),
        json!({"comm_order_id": order, "message_type": "image", "content": "https://en.anqicms.com/uploads/quote_image.jpg"}),
    )
    .await
    .data();
    app.post(
        "/system/api/communication/order/quote",
        Auth::Admin(&admin),
        json!({"id": order, "quote_price": "9900", "quote_content": "定制开发费用为9900元"}),
    )
    .await
    .data();
    let res = app
        .get(
            &format!("/api/communication/messages?comm_order_id={order}"),
            Auth::Token(&token),
        )
        .await;
    insta::assert_json_snapshot!("messages_list", res.body, {".data[].created_time" => "[time]"});
}

#[actix_web::test]
async fn send_uses_the_tokens_user_whatever_the_body_claims() {
    let app = TestApp::new();
    let (alice, token) = app.customer("alice").await;
    let order = app.order(&token).await;
    let res = app
        .post(
            "/api/communication/message/send",
            Auth::Token(&token),
            json!({"comm_order_id": order, "sender_id": 1, "sender_name": "admin", "sender_type": "admin", "message_type": "text", "content": "hi"}),
        )
        .await;
    assert_eq!(res.data()["sender_id"], alice);
    assert_eq!(res.data()["sender_type"], "user");
    assert_eq!(res.data()["sender_name"], "alice");
    insta::assert_json_snapshot!("message_send", res.body, {".data.created_time" => "[time]"});
    // Acknowledged means stored.
    let list = app
        .get(
            &format!("/api/communication/messages?comm_order_id={order}"),
            Auth::Token(&token),
        )
        .await;
    assert_eq!(list.data()[0], res.data().clone());
}

#[actix_web::test]
async fn send_validates_type_content_and_who_may_quote() {
    let app = TestApp::new();
    let (_, token) = app.customer("alice").await;
    let order = app.order(&token).await;
    let send = |body| app.post("/api/communication/message/send", Auth::Token(&token), body);
    for kind in [
        "text", "image", "video", "file", "audio", "location", "contact", "sticker", "unknown",
    ] {
        send(json!({"comm_order_id": order, "message_type": kind, "content": "x"}))
            .await
            .data();
    }
    send(json!({"comm_order_id": order, "message_type": "quote", "content": "x"}))
        .await
        .assert_error(1002, "only staff can send quotes");
    send(json!({"comm_order_id": order, "message_type": "ttext", "content": "x"}))
        .await
        .assert_error(-1, "message_type: must be one of");
    send(json!({"comm_order_id": order, "content": "x"}))
        .await
        .assert_error(-1, "message_type is required");
    send(json!({"comm_order_id": order, "message_type": "text", "content": "   "}))
        .await
        .assert_error(-1, "content: is required");
    send(json!({"comm_order_id": order, "message_type": "text"}))
        .await
        .assert_error(-1, "content: is required");
    send(json!({"comm_order_id": order, "message_type": "text", "content": "x".repeat(10_001)}))
        .await
        .assert_error(-1, "content: must be at most 10000");
    send(json!({"comm_order_id": order, "message_type": "text", "content": "é".repeat(10_000)}))
        .await
        .data();
    send(json!({"message_type": "text", "content": "x"}))
        .await
        .assert_error(-1, "comm_order_id is required");
    app.post("/api/communication/message/send", Auth::None, json!({}))
        .await
        .assert_error(1001, "requires login");
}

#[actix_web::test]
async fn before_id_and_after_id_seek_around_a_message() {
    let (app, token, order) = thread(30).await;
    let all = app
        .get(
            &format!("/api/communication/messages?comm_order_id={order}&page_size=100"),
            Auth::Token(&token),
        )
        .await;
    let id_of = |i: usize| all.data()[i - 1]["id"].as_i64().unwrap();
    let uri = |q: String| format!("/api/communication/messages?comm_order_id={order}&{q}");
    let before = app
        .get(
            &uri(format!("before_id={}&page_size=5", id_of(12))),
            Auth::Token(&token),
        )
        .await;
    assert_eq!(contents(&before), range(7, 11));
    assert_eq!(before.body["total"], 30);
    let after = app
        .get(
            &uri(format!("after_id={}&page_size=5", id_of(12))),
            Auth::Token(&token),
        )
        .await;
    assert_eq!(contents(&after), range(13, 17));
    let near_start = app
        .get(&uri(format!("before_id={}", id_of(3))), Auth::Token(&token))
        .await;
    assert_eq!(contents(&near_start), range(1, 2));
    let at_end = app
        .get(&uri(format!("after_id={}", id_of(30))), Auth::Token(&token))
        .await;
    assert_eq!(contents(&at_end), Vec::<String>::new());
    app.get(
        &uri(format!("before_id={}&after_id=1", id_of(3))),
        Auth::Token(&token),
    )
    .await
    .assert_error(-1, "before_id and after_id cannot be used together");
    app.get(&uri("before_id=0".to_owned()), Auth::Token(&token))
        .await
        .assert_error(-1, "before_id must be a positive integer");
    app.get(&uri("after_id=x".to_owned()), Auth::Token(&token))
        .await
        .assert_error(-1, "after_id must be an integer");
    // An anchor from another thread is refused, not used to peek at it.
    let other = app.order(&token).await;
    let foreign = app.say(Auth::Token(&token), other, "elsewhere").await;
    app.get(
        &uri(format!("after_id={}", foreign["id"])),
        Auth::Token(&token),
    )
    .await
    .assert_error(-1, "after_id: does not name a message of this thread");
}
