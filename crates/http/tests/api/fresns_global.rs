//! What the official clients read before any conversation call:
//! `global/configs`, `global/code-messages`, `common/ip-info` and
//! `/status.json`, in upstream's shapes, with upstream's header checks.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::fresns_helpers::{Key, Session, Tweaks};
use crate::helpers::TestApp;

async fn anonymous(app: &TestApp, key: &Key, uri: &str, lang: Option<&'static str>) -> Value {
    let tweaks = Tweaks {
        lang,
        ..Tweaks::default()
    };
    let res = app
        .fresns_tweaked(Method::GET, uri, key, &Session::default(), None, &tweaks)
        .await;
    assert_eq!(res.body["code"], 0, "{res:?}");
    res.body["data"].clone()
}

#[actix_web::test]
async fn configs_serve_the_items_the_clients_read_in_their_language() {
    let app = TestApp::new();
    let key = app.key(7, false, None);
    let all = anonymous(&app, &key, "/api/v2/global/configs", Some("zh-Hans")).await;
    assert_eq!(all["cache_minutes"], 10);
    assert_eq!(all["menu_conversations"], "对话");
    assert_eq!(all["menu_account"], "用户中心");
    assert_eq!(all["site_name"], "colloq");
    assert_eq!(all["site_logo"], Value::Null);
    assert_eq!(all["conversation_status"], true);
    assert_eq!(all["conversation_files"], json!(["image"]));
    assert_eq!(all["default_language"], "en");
    assert_eq!(all["image_max_size"], 10);
    assert!(
        all["image_extension_names"]
            .as_str()
            .unwrap()
            .contains("jpg")
    );
    let pack = &all["language_pack_contents"];
    for (word, text) in [
        ("delete", "删除"),
        ("userDeactivate", "用户已停用"),
        ("cancel", "取消"),
        ("confirm", "确认"),
        ("inProgress", "处理中..."),
        ("isLatestVersion", "当前已是最新版本"),
        ("upgrade", "立即升级"),
    ] {
        assert_eq!(pack[word], text, "{word}");
    }
    let menus = all["language_menus"].as_array().unwrap();
    let tags: Vec<&str> = menus
        .iter()
        .map(|m| m["langTag"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["en", "zh-Hans", "zh-Hant"]);
    assert_eq!(menus[1]["dateFormat"], "Y-m-d");
    assert_eq!(menus[0]["timeFormatMinute"], "{n} minute ago");

    let hant = anonymous(
        &app,
        &key,
        "/api/v2/global/configs?keys=menu_account",
        Some("zh-Hant"),
    )
    .await;
    assert_eq!(hant, json!({"menu_account": "個人中心"}));
    let en = anonymous(
        &app,
        &key,
        "/api/v2/global/configs?keys=menu_conversations,language_pack_contents",
        None,
    )
    .await;
    assert_eq!(en["menu_conversations"], "Messages");
    assert_eq!(en["language_pack_contents"]["upgrade"], "Upgrade Now");
    let tagged = anonymous(&app, &key, "/api/v2/global/configs?tags=languages", None).await;
    let keys: Vec<&String> = tagged.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "default_language",
            "language_menus",
            "language_pack_contents"
        ]
    );
}

#[actix_web::test]
async fn the_global_routes_check_headers_and_signature_as_every_route() {
    let app = TestApp::new();
    let key = app.key(7, false, None);
    for uri in [
        "/api/v2/global/configs",
        "/api/v2/global/code-messages",
        "/api/v2/common/ip-info",
        // A bad parameter is validated after the signature, as upstream.
        "/api/v2/global/code-messages?isAll=maybe",
        "/api/v2/common/ip-info?ip=not-an-ip",
    ] {
        let forged = Tweaks {
            signature: Some("0".repeat(32)),
            ..Tweaks::default()
        };
        app.fresns_tweaked(Method::GET, uri, &key, &Session::default(), None, &forged)
            .await
            .fcode(31302);
        let res = app.send(TestRequest::get().uri(uri)).await;
        res.fcode(21005);
    }
}

#[actix_web::test]
async fn code_messages_are_the_code_table_in_the_requests_language() {
    let app = TestApp::new();
    let key = app.key(7, false, None);
    let all = anonymous(&app, &key, "/api/v2/global/code-messages", None).await;
    assert_eq!(all["31303"], "Signature expired");
    assert_eq!(all["0"], "Success");
    assert!(all.as_object().unwrap().len() >= 40);
    let some = anonymous(
        &app,
        &key,
        "/api/v2/global/code-messages?codes=31303,36602,99999",
        Some("zh-Hans"),
    )
    .await;
    assert_eq!(
        some,
        json!({"31303": "签名已过期", "36602": "对话不属于当前用户"})
    );
    let every = anonymous(
        &app,
        &key,
        "/api/v2/global/code-messages?isAll=1&codes=31303",
        None,
    )
    .await;
    assert_eq!(every, all);
    let plugin = anonymous(
        &app,
        &key,
        "/api/v2/global/code-messages?fskey=SomePlugin",
        None,
    )
    .await;
    assert_eq!(plugin, json!({}));
    let bad = app
        .fresns(
            Method::GET,
            "/api/v2/global/code-messages?isAll=maybe",
            &key,
            &Session::default(),
            None,
        )
        .await;
    assert_eq!(bad.fcode(30000), "The is all field must be true or false.");
}

#[actix_web::test]
async fn ip_info_answers_as_upstream_without_an_ip_plugin() {
    let app = TestApp::new();
    let key = app.key(7, false, None);
    let six = anonymous(&app, &key, "/api/v2/common/ip-info?ip=2001:db8::1", None).await;
    assert_eq!(six["networkIpv4"], Value::Null);
    assert_eq!(six["networkIpv6"], "2001:db8::1");
    assert_eq!(six["networkPort"], Value::Null);
    assert_eq!(six["mapId"], 1);
    assert_eq!(six["networkMobile"], false);
    assert_eq!(six["country"], Value::Null);
    let four = anonymous(&app, &key, "/api/v2/common/ip-info?ip=203.0.113.9", None).await;
    assert_eq!(four["networkIpv4"], "203.0.113.9");
    let bad = app
        .fresns(
            Method::GET,
            "/api/v2/common/ip-info?ip=not-an-ip",
            &key,
            &Session::default(),
            None,
        )
        .await;
    assert_eq!(bad.fcode(30000), "The ip must be a valid IP address.");
}

#[actix_web::test]
async fn status_json_is_served_without_signature() {
    let app = TestApp::new();
    let res = app
        .send(TestRequest::get().uri("/status.json?timestamp=1764670000000"))
        .await;
    assert_eq!(res.body["activate"], true);
    assert_eq!(res.body["version"], "2.21.4");
    assert_eq!(res.body["deactivateDescribe"], json!({"default": ""}));
    assert_eq!(
        res.body["client"]["mobile"]["android"]["packages"],
        json!({"apk": ""})
    );
    assert_eq!(
        res.body["client"]["desktop"]["macos"]["packages"],
        json!({"intel": "", "appleSilicon": ""})
    );
}
