//! Fresns headers, signature, tokens, login, user auth and logout.

use actix_web::http::Method;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::Duration;
use colloq_persistence::accounts::{self, ProfileChanges};
use colloq_persistence::app_keys;
use diesel::connection::SimpleConnection as _;
use serde_json::json;

use crate::fresns_helpers::{Key, Session, Tweaks};
use crate::helpers::TestApp;

const PANEL: &str = "/api/v2/user/panel";

fn login_body(account: &str, password: &str) -> serde_json::Value {
    json!({"type": "email", "account": account, "password": STANDARD.encode(password)})
}

#[actix_web::test]
async fn the_docs_signature_example_and_a_signed_request_pass() {
    let headers = [
        ("X-Fresns-Aid", "wIfu6jaF".to_owned()),
        (
            "X-Fresns-Aid-Token",
            "uoX1hk6SHUgB2MFGJwNx38dem9DA7Vsz".to_owned(),
        ),
        ("X-Fresns-App-Id", "yh1OJ7WL".to_owned()),
        ("X-Fresns-Client-Platform-Id", "2".to_owned()),
        ("X-Fresns-Client-Version", "2.0.0".to_owned()),
        ("X-Fresns-Signature-Timestamp", "1674161913192".to_owned()),
        ("X-Fresns-Uid", "782622".to_owned()),
        (
            "X-Fresns-Uid-Token",
            "PqBpwPLJgfd1sH0X5JffYFGxTSc8RW7c".to_owned(),
        ),
    ];
    assert_eq!(
        crate::fresns_helpers::sign(&headers, "qUiEaDNQh2IpvGHOKlTMx7ujn8t1CZWX"),
        "2174eaeab76fb6a3790ed4f7ebb2edfb"
    );
    let app = TestApp::new();
    let key = app.key(2, false, None);
    let me = app.fresns_user(&key, "alice").await;
    let res = app.fresns(Method::GET, PANEL, &key, &me, None).await;
    assert_eq!(
        res.fdata()["conversations"],
        json!({"conversationCount": 0, "unreadMessages": 0})
    );
    assert_eq!(res.headers.get("fresns-api").unwrap(), "v2");
}

#[actix_web::test]
async fn malformed_headers_are_21005_with_the_validators_message() {
    let app = TestApp::new();
    let key = app.key(2, false, None);
    let cases: Vec<(Tweaks, &str)> = vec![
        (
            Tweaks {
                drop: Some("X-Fresns-App-Id"),
                ..Tweaks::default()
            },
            "The app id field is required.",
        ),
        (
            Tweaks {
                replace: Some(("X-Fresns-Client-Platform-Id", "web".to_owned())),
                ..Tweaks::default()
            },
            "The platform id must be an integer.",
        ),
        (
            Tweaks {
                replace: Some(("X-Fresns-Client-Platform-Id", "12".to_owned())),
                ..Tweaks::default()
            },
            "The platform id must be between 1 and 11.",
        ),
        (
            Tweaks {
                drop: Some("X-Fresns-Client-Version"),
                ..Tweaks::default()
            },
            "The version field is required.",
        ),
        (
            Tweaks {
                drop: Some("X-Fresns-Client-Device-Info"),
                ..Tweaks::default()
            },
            "The device info field is required.",
        ),
        (
            Tweaks {
                replace: Some(("X-Fresns-Client-Device-Info", "not base64!".to_owned())),
                ..Tweaks::default()
            },
            "The device info must be base64 encoded JSON.",
        ),
        (
            Tweaks {
                replace: Some((
                    "X-Fresns-Client-Device-Info",
                    STANDARD.encode(r#"{"networkIpv4":"1.2.3"}"#),
                )),
                ..Tweaks::default()
            },
            "The network ipv4 field must be a valid IPv4 address",
        ),
        (
            Tweaks {
                drop: Some("X-Fresns-Signature"),
                ..Tweaks::default()
            },
            "The signature field is required.",
        ),
        (
            Tweaks {
                timestamp: Some("123".to_owned()),
                ..Tweaks::default()
            },
            "The timestamp must be between 10 and 13 digits.",
        ),
    ];
    for (tweaks, reason) in cases {
        let res = app
            .fresns_tweaked(Method::GET, PANEL, &key, &Session::default(), None, &tweaks)
            .await;
        let message = res.fcode(21005).to_owned();
        assert!(
            message.starts_with(
                "[Fresns][checkHeaders]: Command word request parameter error, reason: "
            ),
            "{message}"
        );
        assert!(message.contains(reason), "{message} lacks {reason}");
        assert!(
            res.body["data"][0]
                .as_str()
                .unwrap()
                .starts_with(&reason[..20]),
            "{:?}",
            res.body
        );
    }
    let text_uid = Session {
        aid: Some("someone".to_owned()),
        aid_token: Some("t".to_owned()),
        uid: Some("abc".to_owned()),
        uid_token: Some("t".to_owned()),
    };
    let res = app.fresns(Method::GET, PANEL, &key, &text_uid, None).await;
    assert!(res.fcode(21005).contains("The uid must be an integer."));
    let no_token = Session {
        aid: Some("someone".to_owned()),
        ..Session::default()
    };
    let res = app.fresns(Method::GET, PANEL, &key, &no_token, None).await;
    assert!(
        res.fcode(21005)
            .contains("The aid token field is required when aid is present.")
    );
}

/// A site configured for upstream's clock in `Asia/Shanghai`: its clients sign
/// with Unix time minus 8 hours, in milliseconds or seconds, and true Unix
/// time is as stale as it is upstream.
#[actix_web::test]
async fn the_signature_clock_follows_the_site_zone_as_upstream_computes_it() {
    let mut settings = TestApp::settings();
    settings.fresns.signature_clock_zone = "Asia/Shanghai".parse().unwrap();
    let app = TestApp::with_settings(settings);
    let key = app.key(7, false, None);
    let me = app.fresns_user(&key, "clockalice").await;
    let shanghai = app.clock().now() - Duration::hours(8);
    let ms = |t: chrono::DateTime<chrono::Utc>| t.timestamp_millis().to_string();
    let secs = |t: chrono::DateTime<chrono::Utc>| t.timestamp().to_string();
    let stamped = |timestamp: String| Tweaks {
        timestamp: Some(timestamp),
        ..Tweaks::default()
    };
    for fresh in [
        ms(shanghai),
        secs(shanghai),
        ms(shanghai + Duration::seconds(590)),
        secs(shanghai - Duration::seconds(590)),
    ] {
        app.fresns_tweaked(Method::GET, PANEL, &key, &me, None, &stamped(fresh))
            .await
            .fdata();
    }
    let truth = app.clock().now();
    for stale in [
        ms(truth),
        secs(truth),
        ms(shanghai + Duration::seconds(601)),
        secs(shanghai - Duration::seconds(601)),
    ] {
        app.fresns_tweaked(Method::GET, PANEL, &key, &me, None, &stamped(stale))
            .await
            .fcode(31303);
    }
}

#[actix_web::test]
async fn key_platform_time_and_signature_are_checked_in_order() {
    let app = TestApp::new();
    let key = app.key(2, false, None);
    let anon = Session::default();
    // Anonymous, and acting as a user (whose key is read with its sessions).
    let me = app.fresns_user(&key, "alice").await;
    for who in [anon.clone(), me.clone()] {
        let unknown = Key {
            app_id: "nope1234".to_owned(),
            ..key.clone()
        };
        app.fresns(Method::GET, PANEL, &unknown, &who, None)
            .await
            .fcode(31301);

        let other_platform = Key {
            platform_id: 3,
            ..key.clone()
        };
        app.fresns(Method::GET, PANEL, &other_platform, &who, None)
            .await
            .fcode(31102);

        let now = app.clock().now();
        for stale in [
            (now - Duration::seconds(601)).timestamp().to_string(),
            (now + Duration::seconds(601))
                .timestamp_millis()
                .to_string(),
        ] {
            let tweaks = Tweaks {
                timestamp: Some(stale),
                ..Tweaks::default()
            };
            app.fresns_tweaked(Method::GET, PANEL, &key, &who, None, &tweaks)
                .await
                .fcode(31303);
        }
        let fresh_seconds = Tweaks {
            timestamp: Some((now - Duration::seconds(590)).timestamp().to_string()),
            ..Tweaks::default()
        };
        let fresh = app
            .fresns_tweaked(Method::GET, PANEL, &key, &who, None, &fresh_seconds)
            .await;
        if who.uid.is_some() {
            fresh.fdata();
        } else {
            fresh.fcode(31501);
        }

        let forged = Tweaks {
            signature: Some("0".repeat(32)),
            ..Tweaks::default()
        };
        app.fresns_tweaked(Method::GET, PANEL, &key, &who, None, &forged)
            .await
            .fcode(31302);
        let wrong_secret = Key {
            secret: "x".repeat(32),
            ..key.clone()
        };
        app.fresns(Method::GET, PANEL, &wrong_secret, &who, None)
            .await
            .fcode(31302);
    }

    let bad_tz = Tweaks {
        timezone: Some("+5.3"),
        ..Tweaks::default()
    };
    app.fresns_tweaked(Method::GET, PANEL, &key, &anon, None, &bad_tz)
        .await
        .fcode(31402);

    let mut conn = app.pool.get().unwrap();
    app_keys::set_enabled(&mut conn, &key.app_id, false).unwrap();
    let mut manage = app_keys::find(&mut conn, &key.app_id).unwrap().unwrap();
    manage.app_id = "manage01".to_owned();
    manage.purpose = colloq_domain::client::KeyPurpose::Other(2);
    manage.is_enabled = true;
    app_keys::insert(&mut conn, &manage, app.clock().now()).unwrap();
    drop(conn);
    for who in [&anon, &me] {
        app.fresns(Method::GET, PANEL, &key, who, None)
            .await
            .fcode(31301);
    }
    let manage_key = Key {
        app_id: "manage01".to_owned(),
        ..key
    };
    for who in [&anon, &me] {
        app.fresns(Method::GET, PANEL, &manage_key, who, None)
            .await
            .fcode(31304);
    }
}

#[actix_web::test]
async fn logins_by_email_and_phone_with_their_failure_codes() {
    let app = TestApp::new();
    let key = app.key(2, false, None);
    let anon = Session::default();
    app.post(
        "/api/register",
        crate::helpers::Auth::None,
        json!({"user_name": "alice", "password": "secret-pw", "email": "alice@example.com", "phone": "13800000000"}),
    )
    .await
    .data();
    let login = |body| {
        app.fresns(
            Method::POST,
            "/api/v2/account/login",
            &key,
            &anon,
            Some(body),
        )
    };

    let res = login(login_body("alice@example.com", "secret-pw")).await;
    let data = res.fdata();
    assert_eq!(data["sessionToken"]["expiredDateTime"], json!(null));
    assert_eq!(data["detail"]["email"], "al***@example.com");
    assert_eq!(data["detail"]["users"][0]["username"], "alice");
    let keys: Vec<&String> = data["detail"].as_object().unwrap().keys().collect();
    assert_eq!(keys[..4], ["aid", "countryCode", "purePhone", "phone"]);

    let phone = json!({"type": "phone", "account": "13800000000", "countryCode": 86, "password": STANDARD.encode("secret-pw")});
    assert_eq!(
        login(phone).await.fdata()["detail"]["aid"],
        data["detail"]["aid"]
    );

    login(login_body("nobody@example.com", "secret-pw"))
        .await
        .fcode(31502);
    login(login_body("alice@example.com", "wrong-pw"))
        .await
        .fcode(34304);
    for (body, part) in [
        (
            json!({"account": "a@b.io", "password": "eA=="}),
            "The type field is required.",
        ),
        (
            json!({"type": "sms", "account": "a@b.io", "password": "eA=="}),
            "The selected type is invalid.",
        ),
        (
            json!({"type": "email", "account": "nope", "password": "eA=="}),
            "The account must be a valid email address.",
        ),
        (
            json!({"type": "phone", "account": "138x", "countryCode": 86, "password": "eA=="}),
            "The account must be an integer.",
        ),
        (
            json!({"type": "phone", "account": "138", "password": "eA=="}),
            "The country code field is required when type is phone.",
        ),
        (
            json!({"type": "email", "account": "a@b.io"}),
            "The password field is required when verify code is not present.",
        ),
        (
            json!({"type": "email", "account": "a@b.io", "password": "%%%"}),
            "The password must be a base64 encoded string.",
        ),
    ] {
        assert_eq!(login(body).await.fcode(30000), part);
    }
    login(json!({"type": "email", "account": "alice@example.com", "verifyCode": "123456"}))
        .await
        .fcode(33203);
    // Five failures in an hour close the door, even for the right password.
    for _ in 0..4 {
        login(login_body("alice@example.com", "wrong-pw"))
            .await
            .fcode(34304);
    }
    login(login_body("alice@example.com", "secret-pw"))
        .await
        .fcode(34306);
    app.advance(Duration::minutes(61));
    login(login_body("alice@example.com", "secret-pw"))
        .await
        .fdata();
}

#[actix_web::test]
async fn user_auth_checks_the_profile_and_its_password() {
    let app = TestApp::new();
    let key = app.key(2, false, None);
    let alice = app.fresns_user(&key, "alice").await;
    let bob = app.fresns_user(&key, "bob").await;
    let account_only = Session {
        aid: alice.aid.clone(),
        aid_token: alice.aid_token.clone(),
        ..Session::default()
    };
    let auth = |who: &str| {
        app.fresns(
            Method::POST,
            "/api/v2/user/auth",
            &key,
            &account_only,
            Some(json!({"uidOrUsername": who})),
        )
    };

    let res = auth("alice").await;
    let detail = &res.fdata()["detail"];
    assert_eq!(detail["conversation"]["code"], 31601);
    auth("nobody").await.fcode(31602);
    auth(bob.uid.as_deref().unwrap()).await.fcode(35201);
    app.fresns(
        Method::POST,
        "/api/v2/user/auth",
        &key,
        &Session::default(),
        Some(json!({"uidOrUsername": "alice"})),
    )
    .await
    .fcode(31501);

    let mut conn = app.pool.get().unwrap();
    let user = accounts::find_by_username(&mut conn, "alice")
        .unwrap()
        .unwrap();
    let hash = colloq_auth::password::hash_password("profile-pw").unwrap();
    let changes = ProfileChanges {
        password_hash: Some(Some(hash)),
        ..ProfileChanges::default()
    };
    accounts::update_profile(&mut conn, user.id, &changes).unwrap();
    drop(conn);
    auth("alice").await.fcode(34111);
    let with = |pw: &str| json!({"uidOrUsername": "alice", "password": STANDARD.encode(pw)});
    app.fresns(
        Method::POST,
        "/api/v2/user/auth",
        &key,
        &account_only,
        Some(with("nope")),
    )
    .await
    .fcode(35204);
    let res = app
        .fresns(
            Method::POST,
            "/api/v2/user/auth",
            &key,
            &account_only,
            Some(with("profile-pw")),
        )
        .await;
    assert_eq!(res.fdata()["detail"]["hasPassword"], true);
}

#[actix_web::test]
async fn tokens_are_checked_always_and_logout_revokes_both() {
    let app = TestApp::new();
    let key = app.key(2, false, None);
    let me = app.fresns_user(&key, "alice").await;
    let (app_ref, key_ref) = (&app, &key);
    let panel =
        |s: Session| async move { app_ref.fresns(Method::GET, PANEL, key_ref, &s, None).await };
    panel(me.clone()).await.fdata();

    panel(Session {
        aid_token: Some("forged".to_owned()),
        ..me.clone()
    })
    .await
    .fcode(31505);
    panel(Session {
        aid: Some("zzzzzzzz".to_owned()),
        ..me.clone()
    })
    .await
    .fcode(31502);
    panel(Session {
        uid_token: Some("forged".to_owned()),
        ..me.clone()
    })
    .await
    .fcode(31603);
    panel(Session {
        uid: Some("12345".to_owned()),
        ..me.clone()
    })
    .await
    .fcode(31603);
    panel(Session {
        uid: None,
        uid_token: None,
        ..me.clone()
    })
    .await
    .fcode(31601);
    panel(Session::default()).await.fcode(31501);
    panel(Session {
        aid: None,
        aid_token: None,
        ..me.clone()
    })
    .await
    .fcode(31502);

    let ios = app.key(5, false, None);
    app.fresns(Method::GET, PANEL, &ios, &me, None)
        .await
        .fcode(31103);

    app.fresns(Method::DELETE, "/api/v2/account/logout", &key, &me, None)
        .await
        .fdata();
    panel(me.clone()).await.fcode(31505);
    let login_again = app.fresns_login(&key, "alice").await;
    panel(login_again.clone()).await.fdata();
}

/// A request acting as a user has both its tokens checked in one read when
/// its uid is its account's primary profile, and by the two reads otherwise:
/// mixed, swapped and non-primary sessions answer as the two reads do.
#[actix_web::test]
async fn one_read_of_both_tokens_answers_as_the_two_reads() {
    let app = TestApp::new();
    let key = app.key(2, false, None);
    let alice = app.fresns_user(&key, "alice").await;
    let bob = app.fresns_user(&key, "bob").await;
    let (app_ref, key_ref) = (&app, &key);
    let panel =
        |s: Session| async move { app_ref.fresns(Method::GET, PANEL, key_ref, &s, None).await };

    // Bob's user session under Alice's account, and the reverse.
    let bobs_user = Session {
        uid: bob.uid.clone(),
        uid_token: bob.uid_token.clone(),
        ..alice.clone()
    };
    panel(bobs_user).await.fcode(31603);
    let bobs_account = Session {
        aid: bob.aid.clone(),
        aid_token: bob.aid_token.clone(),
        ..alice.clone()
    };
    panel(bobs_account).await.fcode(31603);
    // Alice's aid with Bob's account token; her tokens swapped.
    let foreign_token = Session {
        aid_token: bob.aid_token.clone(),
        ..alice.clone()
    };
    panel(foreign_token).await.fcode(31505);
    let swapped = Session {
        aid_token: alice.uid_token.clone(),
        uid_token: alice.aid_token.clone(),
        ..alice.clone()
    };
    panel(swapped).await.fcode(31505);
    let sender = |s: Session| async move {
        let body = json!({"uidOrUsername": "bob", "message": "hi"});
        let path = "/api/v2/conversation/send-message";
        let sent = app_ref
            .fresns(Method::POST, path, key_ref, &s, Some(body))
            .await;
        sent.fdata()["user"]["uid"].clone()
    };
    let alice_uid: i64 = alice.uid.as_deref().unwrap().parse().unwrap();
    assert_eq!(sender(alice.clone()).await, alice_uid);

    // Alice's profile stops being primary: her account has none, which the
    // account read refuses (the one read alone would have let her in).
    let mut conn = app.pool.get().unwrap();
    let uid = alice.uid.as_deref().unwrap();
    conn.batch_execute(&format!(
        "UPDATE users SET is_primary = false WHERE uid = {uid}"
    ))
    .unwrap();
    drop(conn);
    panel(alice.clone()).await.fcode(31502);
    // With a primary sibling the account passes, and the request still acts
    // as the profile it named, not as the primary one.
    let mut conn = app.pool.get().unwrap();
    conn.batch_execute(&format!(
        "INSERT INTO users (account_id, uid, username, nickname, is_primary, created_at, updated_at) \
         SELECT account_id, 99999999, 'alice2', 'Alice 2', true, created_at, updated_at \
         FROM users WHERE uid = {uid}"
    ))
    .unwrap();
    drop(conn);
    assert_eq!(sender(alice.clone()).await, alice_uid);
}

#[actix_web::test]
async fn tokens_of_a_key_with_a_lifetime_expire() {
    let app = TestApp::new();
    let key = app.key(2, false, Some(3600));
    let me = app.fresns_user(&key, "alice").await;
    app.fresns(Method::GET, PANEL, &key, &me, None)
        .await
        .fdata();
    app.advance(Duration::seconds(3601));
    app.fresns(Method::GET, PANEL, &key, &me, None)
        .await
        .fcode(31504);
}

#[actix_web::test]
async fn messages_follow_the_language_tag() {
    let app = TestApp::new();
    let key = app.key(2, false, None);
    let me = app.fresns_user(&key, "alice").await;
    let with = |lang| Tweaks {
        lang: Some(lang),
        ..Tweaks::default()
    };
    let res = app
        .fresns_tweaked(Method::GET, PANEL, &key, &me, None, &with("zh-Hans"))
        .await;
    assert_eq!(res.body["message"], "成功");
    let res = app
        .fresns_tweaked(
            Method::GET,
            PANEL,
            &key,
            &Session::default(),
            None,
            &with("zh-Hant"),
        )
        .await;
    assert_eq!(res.fcode(31501), "帳號未登錄，無法使用");
    let res = app
        .fresns_tweaked(Method::GET, PANEL, &key, &me, None, &with("fr"))
        .await;
    assert_eq!(res.body["message"], "Success");
    let res = app
        .fresns_tweaked(
            Method::GET,
            PANEL,
            &key,
            &Session::default(),
            None,
            &with("xx"),
        )
        .await;
    assert_eq!(res.fcode(31501), "Account not logged in, Unable to use");
}

#[actix_web::test]
async fn the_caller_is_checked_before_the_request_parameters() {
    // Upstream's header and token middleware runs before request validation, so
    // a request wrong in both ways gets the caller's code.
    let app = TestApp::new();
    let key = app.key(2, false, None);
    let me = app.fresns_user(&key, "alice").await;
    let forged = Session {
        uid_token: Some("forged".to_owned()),
        ..me.clone()
    };
    let bad_page = "/api/v2/conversation/1/messages?pageSize=0";
    app.fresns(Method::GET, bad_page, &key, &forged, None)
        .await
        .fcode(31603);
    app.fresns(
        Method::GET,
        "/api/v2/conversation/x/detail",
        &key,
        &forged,
        None,
    )
    .await
    .fcode(31603);
    let no_recipient = Some(json!({"message": "hi"}));
    app.fresns(
        Method::POST,
        "/api/v2/conversation/send-message",
        &key,
        &forged,
        no_recipient.clone(),
    )
    .await
    .fcode(31603);
    let not_json = app
        .fresns_request(
            Method::POST,
            "/api/v2/conversation/send-message",
            &key,
            &me,
            None,
            &Tweaks {
                signature: Some("0".repeat(32)),
                ..Tweaks::default()
            },
        )
        .insert_header(("content-type", "application/json"))
        .set_payload("{not json");
    app.send(not_json).await.fcode(31302);

    // With the caller accepted, the parameters are reported.
    assert!(
        app.fresns(Method::GET, bad_page, &key, &me, None)
            .await
            .fcode(30000)
            .contains("page size")
    );
    let read_only = app.key(2, true, None);
    let reader = app.fresns_login(&read_only, "alice").await;
    app.fresns(
        Method::POST,
        "/api/v2/conversation/send-message",
        &read_only,
        &reader,
        no_recipient,
    )
    .await
    .fcode(31305);
}
