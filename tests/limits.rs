//! Time and connection limits through the real binary: a body that stalls
//! or drips is answered 408 in the dialect's envelope and its connection
//! closed; with the default settings, 2,000 connections holding stalled
//! bodies leave normal requests served, even when the server starts with
//! the common 1,024 open-file soft limit.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::tests_outside_test_module,
    reason = "an integration-test crate is all tests; failing loudly is the point"
)]

#[expect(
    dead_code,
    reason = "the shared helpers include some these tests do not need"
)]
mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Env, Server, free_port};

/// Writes `head` (and whatever body bytes it carries) on a new connection.
fn stalled(address: &str, head: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream
}

/// Everything the server sends before it closes the connection.
fn until_closed(stream: &mut TcpStream) -> (u16, Value) {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text:?}"));
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn address(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

fn register(base: &str, name: &str) -> String {
    let res: Value = ureq::post(&format!("{base}/api/register"))
        .send_json(json!({"user_name": name, "password": "secret-pw", "email": format!("{name}@example.com")}))
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    res["data"]["token"].as_str().unwrap().to_owned()
}

#[test]
fn stalled_and_dripping_bodies_get_408_in_the_anqicms_envelope() {
    let env = Env::new();
    let mut cmd = env.colloq();
    cmd.env("COLLOQ_HTTP__BODY_IDLE_TIMEOUT_SECS", "1")
        .env("COLLOQ_HTTP__BODY_TIMEOUT_SECS", "3");
    let server = env.serve(cmd);
    let token = register(&server.base, "stall");
    let at = address(&server);
    let expected = json!({"code": -1, "msg": "the request body did not arrive in time"});
    // A JSON body that stops after a few bytes.
    let started = Instant::now();
    let mut login = stalled(
        &at,
        "POST /api/login HTTP/1.1\r\nHost: colloq\r\nContent-Type: application/json\r\n\
         Content-Length: 100000\r\n\r\n{\"user",
    );
    assert_eq!(until_closed(&mut login), (408, expected.clone()));
    assert!(started.elapsed() < Duration::from_secs(10));
    // An upload that stops midway.
    let mut upload = stalled(
        &at,
        &format!(
            "POST /api/attachment/upload HTTP/1.1\r\nHost: colloq\r\ntoken: {token}\r\n\
             Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n\
             --b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\
             Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
        ),
    );
    assert_eq!(until_closed(&mut upload), (408, expected.clone()));
    // A body that drips a byte at a time never stalls for a second, but
    // does not finish within body_timeout_secs.
    let started = Instant::now();
    let mut drip = stalled(
        &at,
        &format!(
            "POST /api/communication/message/send HTTP/1.1\r\nHost: colloq\r\ntoken: {token}\r\n\
             Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        ),
    );
    let mut writer = drip.try_clone().unwrap();
    let dripping = std::thread::spawn(move || {
        for _ in 0..40 {
            if writer.write_all(b" ").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    });
    assert_eq!(until_closed(&mut drip), (408, expected));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(8),
        "{took:?}"
    );
    dripping.join().unwrap();
    // The server is fine.
    assert_eq!(
        ureq::get(&format!("{}/healthz", server.base))
            .call()
            .unwrap()
            .status(),
        200
    );
}

/// The status line and body of what the server sends to `request`.
fn raw_answer(address: &str, request: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // The server may answer and close before it has read everything.
    let _ = stream.write_all(request);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

#[test]
fn the_parsers_own_refusals_are_bodiless_as_documented() {
    let env = Env::new();
    let mut cmd = env.colloq();
    cmd.env("COLLOQ_HTTP__REQUEST_HEAD_TIMEOUT_SECS", "1");
    let server = env.serve(cmd);
    let at = address(&server);
    let many: String = (0..100).map(|i| format!("X-H{i}: v\r\n")).collect();
    let too_many = format!("GET /healthz HTTP/1.1\r\nHost: colloq\r\n{many}\r\n");
    assert_eq!(raw_answer(&at, too_many.as_bytes()), (431, String::new()));
    let long = format!(
        "GET /api/communication/orders?q={} HTTP/1.1\r\nHost: colloq\r\n\r\n",
        "x".repeat(1024 * 1024)
    );
    assert_eq!(raw_answer(&at, long.as_bytes()), (431, String::new()));
    assert_eq!(
        raw_answer(&at, b"GET /healthz HTTP/1.1\r\nHo"),
        (408, String::new())
    );
    assert_eq!(
        raw_answer(&at, b"GET /healthz HTTP/1.1\r\n\r\n"),
        (400, String::new())
    );
}

/// `cmd` run under a soft open-file limit of 1,024 (the hard limit as it is).
fn with_soft_file_limit_1024(cmd: &Command) -> Command {
    let mut wrapped = Command::new("prlimit");
    wrapped
        .arg("--nofile=1024:")
        .arg("--")
        .arg(cmd.get_program());
    wrapped.args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    wrapped
}

#[test]
fn two_thousand_stalled_bodies_leave_normal_requests_served() {
    const STALLED: usize = 2000;
    let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    if hard < 4096 {
        panic!("this test needs a hard open-file limit of at least 4096, not {hard}");
    }
    // The test itself holds the other end of every connection.
    rlimit::increase_nofile_limit(u64::MAX).unwrap();
    let env = Env::new();
    let port = free_port();
    let mut cmd = env.colloq();
    cmd.env("COLLOQ_LOG", "info")
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")]);
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut wrapped = with_soft_file_limit_1024(&cmd);
    wrapped.stderr(log.reopen().unwrap());
    let server = Server::start(wrapped, port);
    let at = address(&server);
    let head = "POST /api/login HTTP/1.1\r\nHost: colloq\r\nContent-Type: application/json\r\n\
                Content-Length: 100000\r\n\r\n{\"user_na";
    let mut held: Vec<TcpStream> = (0..STALLED).map(|_| stalled(&at, head)).collect();
    // Every one of them is in a handler before the normal requests start.
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let token = register(&server.base, "normal");
    for _ in 0..20 {
        let res = ureq::get(&format!("{}/api/user/detail", server.base))
            .header("token", &token)
            .call()
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    let written = std::fs::read_to_string(log.path()).unwrap();
    assert!(!written.contains("Too many open files"), "{written}");
    assert!(written.contains("max_connections=10000"), "{written}");
    // The stalled ones end with 408 once body_idle_timeout_secs (10 s) passes.
    assert_eq!(until_closed(&mut held[0]).0, 408);
    assert_eq!(until_closed(&mut held[STALLED - 1]).0, 408);
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let env = Env::new();
    let mut cmd = env.colloq();
    cmd.env("COLLOQ_LIMITS__REQUESTS_PER_ADDRESS_PER_SECOND", "1")
        .env("COLLOQ_HTTP__TRUSTED_PROXIES", "[127.0.0.1, 10.0.0.0/8]");
    let server = env.serve(cmd);
    let fields = |client: &str| {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let res = agent
            .get(&format!("{}/api/communication/fields", server.base))
            .header("X-Forwarded-For", client)
            .call()
            .unwrap();
        (
            res.status().as_u16(),
            res.headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned()),
        )
    };
    // Twice the rate at once, then the client (not the proxy) is refused.
    assert_eq!(fields("203.0.113.5").0, 200);
    assert_eq!(fields("203.0.113.5, 10.1.1.1").0, 200);
    let (status, retry) = fields("203.0.113.5");
    assert_eq!(status, 429);
    assert_eq!(retry.as_deref(), Some("1"));
    assert_eq!(fields("203.0.113.6").0, 200);
}
