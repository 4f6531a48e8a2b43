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
}

impl Client<'_> {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let value = self.send(method, path, body);
        assert_eq!(value["code"], 0, "{path}: {value}");
        value["data"].clone()
    }

    /// The whole envelope of a signed request.
    fn send(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        let ts = (i64::try_from(now).unwrap() + self.shift_ms).to_string();
        let mut signed = vec![
            ("X-Fresns-Aid", self.aid.clone()),
            ("X-Fresns-Aid-Token", self.aid_token.clone()),
            ("X-Fresns-App-Id", self.app_id.clone()),
            ("X-Fresns-Client-Platform-Id", "4".to_owned()),
            ("X-Fresns-Client-Version", "2.21.4".to_owned()),
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
        let url = format!("{}{path}", self.base);
        let mut req = match method {
            "POST" => ureq::post(&url),
            _ => ureq::get(&url).force_send_body(),
        };
        for (k, v) in &signed {
            req = req.header(*k, v);
        }
        req = req.header("X-Fresns-Signature", &signature).header(
            "X-Fresns-Client-Device-Info",
            &STANDARD.encode(r#"{"networkIpv4":"127.0.0.1"}"#),
        );
        let mut res = req.send_json(body.unwrap_or(json!({}))).unwrap();
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
        json_out(env.colloq().args([
            "user",
            "create",
            "--username",
            name,
            "--password",
            "secret-pw",
            "--email",
            &format!("{name}@example.com"),
        ]));
    }
    let server = env.serve(env.colloq());
    let base = server.base.clone();
    let blank = |base| Client {
        base,
        app_id: key["app_id"].as_str().unwrap().to_owned(),
        secret: key["app_secret"].as_str().unwrap().to_owned(),
        aid: String::new(),
        aid_token: String::new(),
        uid: String::new(),
        uid_token: String::new(),
        shift_ms: 0,
    };
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
    json_out(env.colloq().args([
        "user",
        "create",
        "--username",
        "carol",
        "--password",
        "secret-pw",
        "--email",
        "carol@example.com",
    ]));
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
        base: &server.base,
        app_id: key["app_id"].as_str().unwrap().to_owned(),
        secret: key["app_secret"].as_str().unwrap().to_owned(),
        aid: String::new(),
        aid_token: String::new(),
        uid: String::new(),
        uid_token: String::new(),
        shift_ms: -8 * 3600 * 1000,
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
