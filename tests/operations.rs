//! What an operator meets, through the real binary: settings from the
//! environment alone and from a TOML file alone, refusals that say what was
//! read, `--help`, request logs, `/healthz` and `/readyz`, `/metrics`, and a
//! graceful stop on SIGINT and SIGTERM. Each runs on the engine under test.

#![expect(
    clippy::unwrap_used,
    clippy::tests_outside_test_module,
    reason = "an integration-test crate is all tests; failing loudly is the point"
)]

mod support;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use colloq_http::Settings;
use serde_json::{Value, json};
use support::{Env, Server, free_port, json_out};

/// `colloq` with no `COLLOQ_*` variable of the test's environment, run in
/// `dir`, so only what a test sets configures it.
fn bare(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_colloq"));
    for (name, _) in std::env::vars() {
        if name.starts_with("COLLOQ_") {
            cmd.env_remove(name);
        }
    }
    cmd.current_dir(dir).env("COLLOQ_LOG", "warn");
    cmd
}

fn post(base: &str, path: &str, header: (&str, &str), body: &Value) -> Value {
    let mut req = ureq::post(&format!("{base}{path}"));
    if !header.0.is_empty() {
        req = req.header(header.0, header.1);
    }
    req.send_json(body).unwrap().body_mut().read_json().unwrap()
}

fn register(base: &str, name: &str) -> String {
    let res = post(
        base,
        "/api/register",
        ("", ""),
        &json!({"user_name": name, "password": "secret-pw", "email": format!("{name}@example.com")}),
    );
    assert_eq!(res["code"], 0, "{res}");
    res["data"]["token"].as_str().unwrap().to_owned()
}

fn get_text(url: &str) -> (u16, String) {
    match ureq::get(url).call() {
        Ok(mut res) => (
            res.status().as_u16(),
            res.body_mut().read_to_string().unwrap(),
        ),
        Err(ureq::Error::StatusCode(code)) => (code, String::new()),
        Err(e) => panic!("{url}: {e}"),
    }
}

/// The account exists in the database `env` names: creating it again with
/// the CLI (configured by flags) is refused as taken.
fn assert_stored(env: &Env, name: &str) {
    let out = env
        .colloq()
        .args([
            "user",
            "create",
            "--username",
            name,
            "--password",
            "another-pw",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{name} was not in the database");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("taken"), "{stderr}");
}

/// Stops `server` with `signal` and returns its exit status once it is gone.
fn stop(server: &mut Server, signal: &str) -> std::process::ExitStatus {
    let killed = Command::new("kill")
        .args([&format!("-{signal}"), &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    exited(server)
}

/// The exit status of `server` once it has exited by itself.
fn exited(server: &mut Server) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "colloq did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_environment_alone_configures_database_and_address() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut cmd = bare(dir.path());
    cmd.env("COLLOQ_DATABASE_URL", env.db.url())
        .env("COLLOQ_BIND", format!("127.0.0.1:{port}"))
        .env("COLLOQ_FILES__DIR", env.files_dir());
    if let Some(schema) = env.db.pg_schema() {
        cmd.env("COLLOQ_DATABASE__PG_SCHEMA", schema);
    }
    let server = Server::start(cmd, port);
    register(&server.base, "envalice");
    assert_stored(&env, "envalice");
    assert!(
        !dir.path().join("colloq.db").exists(),
        "the default database was created instead"
    );
}

#[test]
fn a_toml_file_alone_configures_everything_it_names() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let (port, metrics_port) = (free_port(), free_port());
    let schema = env
        .db
        .pg_schema()
        .map(|s| format!("pg_schema = \"{s}\"\n"))
        .unwrap_or_default();
    let toml = format!(
        "[database]\nurl = \"{url}\"\n{schema}pool_size = 4\n\n\
         [http]\nbind = \"127.0.0.1:{port}\"\n\n\
         [files]\ndir = \"{files}\"\n\n\
         [log]\nfilter = \"info\"\nformat = \"json\"\n\n\
         [metrics]\nbind = \"127.0.0.1:{metrics_port}\"\npublic = true\n",
        url = env.db.url(),
        files = env.files_dir().display(),
    );
    let config = dir.path().join("colloq.toml");
    std::fs::write(&config, toml).unwrap();
    let log = dir.path().join("colloq.log");
    let mut cmd = bare(dir.path());
    cmd.env_remove("COLLOQ_LOG")
        .arg("--config")
        .arg(&config)
        .stderr(std::fs::File::create(&log).unwrap());
    let mut server = Server::start(cmd, port);
    register(&server.base, "tomlalice");
    assert_stored(&env, "tomlalice");
    // The CLI reads the same file, so it works on the server's database.
    let created = json_out(bare(dir.path()).arg("--config").arg(&config).args([
        "user",
        "create",
        "--username",
        "tomlbob",
        "--password",
        "bob-pw-1",
    ]));
    assert_eq!(created["username"], "tomlbob");
    let login = post(
        &server.base,
        "/api/login",
        ("", ""),
        &json!({"user_name": "tomlbob", "password": "bob-pw-1"}),
    );
    assert_eq!(login["code"], 0, "{login}");
    // metrics.public and metrics.bind: both listeners serve it.
    let (public, _) = get_text(&format!("{}/metrics", server.base));
    let (own, text) = get_text(&format!("http://127.0.0.1:{metrics_port}/metrics"));
    assert_eq!((public, own), (200, 200));
    assert!(text.contains("colloq_db_pool_connections"), "{text}");
    assert!(stop(&mut server, "TERM").success());
    // log.format = "json": every line is an object.
    let written = std::fs::read_to_string(&log).unwrap();
    assert!(written.lines().count() > 2, "{written}");
    for line in written.lines() {
        let parsed: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(parsed["level"].is_string(), "{line}");
    }
}

/// Runs `colloq migrate` (or `args`) with `url` and returns its stderr,
/// asserting that it failed.
fn refused(dir: &std::path::Path, url: Option<&str>, args: &[&str]) -> String {
    let mut cmd = bare(dir);
    if let Some(url) = url {
        cmd.env("COLLOQ_DATABASE_URL", url);
    }
    let out = cmd.args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{args:?} with {url:?} ran: {stderr}");
    stderr
}

#[test]
fn unusable_settings_are_refused_with_what_was_read_before_listening() {
    let dir = tempfile::tempdir().unwrap();
    let accepted = "postgres://";
    for (url, shown) in [
        ("postgress://colloq:hunter2@db/colloq", "postgress://"),
        ("mysql://root:hunter2@db/colloq", "mysql://"),
    ] {
        let stderr = refused(dir.path(), Some(url), &["migrate"]);
        assert!(stderr.contains(shown), "{stderr}");
        assert!(stderr.contains(accepted), "{stderr}");
        assert!(
            !stderr.contains("hunter2"),
            "a password was shown: {stderr}"
        );
    }
    let stderr = refused(dir.path(), Some(""), &["migrate"]);
    assert!(stderr.contains("empty"), "{stderr}");
    let stderr = refused(dir.path(), Some("sqlite://:memory:"), &["migrate"]);
    assert!(stderr.contains("in-memory"), "{stderr}");
    let missing = dir.path().join("no-such-dir").join("colloq.db");
    let stderr = refused(dir.path(), missing.to_str(), &["migrate"]);
    assert!(stderr.contains(missing.to_str().unwrap()), "{stderr}");
    let stderr = refused(dir.path(), None, &["--config", "/tmp", "migrate"]);
    assert!(stderr.contains("/tmp is not a file"), "{stderr}");
    let stderr = refused(dir.path(), None, &["serve", "--bind", "localhost"]);
    assert!(stderr.contains("HOST:PORT"), "{stderr}");
    assert!(!dir.path().join("colloq.db").exists());
    // Live delivery's settings.
    for (name, value, named) in [
        (
            "COLLOQ_EVENTS__HEARTBEAT_SECS",
            "31",
            "events.heartbeat_secs",
        ),
        ("COLLOQ_EVENTS__DEPLOYMENT", "prod.eu", "events.deployment"),
        (
            "COLLOQ_EVENTS__BUS",
            "redis",
            "expected ``local` or `nats``",
        ),
    ] {
        let mut cmd = bare(dir.path());
        let db = dir.path().join("events.db");
        cmd.env(name, value)
            .args(["--database-url", db.to_str().unwrap(), "serve"])
            .args(["--bind", &format!("127.0.0.1:{}", free_port())]);
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}={value} was accepted");
        assert!(stderr.contains(named), "{name}={value}: {stderr}");
    }
    // Storage is checked before anything listens.
    let db = dir.path().join("s3.db");
    let mut cmd = bare(dir.path());
    cmd.env("COLLOQ_LOG", "info")
        .env("COLLOQ_FILES__BACKEND", "s3")
        .args(["--database-url", db.to_str().unwrap(), "serve"])
        .args(["--bind", &format!("127.0.0.1:{}", free_port())]);
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("files.s3.bucket"), "{stderr}");
    assert!(!stderr.contains("listening"), "{stderr}");
}

#[test]
fn help_shows_defaults_and_environment_names_on_the_commands_they_apply_to() {
    let dir = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| {
        let out = bare(dir.path()).args(args).output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let defaults = Settings::default();
    let serve = help(&["serve", "--help"]);
    for expected in [
        "COLLOQ_BIND".to_owned(),
        format!("[default: {}]", defaults.http.bind),
        "COLLOQ_DATABASE_URL".to_owned(),
        format!("[default: {}]", defaults.database.url),
        "COLLOQ_CONFIG".to_owned(),
    ] {
        assert!(serve.contains(&expected), "{expected} missing: {serve}");
    }
    for command in [
        &["migrate", "--help"][..],
        &["user", "create", "--help"],
        &["gc-files", "--help"],
        &["seed", "--help"],
        &["--help"],
    ] {
        let text = help(command);
        assert!(!text.contains("--bind"), "{command:?}: {text}");
        assert!(text.contains("COLLOQ_DATABASE_URL"), "{command:?}: {text}");
    }
}

#[test]
fn every_request_is_logged_once_with_its_id_and_no_secret() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("colloq.log");
    let mut cmd = env.colloq();
    cmd.env("COLLOQ_LOG", "info")
        .env("COLLOQ_LOG_FORMAT", "json")
        .stderr(std::fs::File::create(&log).unwrap());
    let mut server = env.serve(cmd);
    let token = register(&server.base, "logalice");
    let res = ureq::get(&format!(
        "{}/api/communication/orders?current=1",
        server.base
    ))
    .header("token", &token)
    .header("X-Request-Id", "test-req-42")
    .call()
    .unwrap();
    assert_eq!(res.headers()["x-request-id"], "test-req-42");
    let res = ureq::get(&format!("{}/healthz", server.base))
        .call()
        .unwrap();
    let made = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(!made.is_empty());
    let wrong = post(
        &server.base,
        "/api/login",
        ("", ""),
        &json!({"user_name": "logalice", "password": "wrong-pw-secret"}),
    );
    assert_ne!(wrong["code"], 0);
    // A client's malformed HTTP.
    for garbage in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    ] {
        use std::io::Write as _;
        let address = server.base.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream.write_all(garbage).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let _answer = stream.read(&mut [0_u8; 512]);
    }
    assert!(stop(&mut server, "TERM").success());
    let written = std::fs::read_to_string(&log).unwrap();
    assert!(!written.contains('\u{1b}'), "colour codes in a file");
    for secret in [token.as_str(), "secret-pw", "wrong-pw-secret"] {
        assert!(!written.contains(secret), "{secret} was logged");
    }
    let lines: Vec<Value> = written
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines.iter().all(|l| l["level"] != "ERROR"),
        "an ERROR line: {written}"
    );
    let requests: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "colloq::request")
        .collect();
    let tagged: Vec<&&Value> = requests
        .iter()
        .filter(|l| l["request_id"] == "test-req-42")
        .collect();
    assert_eq!(tagged.len(), 1, "{written}");
    let line = tagged[0];
    assert_eq!(line["method"], "GET");
    assert_eq!(line["route"], "/api/communication/orders");
    assert_eq!(line["status"], 200);
    assert_eq!(line["dialect"], "anqicms");
    assert_eq!(line["code"], "0");
    assert!(line["duration_ms"].as_f64().unwrap() >= 0.0);
    assert!(requests.iter().any(|l| l["request_id"] == made.as_str()));
    let login = requests
        .iter()
        .find(|l| l["route"] == "/api/login")
        .unwrap();
    assert_ne!(login["code"], "0", "{login}");
    assert_eq!(
        lines.last().unwrap()["fields"]["message"]
            .as_str()
            .or(lines.last().unwrap()["message"].as_str()),
        Some("colloq stopped"),
        "{written}"
    );
}

#[test]
fn readiness_names_what_failed_and_health_only_asks_the_process() {
    let env = Env::new();
    let server = env.serve(env.colloq());
    let ready: Value = ureq::get(&format!("{}/readyz", server.base))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(
        ready,
        json!({"status": "ok", "checks": {"database": "ok", "writer": "ok", "storage": "ok"}, "failed": []})
    );
    // The file store's directory becomes a plain file: nothing can be stored.
    std::fs::remove_dir_all(env.files_dir()).unwrap();
    std::fs::write(env.files_dir(), b"not a directory").unwrap();
    let res = ureq::get(&format!("{}/readyz", server.base))
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .unwrap();
    assert_eq!(res.status(), 503);
    let body: Value = res.into_body().read_json().unwrap();
    assert_eq!(body["failed"], json!(["storage"]), "{body}");
    assert_eq!(body["checks"]["database"], "ok");
    assert!(!body.to_string().contains("not a directory"));
    let (status, text) = get_text(&format!("{}/healthz", server.base));
    assert_eq!((status, text.as_str()), (200, r#"{"status":"ok"}"#));
}

#[test]
fn metrics_are_served_on_their_own_address_and_count_requests() {
    let env = Env::new();
    let metrics_port = free_port();
    let mut cmd = env.colloq();
    cmd.env("COLLOQ_METRICS__BIND", format!("127.0.0.1:{metrics_port}"));
    let server = env.serve(cmd);
    let token = register(&server.base, "metricalice");
    let order = post(
        &server.base,
        "/api/communication/order/create",
        ("token", &token),
        &json!({"archive_id": 1, "title": "Theme", "content": "Please", "phone": "13800000000"}),
    );
    let send = post(
        &server.base,
        "/api/communication/message/send",
        ("token", &token),
        &json!({"comm_order_id": order["data"]["id"], "message_type": "text", "content": "hi"}),
    );
    assert_eq!(send["code"], 0, "{send}");
    post(
        &server.base,
        "/api/login",
        ("", ""),
        &json!({"user_name": "metricalice", "password": "wrong-pw"}),
    );
    let (status, _) = get_text(&format!("{}/no/such/path/42", server.base));
    assert_eq!(status, 404);
    // Off the public listener unless configured.
    let (status, _) = get_text(&format!("{}/metrics", server.base));
    assert_eq!(status, 404);
    let (status, text) = get_text(&format!("http://127.0.0.1:{metrics_port}/metrics"));
    assert_eq!(status, 200);
    for expected in [
        r#"colloq_http_requests_total{dialect="anqicms",route="/api/register",status="200",code="0"} 1"#,
        r#"colloq_http_requests_total{dialect="anqicms",route="/api/communication/message/send",status="200",code="0"} 1"#,
        // The made-up path and /metrics on the public listener.
        r#"colloq_http_requests_total{dialect="none",route="unmatched",status="404",code="404"} 2"#,
        r#"colloq_http_request_duration_seconds_bucket{dialect="anqicms",route="/api/register",le="0.5"}"#,
        "colloq_logins_failed_total 1",
        r#"colloq_db_pool_connections{state="idle"}"#,
        "colloq_db_pool_checkout_wait_seconds_count",
    ] {
        assert!(text.contains(expected), "{expected} missing:\n{text}");
    }
    assert!(!text.contains("/no/such/path"), "a raw path became a label");
    if env.db.pg_schema().is_none() {
        assert!(
            text.contains("colloq_sqlite_writer_batch_size_count"),
            "{text}"
        );
        assert!(text.contains("colloq_sqlite_writer_queue_depth"), "{text}");
    }
}

/// A body that sends its first `pause_at` bytes, then calls `midway` once and
/// waits before sending the rest: a slow upload with a signal in its middle.
struct Paced<R> {
    inner: R,
    sent: usize,
    pause_at: usize,
    midway: Option<Box<dyn FnOnce() + Send>>,
}

impl<R: Read> Read for Paced<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.sent >= self.pause_at
            && let Some(midway) = self.midway.take()
        {
            midway();
            std::thread::sleep(Duration::from_millis(700));
        }
        let room = if self.sent < self.pause_at {
            (self.pause_at - self.sent).min(buf.len())
        } else {
            buf.len()
        };
        let n = self.inner.read(&mut buf[..room])?;
        self.sent += n;
        Ok(n)
    }
}

/// Waits until the server's metrics show a request in a handler.
fn wait_for_in_flight(metrics: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, text) = get_text(metrics);
        let running = text
            .lines()
            .find_map(|l| l.strip_prefix("colloq_http_requests_in_flight "))
            .and_then(|v| v.trim().parse::<f64>().ok());
        if running.is_some_and(|n| n >= 1.0) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no request in flight:\n{text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn sigint_and_sigterm_let_a_slow_upload_finish_and_keep_it() {
    const BOUNDARY: &str = "colloq-shutdown-boundary";
    let env = Env::new();
    for signal in ["INT", "TERM"] {
        let log = tempfile::NamedTempFile::new().unwrap();
        let metrics = format!("http://127.0.0.1:{}/metrics", free_port());
        let mut cmd = env.colloq();
        cmd.env("COLLOQ_LOG", "info")
            .env(
                "COLLOQ_METRICS__BIND",
                metrics
                    .trim_start_matches("http://")
                    .trim_end_matches("/metrics"),
            )
            .stderr(log.reopen().unwrap());
        let mut server = env.serve(cmd);
        let token = register(&server.base, &format!("slow{}", signal.to_lowercase()));
        let content = format!(
            "%PDF-1.4\nstopped by SIG{signal}\n{}",
            "x".repeat(64 * 1024)
        );
        let body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.pdf\"\r\n\
             Content-Type: application/pdf\r\n\r\n{content}\r\n--{BOUNDARY}--\r\n"
        );
        let pid = server.child.id().to_string();
        let signal_name = format!("-{signal}");
        let body = Paced {
            inner: std::io::Cursor::new(body.into_bytes()),
            sent: 0,
            pause_at: 16 * 1024,
            midway: Some(Box::new(move || {
                // The signal must find the upload in a handler: a connection
                // still in the listen backlog is not work the server took on.
                wait_for_in_flight(&metrics);
                let sent = Command::new("kill")
                    .args([&signal_name, &pid])
                    .stdout(Stdio::null())
                    .status()
                    .unwrap();
                assert!(sent.success());
            })),
        };
        let mut body = body;
        let answer: Value = ureq::post(&format!("{}/api/attachment/upload", server.base))
            .header("token", &token)
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .send(ureq::SendBody::from_reader(&mut body))
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap();
        assert_eq!(answer["code"], 0, "SIG{signal}: {answer}");
        let location = answer["data"]["file_location"].as_str().unwrap().to_owned();
        let status = exited(&mut server);
        assert!(status.success(), "SIG{signal}: {status}");
        let written = std::fs::read_to_string(log.path()).unwrap();
        assert!(
            written.lines().last().unwrap().contains("colloq stopped"),
            "{written}"
        );
        assert!(written.contains(&format!("SIG{signal}")), "{written}");
        // What was answered is there after a restart.
        let again = env.serve(env.colloq());
        let (status, stored) = get_text(&format!("{}{location}", again.base));
        assert_eq!(status, 200);
        assert_eq!(stored, content);
    }
}

#[test]
fn a_request_that_outlasts_the_shutdown_timeout_does_not_hold_the_stop() {
    use std::io::Write as _;
    let env = Env::new();
    let mut cmd = env.colloq();
    cmd.env("COLLOQ_HTTP__SHUTDOWN_TIMEOUT_SECS", "1");
    let mut server = env.serve(cmd);
    // A body that never finishes arriving.
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut stalled = std::net::TcpStream::connect(&address).unwrap();
    stalled
        .write_all(
            b"POST /api/login HTTP/1.1\r\nHost: colloq\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n{\"user_name\":",
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let status = stop(&mut server, "TERM");
    assert!(status.success(), "{status}");
    // The default of 30 s would still be waiting.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    drop(stalled);
}

#[test]
fn stopping_ends_open_event_streams_instead_of_waiting_for_them() {
    use std::io::{BufRead, BufReader};

    let env = Env::new();
    let mut cmd = env.colloq();
    // Long enough that waiting for the streams would show.
    cmd.env("COLLOQ_HTTP__SHUTDOWN_TIMEOUT_SECS", "60");
    let mut server = env.serve(cmd);
    let token = register(&server.base, "streamer");
    let (tx, rx) = std::sync::mpsc::channel();
    for _ in 0..3 {
        let res = ureq::get(&format!("{}/api/communication/events", server.base))
            .header("token", &token)
            .call()
            .unwrap();
        let tx = tx.clone();
        std::thread::spawn(move || {
            let lines = BufReader::new(res.into_body().into_reader()).lines();
            let data: Vec<String> = lines.map_while(Result::ok).collect();
            tx.send(data).unwrap();
        });
    }
    let started = Instant::now();
    let status = stop(&mut server, "TERM");
    assert!(status.success(), "{status}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the stop waited for the streams: {:?}",
        started.elapsed()
    );
    for _ in 0..3 {
        let lines = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(lines.contains(&"event: end".to_owned()), "{lines:?}");
        assert!(
            lines.iter().any(|l| l.contains("the server is stopping")),
            "{lines:?}"
        );
    }
}
