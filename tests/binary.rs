//! Runs the real `colloq` binary: provisions a staff account with the CLI, serves
//! on a free port, walks the AnQiCMS flow over real HTTP, stops, starts again on
//! the same database, and finds every acknowledged message still there.

#![expect(
    clippy::unwrap_used,
    clippy::tests_outside_test_module,
    reason = "an integration-test crate is all tests; failing loudly is the point"
)]

mod support;

use serde_json::{Value, json};
use support::{Env, Server, json_out};

fn post(server: &Server, path: &str, header: (&str, &str), body: &Value) -> Value {
    let mut req = ureq::post(&format!("{}{path}", server.base));
    if !header.0.is_empty() {
        req = req.header(header.0, header.1);
    }
    let body: Value = req.send_json(body).unwrap().body_mut().read_json().unwrap();
    assert_eq!(body["code"], 0, "{path}: {body}");
    body["data"].clone()
}

fn get(server: &Server, path: &str, header: (&str, &str)) -> Value {
    ureq::get(&format!("{}{path}", server.base))
        .header(header.0, header.1)
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap()
}

#[test]
fn the_binary_serves_the_anqicms_flow_and_keeps_messages_across_restarts() {
    let env = Env::new();
    let printed = json_out(env.colloq().args([
        "user",
        "create",
        "--username",
        "staffer",
        "--password",
        "staff-pw",
        "--admin",
    ]));
    assert!(
        printed["id"].is_i64() && printed["uid"].is_i64() && printed["aid"].is_string(),
        "{printed}"
    );
    assert_eq!(printed["admin"], true);

    let server = env.serve(env.colloq());
    let alice = post(
        &server,
        "/api/register",
        ("", ""),
        &json!({"user_name": "alice", "password": "secret-pw", "email": "alice@example.com"}),
    );
    let token = alice["token"].as_str().unwrap().to_owned();
    let order = post(
        &server,
        "/api/communication/order/create",
        ("token", &token),
        &json!({"archive_id": 1, "title": "Theme", "content": "Please", "phone": "13800000000"}),
    );
    let order = order["id"].as_i64().unwrap();
    let admin = post(
        &server,
        "/system/api/login",
        ("", ""),
        &json!({"user_name": "staffer", "password": "staff-pw"}),
    );
    let admin = admin["token"].as_str().unwrap().to_owned();
    let mut sent = Vec::new();
    for i in 0..12 {
        let (header, name) = if i % 3 == 2 {
            ("admin", admin.as_str())
        } else {
            ("token", token.as_str())
        };
        let msg = post(
            &server,
            "/api/communication/message/send",
            (header, name),
            &json!({"comm_order_id": order, "message_type": "text", "content": format!("message {i}")}),
        );
        sent.push(msg["id"].as_i64().unwrap());
    }
    let listed = get(
        &server,
        &format!("/api/communication/messages?comm_order_id={order}&page_size=100"),
        ("token", &token),
    );
    let before = listed["data"].clone();
    assert_eq!(listed["total"], 13, "12 messages and one status note");
    drop(server);

    let server = env.serve(env.colloq());
    let listed = get(
        &server,
        &format!("/api/communication/messages?comm_order_id={order}&page_size=100"),
        ("token", &token),
    );
    assert_eq!(
        listed["data"], before,
        "everything acknowledged survived the restart"
    );
    let ids: Vec<i64> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert!(sent.iter().all(|id| ids.contains(id)));
    let page2 = get(
        &server,
        &format!("/api/communication/messages?comm_order_id={order}&current=2&pageSize=5"),
        ("token", &token),
    );
    assert_eq!(page2["data"].as_array().unwrap().len(), 5);
    let no_login = get(
        &server,
        &format!("/api/communication/messages?comm_order_id={order}"),
        ("x", "y"),
    );
    assert_eq!(
        no_login,
        json!({"code": 1001, "msg": "this operation requires login, please log in and try again"})
    );
}
