//! Text both engines store alike: a NUL (which PostgreSQL refuses) is a
//! field error in each dialect's envelope on every route that takes text,
//! and never reaches the database; prices and contact phones follow their
//! documented rules.

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::fresns_helpers::Session;
use crate::helpers::{Auth, TestApp};
use crate::uploads::{pdf, upload};

const NUL: &str = "a\u{0}b";

#[actix_web::test]
async fn anqicms_refuses_nul_in_every_text_field_by_name() {
    let app = TestApp::new();
    let (_, customer) = app.customer("alice").await;
    let (_, staff) = app.staff("sam").await;
    let order = app.order(&customer).await;
    let cases: Vec<(&str, Auth<'_>, Value, &str)> = vec![
        (
            "/api/register",
            Auth::None,
            json!({"user_name": NUL, "password": "secret-pw", "email": "n@example.com"}),
            "user_name",
        ),
        (
            "/api/register",
            Auth::None,
            json!({"user_name": "nul", "password": "secret-pw", "email": "n@example.com", "real_name": NUL}),
            "real_name",
        ),
        (
            "/api/login",
            Auth::None,
            json!({"user_name": NUL, "password": "secret-pw"}),
            "user_name",
        ),
        (
            "/api/login",
            Auth::None,
            json!({"user_name": "alice", "password": NUL}),
            "password",
        ),
        (
            "/system/api/login",
            Auth::None,
            json!({"email": NUL, "password": "staff-pw"}),
            "email",
        ),
        (
            "/api/communication/order/create",
            Auth::Token(&customer),
            json!({"archive_id": 1, "title": NUL, "content": "c", "phone": "13800000000"}),
            "title",
        ),
        (
            "/api/communication/order/create",
            Auth::Token(&customer),
            json!({"archive_id": 1, "title": "t", "content": NUL, "phone": "13800000000"}),
            "content",
        ),
        (
            "/api/communication/order/create",
            Auth::Token(&customer),
            json!({"archive_id": 1, "title": "t", "content": "c", "phone": NUL}),
            "phone",
        ),
        (
            "/api/communication/order/create",
            Auth::Token(&customer),
            json!({"archive_id": 1, "title": "t", "content": "c", "phone": "13800000000", "images": ["x", NUL]}),
            "images[1]",
        ),
        (
            "/api/communication/order/create",
            Auth::Token(&customer),
            json!({"archive_id": 1, "title": "t", "content": "c", "phone": "13800000000", "order_extra": {"size": NUL}}),
            "order_extra.size",
        ),
        (
            "/api/communication/order/update",
            Auth::Token(&customer),
            json!({"id": order, "title": NUL}),
            "title",
        ),
        (
            "/api/communication/message/send",
            Auth::Token(&customer),
            json!({"comm_order_id": order, "message_type": "text", "content": NUL}),
            "content",
        ),
        (
            "/system/api/communication/message/send",
            Auth::Admin(&staff),
            json!({"comm_order_id": order, "message_type": "text", "content": NUL}),
            "content",
        ),
        (
            "/system/api/communication/order/quote",
            Auth::Admin(&staff),
            json!({"id": order, "quote_price": "100", "quote_content": NUL}),
            "quote_content",
        ),
        (
            "/system/api/communication/order/quote",
            Auth::Admin(&staff),
            json!({"id": order, "quote_price": NUL, "quote_content": "x"}),
            "quote_price",
        ),
        (
            "/system/api/communication/order/images",
            Auth::Admin(&staff),
            json!({"id": order, "sketch_images": [NUL]}),
            "sketch_images[0]",
        ),
    ];
    for (uri, auth, body, field) in cases {
        let res = app.post(uri, auth, body).await;
        assert_eq!(res.status, StatusCode::OK, "{uri}: {res:?}");
        res.assert_error(-1, &format!("{field}: must not contain a NUL character"));
    }
    // Nothing was stored: the order is as it was and has no messages.
    let detail = app
        .get(
            &format!("/api/communication/order/detail?id={order}"),
            Auth::Token(&customer),
        )
        .await;
    assert_eq!(detail.data()["title"], "Theme");
    let listed = app
        .get(
            &format!("/api/communication/messages?comm_order_id={order}"),
            Auth::Token(&customer),
        )
        .await;
    assert_eq!(listed.body["total"], 0, "{listed:?}");
}

#[actix_web::test]
async fn fresns_refuses_nul_in_json_form_and_query_parameters() {
    let app = TestApp::new();
    let key = app.key(4, false, None);
    let me = app.fresns_user(&key, "alice").await;
    app.fresns_user(&key, "bob").await;
    let cases: Vec<(Method, &str, Option<Value>, &str)> = vec![
        (
            Method::POST,
            "/api/v2/account/login",
            Some(json!({"type": "email", "account": NUL, "password": "eA=="})),
            "account",
        ),
        (
            Method::POST,
            "/api/v2/user/auth",
            Some(json!({"uidOrUsername": NUL})),
            "uid or username",
        ),
        (
            Method::POST,
            "/api/v2/conversation/send-message",
            Some(json!({"uidOrUsername": "bob", "message": NUL})),
            "message",
        ),
        (
            Method::POST,
            "/api/v2/conversation/send-message",
            Some(json!({"uidOrUsername": NUL, "message": "hi"})),
            "uid or username",
        ),
        (
            Method::PUT,
            "/api/v2/conversation/mark-as-read",
            Some(json!({"type": "message", "messageIds": NUL})),
            "message ids",
        ),
        (
            Method::GET,
            "/api/v2/conversation/list?whitelistKeys=a%00b",
            None,
            "whitelist keys",
        ),
        (
            Method::PUT,
            "/api/v2/conversation/pin?conversationId=1%00",
            None,
            "conversation id",
        ),
    ];
    for (method, uri, body, field) in cases {
        let session = if uri.ends_with("/login") {
            Session::default()
        } else {
            me.clone()
        };
        let res = app.fresns(method, uri, &key, &session, body).await;
        assert_eq!(
            res.fcode(30000),
            format!("The {field} must not contain a NUL character."),
            "{uri}"
        );
    }
    // A form-encoded body is read the same way.
    let form = app
        .fresns_request(
            Method::POST,
            "/api/v2/conversation/send-message",
            &key,
            &me,
            None,
            &Default::default(),
        )
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload("uidOrUsername=bob&message=a%00b");
    assert_eq!(
        app.send(form).await.fcode(30000),
        "The message must not contain a NUL character."
    );
    let listed = app
        .fresns(Method::GET, "/api/v2/conversation/list", &key, &me, None)
        .await;
    assert_eq!(listed.fdata()["pagination"]["total"], 0);
}

#[actix_web::test]
async fn quotes_take_amounts_and_orders_take_phone_numbers() {
    let app = TestApp::new();
    let (_, customer) = app.customer("alice").await;
    let (_, staff) = app.staff("sam").await;
    let order = app.order(&customer).await;
    let quote = |price: Value| json!({"id": order, "quote_price": price, "quote_content": "offer"});
    for bad in [
        json!("-1"),
        json!("9223372036854775808"),
        json!("<b>1</b>"),
        json!("1.005"),
        json!(-3),
    ] {
        app.post(
            "/system/api/communication/order/quote",
            Auth::Admin(&staff),
            quote(bad.clone()),
        )
        .await
        .assert_error(
            -1,
            "quote_price: must be an amount of at least 0 with at most two decimals",
        );
    }
    let quoted = app
        .post(
            "/system/api/communication/order/quote",
            Auth::Admin(&staff),
            quote(json!(12.5)),
        )
        .await;
    assert_eq!(quoted.data()["quote_price"], "12.5");
    for bad in ["call me", "12", "<script>"] {
        app.post(
            "/api/communication/order/create",
            Auth::Token(&customer),
            json!({"archive_id": 1, "title": "t", "content": "c", "phone": bad}),
        )
        .await
        .assert_error(-1, "phone: must be a phone number");
    }
    let created = app
        .post(
            "/api/communication/order/create",
            Auth::Token(&customer),
            json!({"archive_id": 1, "title": "t", "content": "c", "phone": "+1 (555) 010-9999"}),
        )
        .await;
    assert_eq!(created.data()["phone"], "+1 (555) 010-9999");
}

#[actix_web::test]
async fn upload_names_lose_direction_overrides_and_go_out_as_rfc_6266() {
    let app = TestApp::new();
    let (_, token) = app.customer("alice").await;
    let name = "报告\u{202E}fdp.exe";
    let uploaded = upload(&app, Auth::Token(&token), name, "application/pdf", &pdf()).await;
    let data = uploaded.data();
    assert_eq!(data["file_name"], "报告fdp.exe", "{data}");
    let url = data["logo"].as_str().unwrap();
    let path = &url[url.find("/files/").unwrap()..];
    let file = app.send_raw(TestRequest::get().uri(path)).await;
    assert_eq!(
        file.header("content-disposition"),
        "attachment; filename=\"__fdp.exe\"; filename*=UTF-8''%E6%8A%A5%E5%91%8Afdp.exe"
    );
}
