//! Database faults through the real binary. A PostgreSQL restart under load
//! (on a throw-away cluster of the test's own, never the shared server):
//! requests that meet it fail with 503 and `Retry-After` in the envelope,
//! none fails once the server has accepted connections again for a second,
//! and every acknowledged message is stored. A SIGKILL of colloq under 32
//! senders loses no acknowledged message, on the configured engine.

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

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Env, Server, free_port};

/// The directory of the machine's PostgreSQL programs (`initdb`, `pg_ctl`).
fn pg_bin() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap_or_else(|e| panic!("{}: {e}: install PostgreSQL", root.display()))
        .map(|e| e.unwrap().path().join("bin"))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .unwrap_or_else(|| panic!("no PostgreSQL with pg_ctl under {}", root.display()))
}

/// A PostgreSQL cluster in a temporary directory on a free port, stopped and
/// removed when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_root: bool,
}

impl Cluster {
    fn start() -> Self {
        let as_root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        let dir = tempfile::tempdir().unwrap();
        let cluster = Self {
            bin: pg_bin(),
            port: free_port(),
            as_root,
            dir,
        };
        if as_root {
            // initdb refuses to run as root; the cluster belongs to postgres.
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(cluster.dir.path())
                .status()
                .unwrap();
            assert!(status.success());
        }
        let data = cluster.data();
        cluster.run(
            "initdb",
            &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        cluster.ctl(&["start"]);
        cluster
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// One of PostgreSQL's programs, run as the cluster's owner.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_root {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(path);
            cmd
        } else {
            Command::new(path)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `pg_ctl ACTION`, waiting until it is done (started: accepting connections).
    fn ctl(&self, action: &[&str]) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let data = self.data();
        let log = self.dir.path().join("log").display().to_string();
        let mut args = vec!["-D", &data, "-l", &log, "-w", "-o", &options];
        args.extend_from_slice(action);
        self.run("pg_ctl", &args);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "stop"])
            .output();
    }
}

/// Status, `Retry-After` and JSON body of a request with `token`: a POST of
/// `body`, or a GET when there is none.
fn call(base: &str, path: &str, token: &str, body: Option<&Value>) -> (u16, Option<String>, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let url = format!("{base}{path}");
    let sent = match body {
        Some(body) => agent.post(&url).header("token", token).send_json(body),
        None => agent.get(&url).header("token", token).call(),
    };
    match sent {
        Ok(mut res) => {
            let retry = res
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let status = res.status().as_u16();
            let body = res.body_mut().read_json().unwrap_or(Value::Null);
            (status, retry, body)
        }
        Err(e) => panic!("{path}: {e}"),
    }
}

fn register(base: &str, name: &str) -> String {
    let (_, _, res) = call(
        base,
        "/api/register",
        "",
        Some(
            &json!({"user_name": name, "password": "secret-pw", "email": format!("{name}@example.com")}),
        ),
    );
    res["data"]["token"].as_str().unwrap().to_owned()
}

fn open_order(base: &str, token: &str) -> i64 {
    let (_, _, res) = call(
        base,
        "/api/communication/order/create",
        token,
        Some(&json!({"archive_id": 1, "title": "t", "content": "c", "phone": "13800000000"})),
    );
    res["data"]["id"].as_i64().unwrap()
}

/// The contents of every message of `order`, page by page.
fn stored_contents(base: &str, token: &str, order: i64) -> HashSet<String> {
    let mut stored = HashSet::new();
    for current in 1.. {
        let path = format!(
            "/api/communication/messages?comm_order_id={order}&current={current}&page_size=100"
        );
        let (_, _, page) = call(base, &path, token, None);
        let items = page["data"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        stored.extend(
            items
                .iter()
                .map(|m| m["content"].as_str().unwrap().to_owned()),
        );
    }
    stored
}

/// What one request of the load saw.
struct Outcome {
    started: Instant,
    status: u16,
    retry_after: Option<String>,
    body: Value,
    sent: Option<String>,
}

#[test]
fn a_postgresql_restart_fails_no_request_a_second_after_it_is_back() {
    let cluster = Cluster::start();
    let env = Env::new();
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_colloq"));
    cmd.args(["--database-url", &cluster.url()])
        .env("COLLOQ_LOG", "warn")
        .env("COLLOQ_FILES__DIR", env.files_dir())
        .env_remove("COLLOQ_DATABASE__PG_SCHEMA")
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")]);
    for limit in support::LIMITS {
        cmd.env(limit, "0");
    }
    let server = Server::start(cmd, port);
    let base = server.base.clone();
    let token = register(&base, "load");
    let order = open_order(&base, &token);
    // Fill the pool (16 connections by default), so that after the restart
    // it holds many dead connections, which a light load meets one by one.
    let warm: Vec<_> = (0..32)
        .map(|_| {
            let (base, token) = (base.clone(), token.clone());
            std::thread::spawn(move || {
                for _ in 0..20 {
                    call(&base, "/api/user/detail", &token, None);
                }
            })
        })
        .collect();
    for w in warm {
        w.join().unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let paused = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..2)
        .map(|w| {
            let (stop, paused, outcomes, base, token) = (
                stop.clone(),
                paused.clone(),
                outcomes.clone(),
                base.clone(),
                token.clone(),
            );
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    if paused.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                    n += 1;
                    let text = format!("w{w}-{n}");
                    let started = Instant::now();
                    let body =
                        json!({"comm_order_id": order, "message_type": "text", "content": text});
                    let (status, retry_after, body) = call(
                        &base,
                        "/api/communication/message/send",
                        &token,
                        Some(&body),
                    );
                    outcomes.lock().unwrap().push(Outcome {
                        started,
                        status,
                        retry_after,
                        body,
                        sent: Some(text),
                    });
                    let started = Instant::now();
                    let (status, retry_after, body) = call(&base, "/api/user/detail", &token, None);
                    outcomes.lock().unwrap().push(Outcome {
                        started,
                        status,
                        retry_after,
                        body,
                        sent: None,
                    });
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    cluster.ctl(&["-m", "fast", "restart"]);
    let back = Instant::now();
    std::thread::sleep(Duration::from_secs(2));
    // A burst reaches connections deep in the pool that the light load,
    // reusing the few on top, has not touched since the restart.
    let burst: Vec<_> = (0..32)
        .map(|_| {
            let (outcomes, base, token) = (outcomes.clone(), base.clone(), token.clone());
            std::thread::spawn(move || {
                for _ in 0..5 {
                    let started = Instant::now();
                    let (status, retry_after, body) = call(&base, "/api/user/detail", &token, None);
                    outcomes.lock().unwrap().push(Outcome {
                        started,
                        status,
                        retry_after,
                        body,
                        sent: None,
                    });
                }
            })
        })
        .collect();
    for b in burst {
        b.join().unwrap();
    }
    // A restart while nothing is asked: the pool is left holding only dead
    // connections, which the first requests a while later must not meet.
    paused.store(true, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(300));
    cluster.ctl(&["-m", "fast", "restart"]);
    let quiet_back = Instant::now();
    std::thread::sleep(Duration::from_millis(1200));
    paused.store(false, Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    let mut acknowledged = Vec::new();
    let mut failed_during = 0;
    for o in &outcomes {
        if o.status == 200 && o.body["code"] == 0 {
            acknowledged.extend(o.sent.clone());
            continue;
        }
        // A failure is the envelope with 503 and Retry-After, never a 500,
        // and none starts more than a second after PostgreSQL is back.
        assert_eq!(o.status, 503, "{}", o.body);
        assert_eq!(o.retry_after.as_deref(), Some("2"));
        assert_eq!(o.body["code"], -1, "{}", o.body);
        assert!(
            o.started < quiet_back,
            "failed {:?} after the quiet restart: {}",
            o.started.saturating_duration_since(quiet_back),
            o.body
        );
        assert!(
            o.started < back + Duration::from_secs(1),
            "failed {:?} after PostgreSQL was back: {}",
            o.started.saturating_duration_since(back),
            o.body
        );
        failed_during += 1;
        eprintln!(
            "failed at back{:+.3}s: {}",
            if o.started >= back {
                o.started.duration_since(back).as_secs_f64()
            } else {
                -back.duration_since(o.started).as_secs_f64()
            },
            o.body
        );
    }
    let after = outcomes
        .iter()
        .filter(|o| o.started > back + Duration::from_secs(1))
        .count();
    assert!(after > 40, "too little load after the restart: {after}");
    // Every acknowledged message is stored, with its content.
    let stored = stored_contents(&base, &token, order);
    for text in &acknowledged {
        assert!(stored.contains(text), "acknowledged {text} is missing");
    }
    eprintln!(
        "figure: PostgreSQL restarted under load and again while idle: {} requests, \
         {failed_during} failed (503, Retry-After) while it restarted, none once it had been back for a second, \
         {} acknowledged sends all stored",
        outcomes.len(),
        acknowledged.len()
    );
}

#[test]
fn sigkill_under_32_senders_loses_no_acknowledged_message() {
    let env = Env::new();
    let mut server = env.serve(env.colloq());
    let base = server.base.clone();
    let token = register(&base, "killed");
    let order = open_order(&base, &token);
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let senders: Vec<_> = (0..32)
        .map(|s| {
            let (acknowledged, base, token) = (acknowledged.clone(), base.clone(), token.clone());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .timeout_global(Some(Duration::from_secs(10)))
                    .build()
                    .into();
                for n in 0.. {
                    let text = format!("s{s}-{n}");
                    let body =
                        json!({"comm_order_id": order, "message_type": "text", "content": text});
                    let answer = agent
                        .post(&format!("{base}/api/communication/message/send"))
                        .header("token", &token)
                        .send_json(&body)
                        .ok()
                        .and_then(|mut res| res.body_mut().read_json::<Value>().ok());
                    match answer {
                        Some(res) if res["code"] == 0 => acknowledged.lock().unwrap().push(text),
                        // The server is gone.
                        _ => return,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    for s in senders {
        s.join().unwrap();
    }
    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
    assert!(
        acknowledged.len() > 100,
        "too few sends: {}",
        acknowledged.len()
    );
    let again = env.serve(env.colloq());
    let stored = stored_contents(&again.base, &token, order);
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|t| !stored.contains(*t))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged lost: {lost:?}",
        lost.len(),
        acknowledged.len()
    );
    eprintln!(
        "figure: SIGKILL under 32 senders: {} sends acknowledged, 0 lost",
        acknowledged.len()
    );
}
