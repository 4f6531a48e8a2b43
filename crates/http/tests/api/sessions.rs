//! Accounts and tokens: register, login, logout, user detail, staff login,
//! cookie and bearer auth, expiry and `Update-Token` renewal.

use chrono::Duration;
use serde_json::json;

use actix_web::http::header::HeaderMap;

use crate::helpers::{Auth, TestApp};

/// The renewed token a response brings, which it must.
fn update_token(headers: &HeaderMap) -> String {
    headers
        .get("update-token")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

#[actix_web::test]
async fn register_returns_the_user_with_a_token_and_sets_an_http_only_cookie() {
    let app = TestApp::new();
    let res = app
        .post(
            "/api/register",
            Auth::None,
            json!({"user_name": "alice", "password": "secret-pw", "email": "Alice@Example.com", "real_name": "Alice"}),
        )
        .await;
    let cookie = res
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("token="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(cookie.contains(res.data()["token"].as_str().unwrap()));
    assert_eq!(res.data()["token"].as_str().unwrap().len(), 43);
    insta::assert_json_snapshot!("register", res.body, {
        ".data.created_time" => "[time]", ".data.updated_time" => "[time]", ".data.token" => "[token]"
    });
}

#[actix_web::test]
async fn register_refuses_taken_names_and_missing_fields_by_name() {
    let app = TestApp::new();
    app.customer("alice").await;
    let taken = app
        .post(
            "/api/register",
            Auth::None,
            json!({"user_name": "alice", "password": "secret-pw", "phone": "13800000001"}),
        )
        .await;
    taken.assert_error(-1, "user_name is already taken");
    let email_taken = app
        .post(
            "/api/register",
            Auth::None,
            json!({"user_name": "bob", "password": "secret-pw", "email": "alice@example.com"}),
        )
        .await;
    email_taken.assert_error(-1, "email is already taken");
    for (body, part) in [
        (
            json!({"password": "secret-pw", "email": "b@x.io"}),
            "user_name is required",
        ),
        (
            json!({"user_name": "bob", "password": "12345", "email": "b@x.io"}),
            "password: must be at least 6",
        ),
        (
            json!({"user_name": "bob", "password": "secret-pw"}),
            "email or phone is required",
        ),
        (
            json!({"user_name": "bob", "password": "secret-pw", "email": "nope"}),
            "email: is not a valid",
        ),
        (
            json!({"user_name": 5, "password": "secret-pw"}),
            "user_name: invalid type",
        ),
    ] {
        app.post("/api/register", Auth::None, body)
            .await
            .assert_error(-1, part);
    }
}

#[actix_web::test]
async fn login_by_name_email_or_phone_and_failures_look_the_same() {
    let app = TestApp::new();
    app.post(
        "/api/register",
        Auth::None,
        json!({"user_name": "alice", "password": "secret-pw", "email": "alice@example.com", "phone": "13800000000"}),
    )
    .await
    .data();
    for body in [
        json!({"user_name": "alice", "password": "secret-pw"}),
        json!({"email": "ALICE@example.com", "password": "secret-pw"}),
        json!({"phone": "13800000000", "password": "secret-pw"}),
        json!({"user_name": "alice@example.com", "password": "secret-pw", "remember": true, "captcha": "x"}),
    ] {
        let res = app.post("/api/login", Auth::None, body).await;
        assert_eq!(res.data()["user_name"], "alice");
        let token = res.data()["token"].as_str().unwrap().to_owned();
        assert_eq!(
            app.get("/api/user/detail", Auth::Token(&token))
                .await
                .data()["user_name"],
            "alice"
        );
    }
    let wrong = app
        .post(
            "/api/login",
            Auth::None,
            json!({"user_name": "alice", "password": "wrong-pw"}),
        )
        .await;
    let unknown = app
        .post(
            "/api/login",
            Auth::None,
            json!({"user_name": "nobody", "password": "wrong-pw"}),
        )
        .await;
    wrong.assert_error(-1, "login failed");
    assert_eq!(
        wrong.body, unknown.body,
        "unknown users and wrong passwords look the same"
    );
    app.post("/api/login", Auth::None, json!({"password": "x"}))
        .await
        .assert_error(-1, "user_name, email or phone is required");
    app.post("/api/login", Auth::None, json!({"user_name": "alice"}))
        .await
        .assert_error(-1, "password is required");
}

#[actix_web::test]
async fn user_detail_works_with_header_cookie_and_bearer_and_never_shows_the_token() {
    let app = TestApp::new();
    let (id, token) = app.customer("alice").await;
    for auth in [
        Auth::Token(&token),
        Auth::Cookie(&token),
        Auth::Bearer(&token),
    ] {
        let res = app.get("/api/user/detail", auth).await;
        assert_eq!(res.data()["id"], id);
        assert_eq!(res.data()["token"], "");
    }
    insta::assert_json_snapshot!("user_detail", app.get("/api/user/detail", Auth::Token(&token)).await.body, {
        ".data.created_time" => "[time]", ".data.updated_time" => "[time]"
    });
}

#[actix_web::test]
async fn no_bad_revoked_or_expired_token_is_1001() {
    let app = TestApp::new();
    let (_, token) = app.customer("alice").await;
    app.get("/api/user/detail", Auth::None)
        .await
        .assert_error(1001, "requires login");
    app.get("/api/user/detail", Auth::Token("made-up"))
        .await
        .assert_error(1001, "requires login");

    app.post("/api/logout", Auth::Token(&token), json!({}))
        .await
        .data();
    app.get("/api/user/detail", Auth::Token(&token))
        .await
        .assert_error(1001, "requires login");
    app.post("/api/logout", Auth::Token(&token), json!({}))
        .await
        .assert_error(1001, "requires login");

    let (_, fresh) = app.customer("bob").await;
    app.clock()
        .advance(Duration::days(30) + Duration::seconds(1));
    app.get("/api/user/detail", Auth::Token(&fresh))
        .await
        .assert_error(1001, "requires login");
}

#[actix_web::test]
async fn a_token_close_to_expiry_brings_a_fresh_one_in_update_token() {
    let app = TestApp::new();
    let (id, token) = app.customer("alice").await;
    let res = app.get("/api/user/detail", Auth::Token(&token)).await;
    assert!(
        res.headers.get("update-token").is_none(),
        "a young token is not renewed"
    );

    app.clock()
        .advance(Duration::days(30) - Duration::minutes(30));
    let res = app.get("/api/user/detail", Auth::Token(&token)).await;
    assert_eq!(res.data()["id"], id);
    let renewed = update_token(&res.headers);
    assert_ne!(renewed, token);

    app.clock().advance(Duration::hours(1));
    app.get("/api/user/detail", Auth::Token(&token))
        .await
        .assert_error(1001, "requires login");
    let res = app.get("/api/user/detail", Auth::Token(&renewed)).await;
    assert_eq!(res.data()["id"], id);
    assert!(res.headers.get("update-token").is_none());
}

#[actix_web::test]
async fn a_read_only_request_renews_its_token_after_its_read_transaction() {
    // Lists read in one read transaction; the renewal writes, so it must come
    // after that transaction, not inside it.
    let app = TestApp::new();
    let (_, token) = app.customer("alice").await;
    app.clock()
        .advance(Duration::days(30) - Duration::minutes(30));
    let res = app
        .get("/api/communication/orders", Auth::Token(&token))
        .await;
    assert_eq!(res.body["total"], 0, "{}", res.body);
    let renewed = update_token(&res.headers);
    app.clock().advance(Duration::hours(1));
    let res = app
        .get("/api/communication/orders", Auth::Token(&renewed))
        .await;
    assert_eq!(res.body["code"], 0, "{}", res.body);
}

#[actix_web::test]
async fn staff_log_in_at_their_own_door_only() {
    let app = TestApp::new();
    let (_, admin) = app.staff("staffer").await;
    let (_, customer) = app.customer("alice").await;
    app.post(
        "/system/api/login",
        Auth::None,
        json!({"user_name": "alice", "password": "secret-pw"}),
    )
    .await
    .assert_error(-1, "login failed");
    // A customer token is not a staff token and the other way round.
    app.get("/system/api/communication/orders", Auth::Admin(&customer))
        .await
        .assert_error(1001, "requires login");
    app.get("/api/user/detail", Auth::Token(&admin))
        .await
        .assert_error(1001, "requires login");
    let res = app
        .get("/system/api/communication/orders", Auth::Admin(&admin))
        .await;
    assert_eq!(
        res.body,
        json!({"code": 0, "msg": "", "data": [], "total": 0})
    );
    let login = app
        .post(
            "/system/api/login",
            Auth::None,
            json!({"user_name": "staffer", "password": "staff-pw"}),
        )
        .await;
    assert!(
        login.headers.get("set-cookie").is_none(),
        "staff tokens travel in the admin header only"
    );
    insta::assert_json_snapshot!("staff_login", login.body, {
        ".data.created_time" => "[time]", ".data.updated_time" => "[time]", ".data.token" => "[token]"
    });
    app.post("/system/api/logout", Auth::Admin(&admin), json!({}))
        .await
        .data();
    app.get("/system/api/communication/orders", Auth::Admin(&admin))
        .await
        .assert_error(1001, "requires login");
}
