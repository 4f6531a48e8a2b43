//! Rate limits: one password budget per account across every login door of
//! both dialects, a five-failure lock that is per address (so a stranger
//! cannot lock the owner out), one send budget per user across both
//! dialects, and limits per client address. Over a limit: HTTP 429 with
//! `Retry-After` in the door's own envelope.

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use colloq_http::settings::LimitsSettings;
use serde_json::json;

use crate::fresns_helpers::{Session, Tweaks};
use crate::helpers::{Auth, Resp, TestApp};

fn app_with(limits: LimitsSettings) -> TestApp {
    let mut settings = TestApp::settings();
    settings.limits = limits;
    TestApp::with_settings(settings)
}

fn address(n: u8) -> std::net::SocketAddr {
    std::net::SocketAddr::from(([198, 51, 100, n], 40000))
}

/// A login at an AnQiCMS door from `from`.
async fn anqicms_login(app: &TestApp, door: &str, password: &str, from: u8) -> Resp {
    app.send(
        TestRequest::post()
            .uri(door)
            .peer_addr(address(from))
            .set_json(json!({"user_name": "alice", "password": password})),
    )
    .await
}

/// A Fresns account login of alice from `from`.
async fn fresns_login(
    app: &TestApp,
    key: &crate::fresns_helpers::Key,
    password: &str,
    from: u8,
) -> Resp {
    let body = json!({"type": "email", "account": "alice@example.com", "password": STANDARD.encode(password)});
    let req = app
        .fresns_request(
            Method::POST,
            "/api/v2/account/login",
            key,
            &Session::default(),
            Some(body),
            &Tweaks::default(),
        )
        .peer_addr(address(from));
    app.send(req).await
}

fn assert_too_many(res: &Resp, code: i64) {
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{res:?}");
    let wait: u64 = res
        .headers
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    assert_eq!(res.body["code"], code, "{res:?}");
}

#[actix_web::test]
async fn one_password_budget_per_account_spans_every_door() {
    let app = app_with(LimitsSettings {
        logins_per_account_per_minute: 6,
        ..LimitsSettings::off()
    });
    app.customer("alice").await;
    let key = app.key(4, false, None);
    // Six wrong guesses, from six addresses (so no address is locked), at
    // the three doors.
    for n in 0..2 {
        anqicms_login(&app, "/api/login", "wrong-pw", 10 + n)
            .await
            .assert_error(-1, "login failed");
        anqicms_login(&app, "/system/api/login", "wrong-pw", 20 + n)
            .await
            .assert_error(-1, "login failed");
        fresns_login(&app, &key, "wrong-pw", 30 + n)
            .await
            .fcode(34304);
    }
    // The budget is spent, at every door and from every address, even with
    // the right password.
    assert_too_many(
        &anqicms_login(&app, "/api/login", "secret-pw", 40).await,
        -1,
    );
    assert_too_many(&fresns_login(&app, &key, "secret-pw", 41).await, 429);
    assert_too_many(
        &anqicms_login(&app, "/system/api/login", "secret-pw", 42).await,
        -1,
    );
}

#[actix_web::test]
async fn the_five_failure_lock_is_per_address_and_holds_at_every_door() {
    let app = TestApp::new();
    app.customer("alice").await;
    let key = app.key(4, false, None);
    for _ in 0..5 {
        fresns_login(&app, &key, "wrong-pw", 66).await.fcode(34304);
    }
    // The guesser's address is locked at both dialects' doors...
    fresns_login(&app, &key, "secret-pw", 66).await.fcode(34306);
    let locked = anqicms_login(&app, "/api/login", "secret-pw", 66).await;
    assert_eq!(locked.code(), -1, "{locked:?}");
    // ...and the owner, elsewhere, logs in.
    assert_eq!(
        anqicms_login(&app, "/api/login", "secret-pw", 7)
            .await
            .code(),
        0
    );
    assert_eq!(
        fresns_login(&app, &key, "secret-pw", 7).await.body["code"],
        0
    );
}

#[actix_web::test]
async fn one_send_budget_per_user_spans_both_dialects() {
    let app = app_with(LimitsSettings {
        sends_per_user_per_second: 2,
        ..LimitsSettings::off()
    });
    let key = app.key(4, false, None);
    let alice = app.fresns_user(&key, "alice").await;
    app.fresns_user(&key, "bob").await;
    let login = app
        .post(
            "/api/login",
            Auth::None,
            json!({"user_name": "alice", "password": "secret-pw"}),
        )
        .await;
    let token = login.data()["token"].as_str().unwrap().to_owned();
    let order = app.order(&token).await;
    let anqicms = json!({"comm_order_id": order, "message_type": "text", "content": "hi"});
    let fresns = json!({"uidOrUsername": "bob", "message": "hi"});
    // Twice the per-second budget may come at once: two through each dialect.
    for _ in 0..2 {
        let sent = app
            .post(
                "/api/communication/message/send",
                Auth::Token(&token),
                anqicms.clone(),
            )
            .await;
        assert_eq!(sent.code(), 0, "{sent:?}");
        app.fresns(
            Method::POST,
            "/api/v2/conversation/send-message",
            &key,
            &alice,
            Some(fresns.clone()),
        )
        .await
        .fdata();
    }
    let refused = app
        .post(
            "/api/communication/message/send",
            Auth::Token(&token),
            anqicms,
        )
        .await;
    assert_too_many(&refused, -1);
    assert!(refused.msg().contains("too many requests"), "{refused:?}");
    let refused = app
        .fresns(
            Method::POST,
            "/api/v2/conversation/send-message",
            &key,
            &alice,
            Some(fresns),
        )
        .await;
    assert_too_many(&refused, 429);
    assert_eq!(
        refused.body["message"],
        "Too many requests, please try again later"
    );
}

#[actix_web::test]
async fn an_address_has_a_budget_for_everything_and_one_for_registrations() {
    let app = app_with(LimitsSettings {
        requests_per_address_per_second: 1,
        registrations_per_address_per_hour: 1,
        ..LimitsSettings::off()
    });
    let fields = || TestRequest::get().uri("/api/communication/fields");
    // A burst of twice the rate, then 429 in the AnQiCMS envelope.
    for _ in 0..2 {
        let ok = app.send(fields().peer_addr(address(1))).await;
        assert_eq!(ok.status, StatusCode::OK);
    }
    assert_too_many(&app.send(fields().peer_addr(address(1))).await, -1);
    // Under /api/v2 it is the Fresns envelope, in the client's language.
    let fresns = app
        .send(
            TestRequest::get()
                .uri("/api/v2/global/configs")
                .insert_header(("X-Fresns-Client-Lang-Tag", "zh-Hans"))
                .peer_addr(address(1)),
        )
        .await;
    assert_too_many(&fresns, 429);
    assert_eq!(fresns.body["message"], "请求过于频繁，请稍后再试");
    // Outside both dialects (a file, the API documents) it belongs to neither.
    let file = app
        .send(
            TestRequest::get()
                .uri("/openapi/anqicms.json")
                .peer_addr(address(1)),
        )
        .await;
    assert_eq!(file.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(file.headers.contains_key("retry-after"));
    assert_eq!(file.body["error"], "too_many_requests");
    // Health checks are exempt; other addresses have their own budget.
    let health = app
        .send_raw(TestRequest::get().uri("/healthz").peer_addr(address(1)))
        .await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(
        app.send(fields().peer_addr(address(2))).await.status,
        StatusCode::OK
    );
    // One registration per address per hour.
    let register = |name: &str, from: u8| {
        TestRequest::post()
            .uri("/api/register")
            .peer_addr(address(from))
            .set_json(json!({"user_name": name, "password": "secret-pw", "email": format!("{name}@example.com")}))
    };
    assert_eq!(app.send(register("one", 3)).await.code(), 0);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_too_many(&app.send(register("two", 3)).await, -1);
}
