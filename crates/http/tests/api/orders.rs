//! Orders: fields, create, list, detail, update, and who may see what.

use serde_json::json;

use crate::helpers::{Auth, TestApp};

#[actix_web::test]
async fn fields_need_no_login_and_come_from_configuration() {
    let app = TestApp::new();
    let res = app.get("/api/communication/fields", Auth::None).await;
    insta::assert_json_snapshot!("fields", res.body);

    let mut settings = TestApp::settings();
    settings.anqicms.order_fields.truncate(1);
    let app = TestApp::with_settings(settings);
    let res = app.get("/api/communication/fields", Auth::None).await;
    assert_eq!(res.data().as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn create_returns_the_pending_order() {
    let app = TestApp::new();
    let (alice, token) = app.customer("alice").await;
    let res = app
        .post(
            "/api/communication/order/create",
            Auth::Token(&token),
            json!({
                "archive_id": 188, "title": "Foreign-trade theme", "content": "Responsive, 5 languages",
                "phone": "13800000000", "images": ["https://example.com/a.png"],
                "order_extra": {"budget_range": "5000-10000", "pages": 12}
            }),
        )
        .await;
    assert_eq!(res.data()["user_id"], alice);
    insta::assert_json_snapshot!("order_create", res.body, {
        ".data.created_time" => "[time]", ".data.updated_time" => "[time]"
    });
    for (body, part) in [
        (
            json!({"title": "t", "content": "c", "phone": "1"}),
            "archive_id is required",
        ),
        (
            json!({"archive_id": 1, "content": "c", "phone": "1"}),
            "title is required",
        ),
        (
            json!({"archive_id": 1, "title": "t", "phone": "1"}),
            "content is required",
        ),
        (
            json!({"archive_id": 1, "title": "t", "content": "c"}),
            "phone is required",
        ),
        (
            json!({"archive_id": "x", "title": "t", "content": "c", "phone": "1"}),
            "archive_id: invalid type",
        ),
        (
            json!({"archive_id": 1, "title": "t", "content": "c", "phone": "1", "images": "x"}),
            "images: invalid type",
        ),
    ] {
        app.post("/api/communication/order/create", Auth::Token(&token), body)
            .await
            .assert_error(-1, part);
    }
    app.post("/api/communication/order/create", Auth::None, json!({}))
        .await
        .assert_error(1001, "requires login");
}

#[actix_web::test]
async fn customers_list_their_own_orders_newest_first_with_total() {
    let app = TestApp::new();
    let (_, alice) = app.customer("alice").await;
    let (_, bob) = app.customer("bob").await;
    let mut mine = Vec::new();
    for _ in 0..3 {
        mine.push(app.order(&alice).await);
    }
    app.order(&bob).await;
    let res = app
        .get("/api/communication/orders", Auth::Token(&alice))
        .await;
    let ids: Vec<i64> = res
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    mine.reverse();
    assert_eq!(ids, mine);
    assert_eq!(res.body["total"], 3);
    let page2 = app
        .get(
            "/api/communication/orders?current=2&page_size=2",
            Auth::Token(&alice),
        )
        .await;
    assert_eq!(page2.data().as_array().unwrap().len(), 1);
    assert_eq!(page2.body["total"], 3);
    app.get("/api/communication/orders?page_size=0", Auth::Token(&alice))
        .await
        .assert_error(-1, "page_size");
    app.get("/api/communication/orders", Auth::None)
        .await
        .assert_error(1001, "requires login");
}

#[actix_web::test]
async fn detail_embeds_the_customer_and_latest_messages() {
    let app = TestApp::new();
    let (_, token) = app.customer("alice").await;
    let order = app.order(&token).await;
    app.say(Auth::Token(&token), order, "hello").await;
    let res = app
        .get(
            &format!("/api/communication/order/detail?id={order}"),
            Auth::Token(&token),
        )
        .await;
    insta::assert_json_snapshot!("order_detail", res.body, {
        ".data.created_time" => "[time]", ".data.updated_time" => "[time]",
        ".data.user.created_time" => "[time]", ".data.user.updated_time" => "[time]",
        ".data.messages[].created_time" => "[time]"
    });
    app.get("/api/communication/order/detail", Auth::Token(&token))
        .await
        .assert_error(-1, "id is required");
    app.get(
        "/api/communication/order/detail?id=abc",
        Auth::Token(&token),
    )
    .await
    .assert_error(-1, "id must be an integer");
}

#[actix_web::test]
async fn another_customers_order_and_a_missing_one_get_the_same_1002() {
    let app = TestApp::new();
    let (_, alice) = app.customer("alice").await;
    let (_, bob) = app.customer("bob").await;
    let order = app.order(&alice).await;
    let theirs = app
        .get(
            &format!("/api/communication/order/detail?id={order}"),
            Auth::Token(&bob),
        )
        .await;
    let missing = app
        .get(
            "/api/communication/order/detail?id=999999",
            Auth::Token(&bob),
        )
        .await;
    theirs.assert_error(1002, "not authorised");
    assert_eq!(theirs.body, missing.body);
    let id = json!({"id": order});
    for path in ["update", "accept", "reject", "cancel"] {
        app.post(
            &format!("/api/communication/order/{path}"),
            Auth::Token(&bob),
            id.clone(),
        )
        .await
        .assert_error(1002, "not authorised");
    }
    app.post(
        "/api/communication/message/send",
        Auth::Token(&bob),
        json!({"comm_order_id": order, "message_type": "text", "content": "hi"}),
    )
    .await
    .assert_error(1002, "not authorised");
    assert_eq!(app.status_of(&alice, order).await, 0, "nothing changed");
}

#[actix_web::test]
async fn update_changes_only_the_given_fields() {
    let app = TestApp::new();
    let (_, token) = app.customer("alice").await;
    let order = app.order(&token).await;
    let res = app
        .post(
            "/api/communication/order/update",
            Auth::Token(&token),
            json!({"id": order, "title": "Renamed", "order_extra": {"budget_range": "20000+"}}),
        )
        .await;
    assert_eq!(res.data()["title"], "Renamed");
    assert_eq!(res.data()["content"], "A custom theme");
    assert_eq!(res.data()["order_extra"], json!({"budget_range": "20000+"}));
    app.post(
        "/api/communication/order/update",
        Auth::Token(&token),
        json!({"title": "x"}),
    )
    .await
    .assert_error(-1, "id is required");
    app.post(
        "/api/communication/order/update",
        Auth::Token(&token),
        json!({"id": order, "title": "  "}),
    )
    .await
    .assert_error(-1, "title: is required");
}

#[actix_web::test]
async fn staff_see_every_order_and_filter_by_status() {
    let app = TestApp::new();
    let (_, admin) = app.staff("staffer").await;
    let (_, alice) = app.customer("alice").await;
    let (_, bob) = app.customer("bob").await;
    let a = app.order(&alice).await;
    let b = app.order(&bob).await;
    app.post(
        "/api/communication/order/cancel",
        Auth::Token(&bob),
        json!({"id": b}),
    )
    .await
    .data();

    let all = app
        .get("/system/api/communication/orders", Auth::Admin(&admin))
        .await;
    assert_eq!(all.body["total"], 2);
    let pending = app
        .get(
            "/system/api/communication/orders?status=0",
            Auth::Admin(&admin),
        )
        .await;
    assert_eq!(pending.body["total"], 1);
    assert_eq!(pending.data()[0]["id"], a);
    let cancelled = app
        .get(
            "/system/api/communication/orders?status=-1",
            Auth::Admin(&admin),
        )
        .await;
    assert_eq!(cancelled.data()[0]["id"], b);
    app.get(
        "/system/api/communication/orders?status=9",
        Auth::Admin(&admin),
    )
    .await
    .assert_error(-1, "status");
    // The customer list with a staff token (admin header) also shows everything.
    assert_eq!(
        app.get("/api/communication/orders", Auth::Admin(&admin))
            .await
            .body["total"],
        2
    );
    for path in [
        "/system/api/communication/order/detail",
        "/api/communication/order/detail",
    ] {
        let res = app
            .get(&format!("{path}?id={a}"), Auth::Admin(&admin))
            .await;
        assert_eq!(res.data()["user"]["user_name"], "alice");
    }
    app.get("/system/api/communication/orders", Auth::Token(&alice))
        .await
        .assert_error(1001, "requires login");
    app.post(
        "/api/communication/order/create",
        Auth::Admin(&admin),
        json!({}),
    )
    .await
    .assert_error(1001, "requires login");
}
