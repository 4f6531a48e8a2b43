//! Whatever a client sends, the answer is the AnQiCMS envelope with a clear
//! message: never a panic, an HTML page, or a 5xx.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::helpers::{Auth, TestApp};

#[actix_web::test]
async fn malformed_bodies_get_the_envelope() {
    let app = TestApp::new();
    let (_, token) = app.customer("alice").await;
    let order = app.order(&token).await;
    let send = "/api/communication/message/send";
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"{bad".to_vec(), "invalid JSON body"),
        (
            b"[1,\"text\",\"x\"]".to_vec(),
            "invalid JSON body: expected a JSON object",
        ),
        (
            b"null".to_vec(),
            "invalid JSON body: expected a JSON object",
        ),
        (b"\"text\"".to_vec(), "invalid JSON body"),
        (
            [
                format!(
                    "{{\"comm_order_id\": {order}, \"message_type\": \"text\", \"content\": \""
                )
                .into_bytes(),
                vec![0xff, 0xfe],
                b"\"}".to_vec(),
            ]
            .concat(),
            "content: invalid unicode",
        ),
        (
            br#"{"comm_order_id": 9223372036854775808, "message_type": "text", "content": "x"}"#
                .to_vec(),
            "comm_order_id: ",
        ),
        (
            br#"{"comm_order_id": "7", "message_type": "text", "content": "x"}"#.to_vec(),
            "comm_order_id: invalid type: string",
        ),
        (
            br#"{"comm_order_id": 1.5, "message_type": "text", "content": "x"}"#.to_vec(),
            "comm_order_id: invalid type: floating point",
        ),
        (
            br#"{"comm_order_id": 1, "message_type": 3, "content": "x"}"#.to_vec(),
            "message_type: invalid type",
        ),
        (
            br#"{"comm_order_id": 1, "message_type": "text", "content": ["x"]}"#.to_vec(),
            "content: invalid type",
        ),
        (b"".to_vec(), "comm_order_id is required"),
    ];
    for (body, part) in cases {
        app.post_raw(send, Auth::Token(&token), body)
            .await
            .assert_error(-1, part);
    }
}

#[actix_web::test]
async fn oversized_bodies_are_refused_in_the_envelope() {
    let app = TestApp::new();
    let (_, token) = app.customer("alice").await;
    let big = format!("{{\"content\": \"{}\"}}", "x".repeat(300 * 1024));
    app.post_raw("/api/communication/message/send", Auth::Token(&token), big)
        .await
        .assert_error(-1, "request body is too large");
}

#[actix_web::test]
async fn unknown_paths_and_wrong_methods_answer_json() {
    let app = TestApp::new();
    let res = app.get("/api/nothing/here", Auth::None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.body, json!({"code": -1, "msg": "no such endpoint"}));
    let res = app.get("/system/api/nothing", Auth::None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.body, json!({"code": -1, "msg": "no such endpoint"}));
    // Outside every dialect, the answer belongs to none of them.
    let res = app.get("/nothing/here", Auth::None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(
        res.body,
        json!({"error": "not_found", "message": "no such endpoint"})
    );
    let res = app
        .send(TestRequest::delete().uri("/api/communication/messages"))
        .await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.code(), -1);
    let res = app.get("/api/communication/message/send", Auth::None).await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[actix_web::test]
async fn odd_query_strings_and_headers_are_handled() {
    let app = TestApp::new();
    let (_, token) = app.customer("alice").await;
    let order = app.order(&token).await;
    let res = app
        .get(
            &format!("/api/communication/messages?comm_order_id={order}&current=%ZZ&x=%FF"),
            Auth::Token(&token),
        )
        .await;
    res.assert_error(-1, "current must be an integer");
    let res = app
        .get(
            &format!("/api/communication/messages?comm_order_id={order}&comm_order_id=abc"),
            Auth::Token(&token),
        )
        .await;
    assert_eq!(
        res.code(),
        0,
        "the first value of a repeated parameter counts"
    );
    let res = app
        .send(TestRequest::get().uri("/api/user/detail").insert_header((
            "token",
            actix_web::http::header::HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
        )))
        .await;
    res.assert_error(1001, "requires login");
    let res = app.get("/api/user/detail", Auth::Bearer("")).await;
    res.assert_error(1001, "requires login");
}
