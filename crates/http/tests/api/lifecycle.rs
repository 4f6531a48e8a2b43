//! The order lifecycle: every transition, its system message, and the illegal ones.

use serde_json::{Value, json};

use crate::helpers::{Auth, TestApp};

async fn system_notes(app: &TestApp, token: &str, order: i64) -> Vec<String> {
    app.thread(token, order)
        .await
        .iter()
        .filter(|m| m["sender_type"] == "system")
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect()
}

fn note(from: &str, to: &str) -> String {
    format!("Order status changed from {from} to {to}")
}

#[actix_web::test]
async fn the_happy_path_pending_communicating_quoted_accepted() {
    let app = TestApp::new();
    let (_, token) = app.customer("alice").await;
    let (staff_id, admin) = app.staff("staffer").await;
    let order = app.order(&token).await;
    assert_eq!(app.status_of(&token, order).await, 0);

    let reply = app
        .say(Auth::Admin(&admin), order, "Hello, we can do that")
        .await;
    assert_eq!(
        (reply["sender_type"].clone(), reply["sender_id"].clone()),
        (json!("admin"), json!(staff_id))
    );
    assert_eq!(app.status_of(&token, order).await, 1);
    app.say(Auth::Admin(&admin), order, "More details?").await;
    assert_eq!(
        app.status_of(&token, order).await,
        1,
        "a second reply changes nothing"
    );

    let quoted = app
        .post(
            "/system/api/communication/order/quote",
            Auth::Admin(&admin),
            json!({"id": order, "quote_price": 9900, "quote_content": "Theme + 3 months support"}),
        )
        .await;
    assert_eq!(quoted.data()["status"], 2);
    assert_eq!(quoted.data()["quote_price"], "9900");
    assert_eq!(quoted.data()["quote_content"], "Theme + 3 months support");
    assert_eq!(quoted.data()["admin_id"], staff_id);

    let accepted = app
        .post(
            "/api/communication/order/accept",
            Auth::Token(&token),
            json!({"id": order}),
        )
        .await;
    assert_eq!(accepted.data()["status"], 3);
    assert_eq!(
        system_notes(&app, &token, order).await,
        vec![
            note("pending", "communicating"),
            note("communicating", "quoted"),
            note("quoted", "accepted")
        ]
    );
    let messages = app
        .get(
            &format!("/api/communication/messages?comm_order_id={order}"),
            Auth::Token(&token),
        )
        .await;
    let quote: Vec<&Value> = messages
        .data()
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["message_type"] == "quote")
        .collect();
    assert_eq!(quote.len(), 1);
    assert_eq!(quote[0]["sender_type"], "admin");
    // Talking goes on after acceptance; cancelling does not.
    app.say(Auth::Token(&token), order, "Thanks!").await;
    app.post(
        "/api/communication/order/cancel",
        Auth::Token(&token),
        json!({"id": order}),
    )
    .await
    .assert_error(-1, "cannot cancel an order that is accepted (3)");
}

#[actix_web::test]
async fn reject_then_requote_then_cancel() {
    let app = TestApp::new();
    let (_, token) = app.customer("alice").await;
    let (_, admin) = app.staff("staffer").await;
    let order = app.order(&token).await;
    let quote = |price: &str| json!({"id": order, "quote_price": price, "quote_content": "offer"});
    app.post(
        "/system/api/communication/order/quote",
        Auth::Admin(&admin),
        quote("100"),
    )
    .await
    .data();
    assert_eq!(
        app.post(
            "/api/communication/order/reject",
            Auth::Token(&token),
            json!({"id": order})
        )
        .await
        .data()["status"],
        4
    );
    app.post(
        "/api/communication/order/accept",
        Auth::Token(&token),
        json!({"id": order}),
    )
    .await
    .assert_error(-1, "cannot accept an order that is rejected (4)");
    let requoted = app
        .post(
            "/system/api/communication/order/quote",
            Auth::Admin(&admin),
            quote("80"),
        )
        .await;
    assert_eq!(
        (
            requoted.data()["status"].clone(),
            requoted.data()["quote_price"].clone()
        ),
        (json!(2), json!("80"))
    );
    assert_eq!(
        app.post(
            "/api/communication/order/cancel",
            Auth::Token(&token),
            json!({"id": order})
        )
        .await
        .data()["status"],
        -1
    );
    assert_eq!(
        system_notes(&app, &token, order).await,
        vec![
            note("pending", "quoted"),
            note("quoted", "rejected"),
            note("rejected", "quoted"),
            note("quoted", "cancelled")
        ]
    );
    // A cancelled order is closed to everything.
    app.post(
        "/api/communication/message/send",
        Auth::Token(&token),
        json!({"comm_order_id": order, "message_type": "text", "content": "hi"}),
    )
    .await
    .assert_error(
        -1,
        "cannot send messages to an order that is cancelled (-1)",
    );
    app.post(
        "/system/api/communication/message/send",
        Auth::Admin(&admin),
        json!({"comm_order_id": order, "message_type": "text", "content": "hi"}),
    )
    .await
    .assert_error(-1, "cancelled (-1)");
    app.post(
        "/system/api/communication/order/quote",
        Auth::Admin(&admin),
        quote("1"),
    )
    .await
    .assert_error(-1, "cannot quote an order that is cancelled (-1)");
    app.post(
        "/api/communication/order/update",
        Auth::Token(&token),
        json!({"id": order, "title": "x"}),
    )
    .await
    .assert_error(-1, "cannot update an order that is cancelled (-1)");
    app.post(
        "/system/api/communication/order/status",
        Auth::Admin(&admin),
        json!({"id": order, "status": -1}),
    )
    .await
    .assert_error(-1, "cannot cancel an order that is cancelled (-1)");
}

#[actix_web::test]
async fn illegal_customer_transitions_name_the_current_status() {
    let app = TestApp::new();
    let (_, token) = app.customer("alice").await;
    let order = app.order(&token).await;
    for (action, verb) in [("accept", "accept"), ("reject", "reject")] {
        app.post(
            &format!("/api/communication/order/{action}"),
            Auth::Token(&token),
            json!({"id": order}),
        )
        .await
        .assert_error(-1, &format!("cannot {verb} an order that is pending (0)"));
    }
    assert_eq!(app.status_of(&token, order).await, 0);
    assert!(
        system_notes(&app, &token, order).await.is_empty(),
        "refused actions leave no trace"
    );
    app.post(
        "/api/communication/order/accept",
        Auth::Token(&token),
        json!({}),
    )
    .await
    .assert_error(-1, "id is required");
    app.post(
        "/api/communication/order/accept",
        Auth::Token(&token),
        json!({"id": -1}),
    )
    .await
    .assert_error(-1, "id must be a positive integer");
}

#[actix_web::test]
async fn staff_set_status_and_images() {
    let app = TestApp::new();
    let (_, token) = app.customer("alice").await;
    let (_, admin) = app.staff("staffer").await;
    let order = app.order(&token).await;
    let status = |s: i64| json!({"id": order, "status": s});
    let res = app
        .post(
            "/system/api/communication/order/status",
            Auth::Admin(&admin),
            status(1),
        )
        .await;
    assert_eq!(res.data()["status"], 1);
    app.post(
        "/system/api/communication/order/status",
        Auth::Admin(&admin),
        status(1),
    )
    .await
    .assert_error(-1, "cannot reopen an order that is communicating (1)");
    app.post(
        "/system/api/communication/order/status",
        Auth::Admin(&admin),
        status(3),
    )
    .await
    .assert_error(-1, "status: staff can set only 1");
    app.post(
        "/system/api/communication/order/status",
        Auth::Admin(&admin),
        status(7),
    )
    .await
    .assert_error(-1, "status: must be one of");
    app.post(
        "/system/api/communication/order/status",
        Auth::Admin(&admin),
        json!({"id": order}),
    )
    .await
    .assert_error(-1, "status is required");

    let images = app
        .post(
            "/system/api/communication/order/images",
            Auth::Admin(&admin),
            json!({"id": order, "sketch_images": ["https://x/s1.png"], "finished_images": ["https://x/f1.png", "https://x/f2.png"]}),
        )
        .await;
    assert_eq!(images.data()["sketch_images"], json!(["https://x/s1.png"]));
    let only_finished = app
        .post(
            "/system/api/communication/order/images",
            Auth::Admin(&admin),
            json!({"id": order, "finished_images": []}),
        )
        .await;
    assert_eq!(
        only_finished.data()["sketch_images"],
        json!(["https://x/s1.png"]),
        "lists not given are kept"
    );
    assert_eq!(only_finished.data()["finished_images"], json!([]));
    app.post(
        "/system/api/communication/order/images",
        Auth::Admin(&admin),
        json!({"id": order}),
    )
    .await
    .assert_error(-1, "sketch_images or finished_images is required");

    let cancelled = app
        .post(
            "/system/api/communication/order/status",
            Auth::Admin(&admin),
            status(-1),
        )
        .await;
    assert_eq!(cancelled.data()["status"], -1);
    assert_eq!(
        system_notes(&app, &token, order).await,
        vec![
            note("pending", "communicating"),
            note("communicating", "cancelled")
        ]
    );
}

#[actix_web::test]
async fn customers_cannot_use_staff_actions() {
    let app = TestApp::new();
    let (_, token) = app.customer("alice").await;
    let order = app.order(&token).await;
    for (path, body) in [
        (
            "quote",
            json!({"id": order, "quote_price": "1", "quote_content": "x"}),
        ),
        ("status", json!({"id": order, "status": 1})),
        ("images", json!({"id": order, "sketch_images": []})),
    ] {
        for auth in [Auth::Token(&token), Auth::Admin(&token)] {
            app.post(
                &format!("/system/api/communication/order/{path}"),
                auth,
                body.clone(),
            )
            .await
            .assert_error(1001, "requires login");
        }
    }
    assert_eq!(app.status_of(&token, order).await, 0);
}
