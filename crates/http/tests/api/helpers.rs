//! `TestApp`: the real application in-process over the test's own database, and
//! typed request helpers.

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::test;
use colloq_core::Clock;
use colloq_domain::user::{Email, NewUser, PlainPassword, Username};
use colloq_http::{AppState, Settings};
use colloq_persistence::testing::TestDatabase;
use colloq_persistence::{DbPool, Writer};
use serde_json::{Value, json};

/// How a request authenticates.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Auth<'a> {
    None,
    Token(&'a str),
    Cookie(&'a str),
    Bearer(&'a str),
    Admin(&'a str),
}

/// A response: status, headers and the JSON body.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
}

impl Resp {
    pub(crate) fn code(&self) -> i64 {
        self.body["code"].as_i64().unwrap_or(i64::MIN)
    }

    pub(crate) fn msg(&self) -> &str {
        self.body["msg"].as_str().unwrap_or_default()
    }

    /// Asserts an envelope error: HTTP 200, this code, and a message containing `part`.
    pub(crate) fn assert_error(&self, code: i64, part: &str) {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        assert_eq!(self.code(), code, "{self:?}");
        assert!(
            self.msg().contains(part),
            "message {:?} lacks {part:?}",
            self.msg()
        );
        assert!(self.body.get("data").is_none(), "{self:?}");
    }

    /// `data`, after asserting success.
    pub(crate) fn data(&self) -> &Value {
        assert_eq!((self.status, self.code()), (StatusCode::OK, 0), "{self:?}");
        &self.body["data"]
    }
}

/// A response with its body as bytes.
#[derive(Debug)]
pub(crate) struct RawResp {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl RawResp {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

pub(crate) struct TestApp {
    /// Kept so the database lives as long as the app.
    _db: TestDatabase,
    /// The test's own file store directory (local backend).
    pub(crate) files: tempfile::TempDir,
    pub(crate) pool: DbPool,
    pub(crate) state: AppState,
}

impl TestApp {
    /// An app on [`TestApp::settings`].
    pub(crate) fn new() -> Self {
        Self::with_settings(Self::settings())
    }

    /// The defaults with every rate limit off: tests make many requests as
    /// one user (the tests of the limits turn them on).
    pub(crate) fn settings() -> Settings {
        let mut settings = Settings::default();
        settings.limits = colloq_http::settings::LimitsSettings::off();
        settings
    }

    pub(crate) fn with_settings(mut settings: Settings) -> Self {
        let db = TestDatabase::new().unwrap();
        let pool = db.pool(4).unwrap();
        let files = tempfile::tempdir().unwrap();
        settings.files.dir = files.path().join("store");
        let writer = Writer::start(&db.manager().unwrap());
        let state = AppState::new(pool.clone(), writer, settings, Clock::default()).unwrap();
        Self {
            _db: db,
            files,
            pool,
            state,
        }
    }

    /// A response whose body is not JSON (file downloads).
    pub(crate) async fn send_raw(&self, req: test::TestRequest) -> RawResp {
        let app = test::init_service(colloq_http::app(self.state.clone())).await;
        let res = test::call_service(&app, req.to_request()).await;
        let status = res.status();
        let headers = res.headers().clone();
        let body = test::read_body(res).await.to_vec();
        RawResp {
            status,
            headers,
            body,
        }
    }

    pub(crate) fn clock(&self) -> &Clock {
        self.state.clock()
    }

    pub(crate) async fn send(&self, req: test::TestRequest) -> Resp {
        let app = test::init_service(colloq_http::app(self.state.clone())).await;
        let res = test::call_service(&app, req.to_request()).await;
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = test::read_body(res).await;
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
        Resp {
            status,
            headers,
            body,
        }
    }

    pub(crate) fn authed(req: test::TestRequest, auth: Auth<'_>) -> test::TestRequest {
        match auth {
            Auth::None => req,
            Auth::Token(t) => req.insert_header(("token", t)),
            Auth::Cookie(t) => req.cookie(actix_web::cookie::Cookie::new("token", t.to_owned())),
            Auth::Bearer(t) => req.insert_header(("Authorization", format!("Bearer {t}"))),
            Auth::Admin(t) => req.insert_header(("admin", t)),
        }
    }

    pub(crate) async fn get(&self, uri: &str, auth: Auth<'_>) -> Resp {
        self.send(Self::authed(test::TestRequest::get().uri(uri), auth))
            .await
    }

    pub(crate) async fn post(&self, uri: &str, auth: Auth<'_>, body: Value) -> Resp {
        let req = test::TestRequest::post().uri(uri).set_json(body);
        self.send(Self::authed(req, auth)).await
    }

    pub(crate) async fn post_raw(
        &self,
        uri: &str,
        auth: Auth<'_>,
        body: impl Into<actix_web::web::Bytes>,
    ) -> Resp {
        let req = test::TestRequest::post()
            .uri(uri)
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body.into());
        self.send(Self::authed(req, auth)).await
    }

    /// Registers a customer; returns (user id, token).
    pub(crate) async fn customer(&self, name: &str) -> (i64, String) {
        let res = self
            .post(
                "/api/register",
                Auth::None,
                json!({"user_name": name, "password": "secret-pw", "email": format!("{name}@example.com")}),
            )
            .await;
        let data = res.data();
        (
            data["id"].as_i64().unwrap(),
            data["token"].as_str().unwrap().to_owned(),
        )
    }

    /// Creates a staff account as `colloq user create --admin` does and logs it in;
    /// returns (user id, admin token).
    pub(crate) async fn staff(&self, name: &str) -> (i64, String) {
        let new = NewUser {
            username: Username::parse(name).unwrap(),
            password: PlainPassword::parse("staff-pw".to_owned()).unwrap(),
            email: Some(Email::parse(&format!("{name}@example.com")).unwrap()),
            phone: None,
            nickname: None,
            is_staff: true,
        };
        let mut conn = self.pool.get().unwrap();
        colloq_core::accounts::register(&mut conn, new, self.clock().now()).unwrap();
        drop(conn);
        let res = self
            .post(
                "/system/api/login",
                Auth::None,
                json!({"user_name": name, "password": "staff-pw"}),
            )
            .await;
        let data = res.data();
        (
            data["id"].as_i64().unwrap(),
            data["token"].as_str().unwrap().to_owned(),
        )
    }

    /// Opens an order; returns its id.
    pub(crate) async fn order(&self, token: &str) -> i64 {
        let res = self
            .post(
                "/api/communication/order/create",
                Auth::Token(token),
                json!({"archive_id": 188, "title": "Theme", "content": "A custom theme", "phone": "13800000000"}),
            )
            .await;
        res.data()["id"].as_i64().unwrap()
    }

    /// Sends a text message; returns the stored message.
    pub(crate) async fn say(&self, auth: Auth<'_>, order: i64, text: &str) -> Value {
        let res = self
            .post(
                "/api/communication/message/send",
                auth,
                json!({"comm_order_id": order, "message_type": "text", "content": text}),
            )
            .await;
        res.data().clone()
    }

    /// The first hundred messages of an order, oldest first, as its customer reads them.
    pub(crate) async fn thread(&self, token: &str, order: i64) -> Vec<Value> {
        let res = self
            .get(
                &format!("/api/communication/messages?comm_order_id={order}&page_size=100"),
                Auth::Token(token),
            )
            .await;
        res.data().as_array().unwrap().clone()
    }

    pub(crate) async fn status_of(&self, token: &str, order: i64) -> i64 {
        let res = self
            .get(
                &format!("/api/communication/order/detail?id={order}"),
                Auth::Token(token),
            )
            .await;
        res.data()["status"].as_i64().unwrap()
    }
}
