//! Fresns clients for tests: app keys, signed requests, login.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::Duration;
use colloq_core::app_keys::{NewAppKey, create_app_key};
use md5::{Digest, Md5};
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp};

/// An app key as a client holds it.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub(crate) app_id: String,
    pub(crate) secret: String,
    pub(crate) platform_id: i32,
}

/// What a logged-in Fresns client sends.
#[derive(Debug, Clone, Default)]
pub(crate) struct Session {
    pub(crate) aid: Option<String>,
    pub(crate) aid_token: Option<String>,
    pub(crate) uid: Option<String>,
    pub(crate) uid_token: Option<String>,
}

/// Extra header tweaks for a request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tweaks {
    pub(crate) lang: Option<&'static str>,
    pub(crate) timezone: Option<&'static str>,
    /// Replace the timestamp (as sent and signed).
    pub(crate) timestamp: Option<String>,
    /// Send this signature instead of the right one.
    pub(crate) signature: Option<String>,
    /// Drop this header entirely.
    pub(crate) drop: Option<&'static str>,
    /// Replace this header's value (after signing).
    pub(crate) replace: Option<(&'static str, String)>,
}

/// The signature as the Fresns docs define it, computed independently of colloq.
pub(crate) fn sign(headers: &[(&str, String)], secret: &str) -> String {
    let mut kept: Vec<&(&str, String)> = headers
        .iter()
        .filter(|(_, v)| !v.is_empty() && v != "0")
        .collect();
    kept.sort_by(|a, b| a.0.cmp(b.0));
    let query: Vec<String> = kept
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        char::from(b).to_string()
                    }
                    b' ' => "+".to_owned(),
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect();
    hex::encode(Md5::digest(
        format!("{}&AppSecret={secret}", query.join("&")).as_bytes(),
    ))
}

pub(crate) fn device_info() -> String {
    STANDARD.encode(r#"{"networkIpv4":"127.0.0.1","agent":"colloq-tests"}"#)
}

impl TestApp {
    pub(crate) fn key(
        &self,
        platform_id: i32,
        read_only: bool,
        token_ttl_secs: Option<i64>,
    ) -> Key {
        let mut conn = self.pool.get().unwrap();
        let key = create_app_key(
            &mut conn,
            NewAppKey {
                platform_id,
                name: "tests".to_owned(),
                read_only,
                token_ttl_secs,
            },
            self.clock().now(),
        )
        .unwrap();
        Key {
            app_id: key.app_id,
            secret: key.app_secret,
            platform_id,
        }
    }

    pub(crate) fn fresns_request(
        &self,
        method: Method,
        uri: &str,
        key: &Key,
        session: &Session,
        body: Option<Value>,
        tweaks: &Tweaks,
    ) -> TestRequest {
        let timestamp = tweaks.timestamp.clone().unwrap_or_else(|| {
            // Signed as the site's clients sign: Unix time shifted by the
            // site's zone, as upstream's "now" is.
            let now = self.clock().now();
            let zone = self.state.settings().fresns.signature_clock_zone;
            let shift = now.timestamp() - zone.upstream_now(now);
            (now.timestamp_millis() - shift * 1000).to_string()
        });
        let signed = vec![
            ("X-Fresns-App-Id", key.app_id.clone()),
            ("X-Fresns-Client-Platform-Id", key.platform_id.to_string()),
            ("X-Fresns-Client-Version", "2.0.0".to_owned()),
            ("X-Fresns-Aid", session.aid.clone().unwrap_or_default()),
            (
                "X-Fresns-Aid-Token",
                session.aid_token.clone().unwrap_or_default(),
            ),
            ("X-Fresns-Uid", session.uid.clone().unwrap_or_default()),
            (
                "X-Fresns-Uid-Token",
                session.uid_token.clone().unwrap_or_default(),
            ),
            ("X-Fresns-Signature-Timestamp", timestamp),
        ];
        let signature = tweaks
            .signature
            .clone()
            .unwrap_or_else(|| sign(&signed, &key.secret));
        let mut headers = signed;
        headers.push(("X-Fresns-Signature", signature));
        headers.push(("X-Fresns-Client-Device-Info", device_info()));
        if let Some(lang) = tweaks.lang {
            headers.push(("X-Fresns-Client-Lang-Tag", lang.to_owned()));
        }
        if let Some(tz) = tweaks.timezone {
            headers.push(("X-Fresns-Client-Timezone", tz.to_owned()));
        }
        let mut req = TestRequest::default().method(method).uri(uri);
        for (name, value) in headers {
            if value.is_empty() || tweaks.drop == Some(name) {
                continue;
            }
            let value = match &tweaks.replace {
                Some((n, v)) if *n == name => v.clone(),
                _ => value,
            };
            req = req.insert_header((name, value));
        }
        if let Some(body) = body {
            req = req.set_json(body);
        }
        req
    }

    pub(crate) async fn fresns(
        &self,
        method: Method,
        uri: &str,
        key: &Key,
        session: &Session,
        body: Option<Value>,
    ) -> Resp {
        self.send(self.fresns_request(method, uri, key, session, body, &Tweaks::default()))
            .await
    }

    pub(crate) async fn fresns_tweaked(
        &self,
        method: Method,
        uri: &str,
        key: &Key,
        session: &Session,
        body: Option<Value>,
        tweaks: &Tweaks,
    ) -> Resp {
        self.send(self.fresns_request(method, uri, key, session, body, tweaks))
            .await
    }

    /// Registers `name` through the AnQiCMS door (one identity) and logs in
    /// through Fresns: account login by e-mail, then user auth.
    pub(crate) async fn fresns_user(&self, key: &Key, name: &str) -> Session {
        self.customer(name).await;
        self.fresns_login(key, name).await
    }

    pub(crate) async fn fresns_login(&self, key: &Key, name: &str) -> Session {
        let login = self
            .fresns(
                Method::POST,
                "/api/v2/account/login",
                key,
                &Session::default(),
                Some(json!({"type": "email", "account": format!("{name}@example.com"), "password": STANDARD.encode("secret-pw")})),
            )
            .await;
        let token = &login.fdata()["sessionToken"];
        let mut session = Session {
            aid: token["aid"].as_str().map(str::to_owned),
            aid_token: token["token"].as_str().map(str::to_owned),
            ..Session::default()
        };
        let uid = login.fdata()["detail"]["users"][0]["uid"].as_i64().unwrap();
        let auth = self
            .fresns(
                Method::POST,
                "/api/v2/user/auth",
                key,
                &session,
                Some(json!({"uidOrUsername": uid.to_string()})),
            )
            .await;
        let token = &auth.fdata()["sessionToken"];
        assert_eq!(token["uid"], uid, "uid is a number");
        session.uid = Some(uid.to_string());
        session.uid_token = token["token"].as_str().map(str::to_owned);
        session
    }

    pub(crate) fn advance(&self, by: Duration) {
        self.clock().advance(by);
    }
}

impl Resp {
    /// `data` of a Fresns success, after asserting it.
    pub(crate) fn fdata(&self) -> &Value {
        assert_eq!(self.status, actix_web::http::StatusCode::OK, "{self:?}");
        assert_eq!(self.body["code"], 0, "{self:?}");
        assert_eq!(self.body["message"], "Success", "{self:?}");
        &self.body["data"]
    }

    /// `data` of a success in any language.
    pub(crate) fn fdata_any(&self) -> &Value {
        assert_eq!(self.body["code"], 0, "{self:?}");
        &self.body["data"]
    }

    /// Asserts a Fresns failure: HTTP 200, JSON, this code.
    pub(crate) fn fcode(&self, code: i64) -> &str {
        assert_eq!(self.status, actix_web::http::StatusCode::OK, "{self:?}");
        let content_type = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert_eq!(content_type, "application/json", "{self:?}");
        assert_eq!(self.body["code"], code, "{self:?}");
        self.body["message"].as_str().unwrap_or_default()
    }
}
