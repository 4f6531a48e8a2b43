//! The browser example of docs/realtime.md in a real headless Chromium: the
//! page logs in, takes a stream ticket, opens an `EventSource`, and shows a
//! message that staff send from outside the page.
//!
//! Chromium is Debian's (`scripts/debian-tool` installs it when absent); the
//! test drives it over the DevTools protocol, reading the page's DOM.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::{HttpResponse, HttpServer, web};
use awc::ws;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};

use crate::helpers::{Auth, TestApp};

/// The page, as a site would serve it beside the API (same origin).
const PAGE: &str = include_str!("../../../../examples/realtime/anqicms.html");

fn tool(binary: &str) -> PathBuf {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/debian-tool");
    let out = Command::new(script).arg(binary).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// A headless Chromium, killed when dropped.
struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    devtools_port: u16,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromium(url: &str) -> Browser {
    let profile = tempfile::tempdir().unwrap();
    let child = Command::new(tool("chromium"))
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Chromium writes the port it chose into the profile.
    let file = profile.path().join("DevToolsActivePort");
    let deadline = Instant::now() + Duration::from_secs(30);
    let devtools_port = loop {
        if let Some(port) = std::fs::read_to_string(&file)
            .ok()
            .and_then(|text| text.lines().next().and_then(|l| l.parse().ok()))
        {
            break port;
        }
        assert!(Instant::now() < deadline, "chromium did not start");
        std::thread::sleep(Duration::from_millis(50));
    };
    Browser {
        child,
        _profile: profile,
        devtools_port,
    }
}

/// The page's state as its DOM shows it.
#[derive(Debug, Default)]
struct Shown {
    status: String,
    messages: Vec<String>,
}

struct DevTools {
    conn: actix_codec::Framed<awc::BoxedSocket, ws::Codec>,
    next_id: i64,
}

impl DevTools {
    async fn attach(browser: &Browser) -> Self {
        let list = format!("http://127.0.0.1:{}/json/list", browser.devtools_port);
        let deadline = Instant::now() + Duration::from_secs(30);
        let target = loop {
            let targets: Value = match awc::Client::new().get(&list).send().await {
                Ok(mut res) => res.json().await.unwrap_or_default(),
                Err(_) => Value::Null,
            };
            let page = targets.as_array().and_then(|all| {
                all.iter()
                    .find(|t| t["type"] == "page")
                    .and_then(|t| t["webSocketDebuggerUrl"].as_str().map(str::to_owned))
            });
            if let Some(page) = page {
                break page;
            }
            assert!(Instant::now() < deadline, "no page in chromium");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let (_res, conn) = awc::Client::new()
            .ws(target)
            .max_frame_size(1 << 20)
            .connect()
            .await
            .unwrap();
        Self { conn, next_id: 1 }
    }

    async fn shown(&mut self) -> Shown {
        let id = self.next_id;
        self.next_id += 1;
        let expression = "JSON.stringify({status: document.getElementById('status').textContent, \
             messages: [...document.querySelectorAll('li.message')].map(e => e.textContent)})";
        let call = json!({
            "id": id,
            "method": "Runtime.evaluate",
            "params": {"expression": expression, "returnByValue": true},
        });
        self.conn
            .send(ws::Message::Text(call.to_string().into()))
            .await
            .unwrap();
        loop {
            let Some(Ok(ws::Frame::Text(text))) = self.conn.next().await else {
                panic!("the DevTools connection closed");
            };
            let answer: Value = serde_json::from_slice(&text).unwrap();
            if answer["id"] != id {
                continue;
            }
            let value = answer["result"]["result"]["value"].as_str().unwrap_or("{}");
            let page: Value = serde_json::from_str(value).unwrap();
            return Shown {
                status: page["status"].as_str().unwrap_or_default().to_owned(),
                messages: page["messages"]
                    .as_array()
                    .map(|m| {
                        m.iter()
                            .filter_map(|t| t.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            };
        }
    }

    /// Polls the page until `done` holds or `within` has passed.
    async fn until(&mut self, within: Duration, done: impl Fn(&Shown) -> bool) -> Shown {
        let deadline = Instant::now() + within;
        loop {
            let shown = self.shown().await;
            if done(&shown) || Instant::now() > deadline {
                return shown;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(PAGE)
}

#[actix_web::test]
async fn the_browser_example_shows_a_message_sent_from_outside_the_page() {
    let app = TestApp::new();
    let (_, alice) = app.customer("alice").await;
    let (_, staff) = app.staff("staffer").await;
    let order = app.order(&alice).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = app.state.clone();
    let server = HttpServer::new(move || {
        colloq_http::app(state.clone()).route("/example.html", web::get().to(page))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let browser = chromium(&format!(
        "{base}/example.html#user=alice&password=secret-pw"
    ));
    let mut devtools = DevTools::attach(&browser).await;
    let opened = devtools
        .until(Duration::from_secs(30), |s| s.status == "live")
        .await;
    assert_eq!(opened.status, "live", "{opened:?}");
    assert!(opened.messages.is_empty(), "{opened:?}");

    let sent = Instant::now();
    app.say(Auth::Admin(&staff), order, "Hello from outside")
        .await;
    let shown = devtools
        .until(Duration::from_secs(2), |s| !s.messages.is_empty())
        .await;
    let took = sent.elapsed();
    assert_eq!(shown.messages, ["staffer: Hello from outside"], "{shown:?}");
    // The bar for this example: on screen within 2 s of the send.
    assert!(took <= Duration::from_secs(2), "shown after {took:?}");
    handle.stop(false).await;
}
