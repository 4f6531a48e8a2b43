//! The real `colloq` binary serving Fresns: an app key from the CLI, two
//! accounts, account login and user auth over HTTP with signatures computed
//! here, a message sent, and the conversation listed by both sides.

#![expect(
    clippy::unwrap_used,
    clippy::tests_outside_test_module,
    reason = "an integration-test crate is all tests; failing loudly is the point"
)]

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest, Md5};
use serde_json::{Value, json};
use support::{Env, json_out};

struct Client<'a> {
    base: &'a str,
    app_id: String,
    secret: String,
    aid: String,
    aid_token: String,
    uid: String,
    uid_token: String,
    /// Added to true Unix time in the signature timestamp, in milliseconds
    /// (the official clients send Unix time − 8 h).
    shift_ms: i64,
    /// Platform id and client version.
    platform: (&'static str, &'static str),
    /// Headers sent but not signed (language, time zone).
    extra: Vec<(&'static str, String)>,
}

/// A request body as a client sends it.
enum Body {
    Json(Value),
    Form(String),
}

/// Creates `name` with the CLI: password `secret-pw`, e-mail
/// `name@example.com`, and `extra` arguments.
fn create_user(env: &Env, name: &str, extra: &[&str]) {
    let email = format!("{name}@example.com");
    let mut args = vec![
        "user",
        "create",
        "--username",
        name,
        "--password",
        "secret-pw",
        "--email",
        &email,
    ];
    args.extend_from_slice(extra);
    json_out(env.colloq().args(args));
}

/// A client of the key `key` (as `app-key create` printed it), not logged in,
/// platform 4, signing with true Unix time.
fn signed_client<'a>(base: &'a str, key: &Value) -> Client<'a> {
    Client {
        base,
        app_id: key["app_id"].as_str().unwrap().to_owned(),
        secret: key["app_secret"].as_str().unwrap().to_owned(),
        aid: String::new(),
        aid_token: String::new(),
        uid: String::new(),
        uid_token: String::new(),
        shift_ms: 0,
        platform: ("4", "2.21.4"),
        extra: Vec::new(),
    }
}

impl Client<'_> {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let value = self.send(method, path, body);
        assert_eq!(value["code"], 0, "{path}: {value}");
        value["data"].clone()
    }

    /// The whole envelope of a signed request (a GET carries `{}` as a body).
    fn send(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.request(method, path, Some(Body::Json(body.unwrap_or(json!({})))))
    }

    /// The signed `X-Fresns-*` headers of a request sent now.
    fn signed_headers(&self) -> Vec<(&'static str, String)> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        let ts = (i64::try_from(now).unwrap() + self.shift_ms).to_string();
        let mut signed = vec![
            ("X-Fresns-Aid", self.aid.clone()),
            ("X-Fresns-Aid-Token", self.aid_token.clone()),
            ("X-Fresns-App-Id", self.app_id.clone()),
            ("X-Fresns-Client-Platform-Id", self.platform.0.to_owned()),
            ("X-Fresns-Client-Version", self.platform.1.to_owned()),
            ("X-Fresns-Signature-Timestamp", ts),
            ("X-Fresns-Uid", self.uid.clone()),
            ("X-Fresns-Uid-Token", self.uid_token.clone()),
        ];
        signed.retain(|(_, v)| !v.is_empty());
        let query: Vec<String> = signed.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let signature = hex::encode(Md5::digest(format!(
            "{}&AppSecret={}",
            query.join("&"),
            self.secret
        )));
        signed.push(("X-Fresns-Signature", signature));
        signed.push((
            "X-Fresns-Client-Device-Info",
            STANDARD.encode(r#"{"networkIpv4":"127.0.0.1"}"#),
        ));
        signed.extend(self.extra.iter().cloned());
        signed
    }

    /// The whole envelope of a signed request with `body` as it is sent.
    fn request(&self, method: &str, path: &str, body: Option<Body>) -> Value {
        let url = format!("{}{path}", self.base);
        let mut req = ureq::http::Request::builder().method(method).uri(&url);
        for (k, v) in self.signed_headers() {
            req = req.header(k, v);
        }
        let (content_type, bytes) = match body {
            Some(Body::Json(value)) => ("application/json", value.to_string().into_bytes()),
            Some(Body::Form(form)) => ("application/x-www-form-urlencoded", form.into_bytes()),
            None => ("", Vec::new()),
        };
        if !content_type.is_empty() {
            req = req.header("Content-Type", content_type);
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .allow_non_standard_methods(true)
            .build()
            .into();
        let mut res = agent.run(req.body(bytes).unwrap()).unwrap();
        res.body_mut().read_json().unwrap()
    }

    fn login(&mut self, email: &str) {
        let data = self.call("POST", "/api/v2/account/login", Some(json!({"type": "email", "account": email, "password": STANDARD.encode("secret-pw")})));
        self.aid = data["sessionToken"]["aid"].as_str().unwrap().to_owned();
        self.aid_token = data["sessionToken"]["token"].as_str().unwrap().to_owned();
        let uid = data["detail"]["users"][0]["uid"]
            .as_i64()
            .unwrap()
            .to_string();
        let data = self.call(
            "POST",
            "/api/v2/user/auth",
            Some(json!({"uidOrUsername": uid})),
        );
        self.uid = data["sessionToken"]["uid"].as_i64().unwrap().to_string();
        self.uid_token = data["sessionToken"]["token"].as_str().unwrap().to_owned();
    }
}

#[test]
fn the_binary_serves_fresns_with_signed_requests() {
    let env = Env::new();
    let key =
        json_out(
            env.colloq()
                .args(["app-key", "create", "--platform-id", "4", "--name", "web"]),
        );
    assert_eq!(key["platform_id"], 4);
    for name in ["alice", "bob"] {
        create_user(&env, name, &[]);
    }
    let server = env.serve(env.colloq());
    let base = server.base.clone();
    let blank = |base| signed_client(base, &key);
    let mut alice = blank(&base);
    alice.login("alice@example.com");
    let mut bob = blank(&base);
    bob.login("bob@example.com");

    let sent = alice.call(
        "POST",
        "/api/v2/conversation/send-message",
        Some(json!({"uidOrUsername": "bob", "message": "hello over the wire"})),
    );
    assert_eq!(sent["isMe"], true);
    let list = bob.call("GET", "/api/v2/conversation/list", None);
    assert_eq!(list["pagination"]["total"], 1);
    let item = &list["list"][0];
    assert_eq!(
        (
            item["unreadCount"].clone(),
            item["user"]["username"].clone()
        ),
        (json!(1), json!("alice"))
    );
    let id = item["id"].as_i64().unwrap();
    let messages = bob.call("GET", &format!("/api/v2/conversation/{id}/messages"), None);
    assert_eq!(messages["list"][0]["content"], "hello over the wire");
    assert_eq!(messages["list"][0]["isMe"], false);
}

/// A site whose upstream ran in `Asia/Shanghai`: configured by its environment
/// name, colloq accepts what that site's clients send (Unix time − 8 h) and
/// refuses true Unix time, as upstream does; an unknown zone stops the start.
/// The site's name and logo reach `global/configs` from their variables.
#[test]
fn the_signature_clock_zone_setting_matches_an_existing_sites_clients() {
    let env = Env::new();
    let key = json_out(
        env.colloq()
            .args(["app-key", "create", "--platform-id", "4"]),
    );
    create_user(&env, "carol", &[]);
    let out = env
        .colloq()
        .env("COLLOQ_FRESNS__SIGNATURE_CLOCK_ZONE", "Asia/Shangai")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Asia/Shangai"));
    let mut cmd = env.colloq();
    cmd.env("COLLOQ_FRESNS__SIGNATURE_CLOCK_ZONE", "Asia/Shanghai")
        .env("COLLOQ_FRESNS__SITE_NAME", "Example Community")
        .env("COLLOQ_FRESNS__SITE_LOGO", "https://example.com/logo.png");
    let server = env.serve(cmd);
    let mut client = Client {
        shift_ms: -8 * 3600 * 1000,
        ..signed_client(&server.base, &key)
    };
    // The start-up read, before any login.
    let general = client.call("GET", "/api/v2/global/configs?tags=general", None);
    assert_eq!(general["site_name"], "Example Community");
    assert_eq!(general["site_logo"], "https://example.com/logo.png");
    client.login("carol@example.com");
    let panel = client.send("GET", "/api/v2/user/panel", None);
    assert_eq!(panel["code"], 0, "{panel}");
    client.shift_ms = 0;
    let panel = client.send("GET", "/api/v2/user/panel", None);
    assert_eq!(panel["code"], 31303, "{panel}");
}

/// The official WeChat mini-program's requests (2.8.0, the last v2 client),
/// replayed through the real binary configured for a site in Asia/Shanghai:
/// its headers (platform 7, Unix ms − 8 h, `+8`, `zh-Hans`), its start-up
/// reads, login by e-mail, user auth, and every conversation step, with JSON
/// and form-encoded bodies, GET data in the query, `conversationId` as a
/// string or a number, and the answers it reads from each.
#[test]
fn the_wechat_client_runs_through_its_conversation_pages() {
    let env = Env::new();
    let key = json_out(
        env.colloq()
            .args(["app-key", "create", "--platform-id", "7"]),
    );
    for name in ["dora", "eric"] {
        create_user(&env, name, &["--nickname", &name.to_uppercase()]);
    }
    let mut cmd = env.colloq();
    cmd.env("COLLOQ_FRESNS__SIGNATURE_CLOCK_ZONE", "Asia/Shanghai");
    let server = env.serve(cmd);
    let wechat = || Client {
        shift_ms: -8 * 3600 * 1000,
        platform: ("7", "2.8.0"),
        extra: vec![
            ("X-Fresns-Client-Lang-Tag", "zh-Hans".to_owned()),
            ("X-Fresns-Client-Timezone", "+8".to_owned()),
        ],
        ..signed_client(&server.base, &key)
    };
    let ok = |value: Value| {
        assert_eq!(value["code"], 0, "{value}");
        value["data"].clone()
    };

    // Start-up: status.json, then the configuration the pages read.
    let status: Value = ureq::get(&format!("{}/status.json?timestamp=1", server.base))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(status["activate"], true);
    let mut dora = wechat();
    let configs = ok(dora.request("GET", "/api/v2/global/configs", None));
    assert_eq!(configs["menu_conversations"], "对话");
    assert_eq!(configs["menu_account"], "用户中心");
    assert!(configs["cache_minutes"].is_i64());
    assert!(configs["language_menus"].is_array());
    assert!(configs.as_object().unwrap().contains_key("site_logo"));
    for word in [
        "delete",
        "userDeactivate",
        "cancel",
        "confirm",
        "inProgress",
        "isLatestVersion",
        "upgrade",
    ] {
        assert!(
            configs["language_pack_contents"][word].is_string(),
            "{word}"
        );
    }
    let codes = ok(dora.request("GET", "/api/v2/global/code-messages", None));
    assert_eq!(codes["36601"], "对话异常或不存在");
    let ip = ok(dora.request("GET", "/api/v2/common/ip-info", None));
    assert_eq!(ip["networkIpv4"], "127.0.0.1");

    // Login by e-mail (JSON), then user auth (form-encoded).
    let wrong = dora.request(
        "POST",
        "/api/v2/account/login",
        Some(Body::Json(json!({"type": "email", "account": "dora@example.com", "password": STANDARD.encode("nope-nope")}))),
    );
    assert_eq!(wrong["code"], 34304, "{wrong}");
    let login = ok(dora.request(
        "POST",
        "/api/v2/account/login",
        Some(Body::Json(json!({"type": "email", "account": "dora@example.com", "password": STANDARD.encode("secret-pw")}))),
    ));
    dora.aid = login["sessionToken"]["aid"].as_str().unwrap().to_owned();
    dora.aid_token = login["sessionToken"]["token"].as_str().unwrap().to_owned();
    let dora_uid = login["detail"]["users"][0]["uid"].as_i64().unwrap();
    let auth = ok(dora.request(
        "POST",
        "/api/v2/user/auth",
        Some(Body::Form(format!("uidOrUsername={dora_uid}"))),
    ));
    dora.uid = auth["sessionToken"]["uid"].as_i64().unwrap().to_string();
    dora.uid_token = auth["sessionToken"]["token"].as_str().unwrap().to_owned();
    let mut eric = wechat();
    eric.login("eric@example.com");
    let eric_uid: i64 = eric.uid.parse().unwrap();

    let panel = ok(dora.request("GET", "/api/v2/user/panel", None));
    assert_eq!(panel["unreadNotifications"]["all"], 0);
    assert_eq!(panel["draftCount"]["posts"], 0);
    assert_eq!(panel["conversations"]["unreadMessages"], 0);

    // Sends: by uid, form-encoded; by username, JSON.
    let first = ok(dora.request(
        "POST",
        "/api/v2/conversation/send-message",
        Some(Body::Form(format!(
            "uidOrUsername={eric_uid}&message=%E4%BD%A0%E5%A5%BD"
        ))),
    ));
    assert_eq!(first["content"], "你好");
    assert_eq!(first["isMe"], true);
    let reply = ok(eric.request(
        "POST",
        "/api/v2/conversation/send-message",
        Some(Body::Json(
            json!({"uidOrUsername": "dora", "message": "hello dora"}),
        )),
    ));
    let panel = ok(dora.request("GET", "/api/v2/user/panel", None));
    assert_eq!(panel["conversations"]["unreadMessages"], 1);

    let list = ok(dora.request("GET", "/api/v2/conversation/list?page=1&pageSize=15", None));
    let item = &list["list"][0];
    let id = item["id"].as_i64().unwrap();
    assert_eq!(item["user"]["uid"], eric_uid);
    assert_eq!(item["unreadCount"], 1);
    assert_eq!(item["latestMessage"]["message"], "hello dora");
    let detail = ok(dora.request("GET", &format!("/api/v2/conversation/{id}/detail"), None));
    assert_eq!(detail["user"]["nickname"], "ERIC");
    let missing = dora.request("GET", "/api/v2/conversation/987654/detail", None);
    assert_eq!(missing["code"], 36601, "{missing}");

    let page = ok(dora.request(
        "GET",
        &format!(
            "/api/v2/conversation/{id}/messages?pageListDirection=oldest&page=1&pageSize=20&whitelistKeys=avatar,nickname,status"
        ),
        None,
    ));
    let contents: Vec<&str> = page["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["你好", "hello dora"]);
    let sender = page["list"][1]["user"].as_object().unwrap();
    let mut keys: Vec<&String> = sender.keys().collect();
    keys.sort();
    assert_eq!(keys, ["avatar", "nickname", "status"]);
    assert_eq!(page["list"][1]["isMe"], false);
    assert!(page["list"][1]["timeAgo"].is_string());

    // Mark as read: by conversation (the id as a string), then by messageIds.
    ok(dora.request(
        "PUT",
        "/api/v2/conversation/mark-as-read",
        Some(Body::Json(
            json!({"type": "conversation", "conversationId": id.to_string()}),
        )),
    ));
    let mine = ok(eric.request("GET", &format!("/api/v2/conversation/{id}/messages"), None));
    let first_id = first["id"].as_i64().unwrap();
    ok(eric.request(
        "PUT",
        "/api/v2/conversation/mark-as-read",
        Some(Body::Form(format!("type=message&messageIds={first_id}"))),
    ));
    assert!(mine["list"].is_array());
    let panel = ok(eric.request("GET", "/api/v2/user/panel", None));
    assert_eq!(panel["conversations"]["unreadMessages"], 0);

    // Pin, and unpin.
    for pinned in [true, false] {
        ok(dora.request(
            "PUT",
            "/api/v2/conversation/pin",
            Some(Body::Json(json!({"conversationId": id}))),
        ));
        let list = ok(dora.request("GET", "/api/v2/conversation/list", None));
        assert_eq!(list["list"][0]["pinned"], pinned);
    }

    // Delete a message on my side, then the conversation.
    let reply_id = reply["id"].as_i64().unwrap();
    ok(dora.request(
        "DELETE",
        "/api/v2/conversation/delete",
        Some(Body::Json(
            json!({"type": "message", "messageIds": reply_id.to_string()}),
        )),
    ));
    let page = ok(dora.request("GET", &format!("/api/v2/conversation/{id}/messages"), None));
    assert_eq!(page["list"].as_array().unwrap().len(), 1);
    let theirs = ok(eric.request("GET", &format!("/api/v2/conversation/{id}/messages"), None));
    assert_eq!(theirs["list"].as_array().unwrap().len(), 2, "only my side");
    ok(dora.request(
        "DELETE",
        "/api/v2/conversation/delete",
        Some(Body::Json(
            json!({"type": "conversation", "conversationId": id}),
        )),
    ));
    let list = ok(dora.request("GET", "/api/v2/conversation/list", None));
    assert_eq!(list["list"], json!([]));

    // A stale user token, as after a logout elsewhere.
    let mut stale = wechat();
    stale.aid.clone_from(&dora.aid);
    stale.aid_token.clone_from(&dora.aid_token);
    stale.uid.clone_from(&dora.uid);
    stale.uid_token = "not-the-token".to_owned();
    assert_eq!(
        stale.request("GET", "/api/v2/user/panel", None)["code"],
        31603
    );
    stale.aid_token = "not-the-token".to_owned();
    assert_eq!(
        stale.request("GET", "/api/v2/user/panel", None)["code"],
        31505
    );
}

#[test]
fn a_signed_request_whose_body_stalls_gets_408_in_the_fresns_envelope() {
    use std::io::{Read as _, Write as _};
    let env = Env::new();
    create_user(&env, "stall", &[]);
    let key =
        json_out(
            env.colloq()
                .args(["app-key", "create", "--platform-id", "4", "--name", "t"]),
        );
    let mut cmd = env.colloq();
    cmd.env("COLLOQ_HTTP__BODY_IDLE_TIMEOUT_SECS", "1");
    let server = env.serve(cmd);
    let mut client = signed_client(&server.base, &key);
    client.login("stall@example.com");
    let address = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(15)))
        .unwrap();
    let mut head =
        String::from("POST /api/v2/conversation/send-message HTTP/1.1\r\nHost: colloq\r\n");
    for (k, v) in client.signed_headers() {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"uidOr");
    let started = std::time::Instant::now();
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = Vec::new();
    // The server answers, then closes the connection.
    stream.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8(answer).unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{answer}"
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"code": 30000, "message": "The request body did not arrive in time.", "data": null})
    );
}
