//! `Idempotency-Key` on both send endpoints: a retry with the same key by the
//! same user answers the original message and stores nothing; concurrent
//! duplicates end as one row; a key reused for another message is refused.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::fresns_helpers::Tweaks;
use crate::helpers::{Auth, Resp, TestApp};

async fn anqicms_send(app: &TestApp, token: &str, order: i64, text: &str, key: &str) -> Resp {
    let req = TestApp::authed(
        TestRequest::post()
            .uri("/api/communication/message/send")
            .insert_header(("Idempotency-Key", key))
            .set_json(json!({"comm_order_id": order, "message_type": "text", "content": text})),
        Auth::Token(token),
    );
    app.send(req).await
}

async fn total(app: &TestApp, token: &str, order: i64) -> i64 {
    let res = app
        .get(
            &format!("/api/communication/messages?comm_order_id={order}"),
            Auth::Token(token),
        )
        .await;
    res.body["total"].as_i64().unwrap()
}

#[actix_web::test]
async fn an_anqicms_retry_with_the_same_key_answers_the_first_message() {
    let app = TestApp::new();
    let (_, token) = app.customer("alice").await;
    let (_, other) = app.customer("bob").await;
    let order = app.order(&token).await;
    let first = anqicms_send(&app, &token, order, "hello", "k-1").await;
    let again = anqicms_send(&app, &token, order, "hello", "k-1").await;
    assert_eq!(first.data(), again.data());
    assert_eq!(total(&app, &token, order).await, 1);
    // The same key with another message is a mistake, not a retry.
    anqicms_send(&app, &token, order, "something else", "k-1")
        .await
        .assert_error(-1, "Idempotency-Key was used for a different message");
    // Keys are the user's own: another user's key of the same text is new.
    let bobs_order = app.order(&other).await;
    assert_eq!(
        anqicms_send(&app, &other, bobs_order, "hello", "k-1")
            .await
            .code(),
        0
    );
    // A new key is a new message; a bad key is refused by name.
    assert_eq!(
        anqicms_send(&app, &token, order, "hello", "k-2")
            .await
            .code(),
        0
    );
    assert_eq!(total(&app, &token, order).await, 2);
    anqicms_send(&app, &token, order, "hello", "")
        .await
        .assert_error(
            -1,
            "Idempotency-Key: must be 1 to 255 visible ASCII characters",
        );
}

#[actix_web::test]
async fn concurrent_duplicates_end_as_one_row() {
    let app = TestApp::new();
    let (_, token) = app.customer("alice").await;
    let order = app.order(&token).await;
    let sends = (0..16).map(|_| anqicms_send(&app, &token, order, "once", "same-key"));
    let answers = futures_util::future::join_all(sends).await;
    let ids: Vec<&Value> = answers.iter().map(|a| &a.data()["id"]).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(total(&app, &token, order).await, 1);
}

#[actix_web::test]
async fn a_fresns_retry_with_the_same_key_answers_the_first_message() {
    let app = TestApp::new();
    let key = app.key(4, false, None);
    let alice = app.fresns_user(&key, "alice").await;
    app.fresns_user(&key, "bob").await;
    let send = |text: &'static str, idem: &'static str| {
        let req = app
            .fresns_request(
                Method::POST,
                "/api/v2/conversation/send-message",
                &key,
                &alice,
                Some(json!({"uidOrUsername": "bob", "message": text})),
                &Tweaks::default(),
            )
            .insert_header(("Idempotency-Key", idem));
        app.send(req)
    };
    let sends = (0..8).map(|_| send("hi bob", "fresns-1"));
    let answers = futures_util::future::join_all(sends).await;
    let first = answers[0].fdata();
    for answer in &answers {
        assert_eq!(answer.fdata()["id"], first["id"]);
        assert_eq!(answer.fdata()["content"], "hi bob");
    }
    let reused = send("another text", "fresns-1").await;
    assert_eq!(
        reused.fcode(30000),
        "The Idempotency-Key was used for a different message."
    );
    let list = app
        .fresns(Method::GET, "/api/v2/conversation/list", &key, &alice, None)
        .await;
    let conversation = list.fdata()["list"][0]["id"].as_i64().unwrap();
    let messages = app
        .fresns(
            Method::GET,
            &format!("/api/v2/conversation/{conversation}/messages"),
            &key,
            &alice,
            None,
        )
        .await;
    assert_eq!(messages.fdata()["pagination"]["total"], 1);
}
