//! Several nodes: real `colloq` processes on one PostgreSQL database, with a
//! NATS server of the test's own (on a free port) carrying notices between
//! them. A client on one node hears what is sent through another, resumes on
//! either after its node dies, and loses nothing when NATS restarts; a
//! deployment of another name on the same NATS server hears nothing.
//!
//! On SQLite (one file, one node) the same settings must be refused.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::tests_outside_test_module,
    reason = "an integration-test crate is all tests; failing loudly is the point"
)]

mod support;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use colloq_persistence::Engine;
use serde_json::{Value, json};
use support::{Env, Server, free_port, json_out};

/// How long a test waits for something it expects.
const WAIT: Duration = Duration::from_secs(10);

/// `nats-server`, installed by `scripts/debian-tool` when absent.
fn nats_binary() -> PathBuf {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/debian-tool");
    let out = Command::new(script).arg("nats-server").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// A throw-away NATS server on a free port, killed when dropped.
struct Nats {
    port: u16,
    child: Child,
}

impl Nats {
    fn start_on(port: u16) -> Self {
        let child = Command::new(nats_binary())
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + WAIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { port, child }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A node of deployment `name` on `nats`.
fn node(env: &Env, nats: &Nats, name: &str) -> Server {
    let mut cmd = env.colloq();
    cmd.env("COLLOQ_EVENTS__BUS", "nats")
        .env("COLLOQ_EVENTS__NATS_URL", nats.url())
        .env("COLLOQ_EVENTS__DEPLOYMENT", name);
    env.serve(cmd)
}

fn post(base: &str, path: &str, token: &str, body: &Value) -> Value {
    let mut res = ureq::post(&format!("{base}{path}"))
        .header("token", token)
        .send_json(body)
        .unwrap();
    let reply: Value = res.body_mut().read_json().unwrap();
    assert_eq!(reply["code"], 0, "{path}: {reply}");
    reply
}

fn register(base: &str, name: &str) -> String {
    let mut res = ureq::post(&format!("{base}/api/register"))
        .send_json(json!({"user_name": name, "password": "secret-pw", "email": format!("{name}@example.com")}))
        .unwrap();
    let reply: Value = res.body_mut().read_json().unwrap();
    reply["data"]["token"].as_str().unwrap().to_owned()
}

/// One server-sent event.
#[derive(Debug)]
struct Received {
    id: Option<i64>,
    kind: String,
    data: Value,
}

/// A stream read on a thread of its own; events arrive on the channel, and
/// the channel closes when the stream ends.
fn stream(base: &str, token: &str, last_id: Option<i64>) -> mpsc::Receiver<Received> {
    let mut req = ureq::get(&format!("{base}/api/communication/events")).header("token", token);
    if let Some(id) = last_id {
        req = req.header("Last-Event-ID", &id.to_string());
    }
    let res = req.call().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let reader = BufReader::new(res.into_body().into_reader());
        let (mut id, mut kind, mut data) = (None, String::new(), String::new());
        for line in reader.lines() {
            let Ok(line) = line else { return };
            if line.is_empty() {
                if !kind.is_empty() {
                    let event = Received {
                        id: id.take(),
                        kind: std::mem::take(&mut kind),
                        data: serde_json::from_str(&std::mem::take(&mut data)).unwrap(),
                    };
                    if tx.send(event).is_err() {
                        return;
                    }
                }
            } else if let Some(v) = line.strip_prefix("id: ") {
                id = v.parse().ok();
            } else if let Some(v) = line.strip_prefix("event: ") {
                v.clone_into(&mut kind);
            } else if let Some(v) = line.strip_prefix("data: ") {
                data.push_str(v);
            }
        }
    });
    rx
}

fn next(rx: &mpsc::Receiver<Received>) -> Received {
    rx.recv_timeout(WAIT)
        .unwrap_or_else(|e| panic!("no event within {WAIT:?}: {e}"))
}

fn say(base: &str, token: &str, order: i64, text: &str) {
    post(
        base,
        "/api/communication/message/send",
        token,
        &json!({"comm_order_id": order, "message_type": "text", "content": text}),
    );
}

fn content(event: &Received) -> &str {
    event.data["message"]["content"]
        .as_str()
        .unwrap_or_default()
}

#[test]
fn nodes_share_events_through_nats_and_a_client_resumes_on_any_node() {
    let env = Env::new();
    if env.db.engine() == Engine::Sqlite {
        // One SQLite file belongs to one node: asking for NATS is refused.
        let port = free_port();
        let out = env
            .colloq()
            .env("COLLOQ_EVENTS__BUS", "nats")
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains("needs PostgreSQL"), "{stderr}");
        return;
    }
    let mut nats = Nats::start_on(free_port());
    let deployment = format!("test{}", std::process::id());
    // Both start at once on the unmigrated database: one migrates, the other
    // waits for it.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| node(&env, &nats, &deployment));
        let b = s.spawn(|| node(&env, &nats, &deployment));
        (a.join().unwrap(), b.join().unwrap())
    });
    let token = register(&a.base, "alice");
    let order = post(
        &a.base,
        "/api/communication/order/create",
        &token,
        &json!({"archive_id": 1, "title": "T", "content": "C", "phone": "13800000000"}),
    )["data"]["id"]
        .as_i64()
        .unwrap();

    // Sent through A, heard on B; staff answer through B, heard on A. (From
    // the start: a stream "from now" on PostgreSQL may begin a moment early.)
    let on_b = stream(&b.base, &token, Some(0));
    assert_eq!(next(&on_b).kind, "order_created");
    say(&a.base, &token, order, "from A");
    let heard = next(&on_b);
    assert_eq!(
        (heard.kind.as_str(), content(&heard)),
        ("message", "from A")
    );
    json_out(env.colloq().args([
        "user",
        "create",
        "--username",
        "staffer",
        "--password",
        "staff-pw",
        "--admin",
    ]));
    let mut res = ureq::post(&format!("{}/system/api/login", b.base))
        .send_json(json!({"user_name": "staffer", "password": "staff-pw"}))
        .unwrap();
    let staff: Value = res.body_mut().read_json().unwrap();
    let staff = staff["data"]["token"].as_str().unwrap().to_owned();
    let on_a = stream(&a.base, &token, heard.id);
    let mut res = ureq::post(&format!("{}/system/api/communication/message/send", b.base))
        .header("admin", &staff)
        .send_json(
            json!({"comm_order_id": order, "message_type": "text", "content": "from staff on B"}),
        )
        .unwrap();
    let sent: Value = res.body_mut().read_json().unwrap();
    assert_eq!(sent["code"], 0, "{sent}");
    let answer = next(&on_a);
    assert_eq!(content(&answer), "from staff on B");
    assert_eq!(content(&next(&on_b)), "from staff on B");
    // Staff's first answer opens the order: a status change follows.
    assert_eq!(next(&on_a).kind, "order_status");
    let mut last = next(&on_b).id.unwrap();
    drop(on_a);

    // B dies; what is sent meanwhile is replayed on A, in order, once.
    drop(b);
    assert!(on_b.recv_timeout(WAIT).is_err(), "B's stream ended");
    say(&a.base, &token, order, "while away 1");
    say(&a.base, &token, order, "while away 2");
    let on_a = stream(&a.base, &token, Some(last));
    let replayed = [next(&on_a), next(&on_a)];
    assert_eq!(
        replayed.iter().map(content).collect::<Vec<_>>(),
        ["while away 1", "while away 2"]
    );
    // Positions increase along a feed (with gaps on PostgreSQL).
    let ids: Vec<i64> = replayed.iter().map(|e| e.id.unwrap()).collect();
    assert!(last < ids[0] && ids[0] < ids[1], "{last} then {ids:?}");
    last = ids[1];
    drop(on_a);

    // NATS restarts under a stream on a new node: what was sent while it was
    // down arrives once the node is back on NATS, and nothing is repeated.
    let c = node(&env, &nats, &deployment);
    let on_c = stream(&c.base, &token, Some(last));
    let port = nats.port;
    nats.stop();
    say(&a.base, &token, order, "while NATS was down");
    nats = Nats::start_on(port);
    let after_restart = next(&on_c);
    assert_eq!(content(&after_restart), "while NATS was down");
    assert!(after_restart.id > Some(last));
    say(&a.base, &token, order, "after NATS is back");
    let live = next(&on_c);
    assert_eq!(content(&live), "after NATS is back");
    assert!(live.id > after_restart.id);

    // Another deployment on the same NATS server hears no notice of ours:
    // its stream learns of the message only at its next heartbeat.
    let mut other = env.colloq();
    other
        .env("COLLOQ_EVENTS__BUS", "nats")
        .env("COLLOQ_EVENTS__NATS_URL", nats.url())
        .env("COLLOQ_EVENTS__DEPLOYMENT", format!("{deployment}-other"))
        .env("COLLOQ_EVENTS__HEARTBEAT_SECS", "30");
    let other = env.serve(other);
    let on_other = stream(&other.base, &token, live.id);
    say(&a.base, &token, order, "ours only");
    assert_eq!(content(&next(&on_c)), "ours only");
    assert!(
        on_other.recv_timeout(Duration::from_secs(2)).is_err(),
        "a notice crossed deployments"
    );

    // Logging out through A closes the session's stream on C.
    post(&a.base, "/api/logout", &token, &json!({}));
    let end = next(&on_c);
    assert_eq!(
        (end.kind.as_str(), &end.data["reason"]),
        ("end", &json!("logged out"))
    );
}
