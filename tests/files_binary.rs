//! Files through the real binary over real HTTP: a 200 MiB upload stored and
//! another refused while the server's memory stays flat, and `colloq gc-files`
//! removing what was never attached while keeping what was.

#![expect(
    clippy::unwrap_used,
    clippy::tests_outside_test_module,
    reason = "an integration-test crate is all tests; failing loudly is the point"
)]

mod support;

use std::io::Read;
use std::process::Command;

use serde_json::{Value, json};
use support::{Env, Server, json_out};

const MIB: u64 = 1024 * 1024;
const BOUNDARY: &str = "colloq-binary-test-boundary";

/// `colloq` for these tests: documents may be 300 MiB, images keep the 10 MiB
/// default.
fn colloq(env: &Env) -> Command {
    let mut cmd = env.colloq();
    cmd.env("COLLOQ_FILES__MAX_MIB__DOCUMENT", "300");
    cmd
}

/// Peak resident memory of a process so far, in bytes (Linux `VmHWM`).
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

fn customer(server: &Server, name: &str) -> String {
    let body =
        json!({"user_name": name, "password": "secret-pw", "email": format!("{name}@example.com")});
    let _registered: Value = ureq::post(&format!("{}/api/register", server.base))
        .send_json(&body)
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let res: Value = ureq::post(&format!("{}/api/login", server.base))
        .send_json(json!({"user_name": name, "password": "secret-pw"}))
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(res["code"], 0, "{res}");
    res["data"]["token"].as_str().unwrap().to_owned()
}

/// Streams a multipart upload whose file is `head` followed by zeros up to
/// `size` bytes, generated on the fly: neither side holds the file.
fn upload_stream(server: &Server, token: &str, head: &[u8], size: u64) -> Value {
    let prologue = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    );
    let epilogue = format!("\r\n--{BOUNDARY}--\r\n");
    let zeros = std::io::repeat(0).take(size - head.len() as u64);
    let mut body = prologue
        .as_bytes()
        .chain(head)
        .chain(zeros)
        .chain(epilogue.as_bytes());
    ureq::post(&format!("{}/api/attachment/upload", server.base))
        .header("token", token)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .send(ureq::SendBody::from_reader(&mut body))
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap()
}

fn path_of(data: &Value) -> String {
    data["file_location"].as_str().unwrap().to_owned()
}

fn status_of(server: &Server, path: &str) -> u16 {
    match ureq::get(&format!("{}{path}", server.base)).call() {
        Ok(res) => res.status().as_u16(),
        Err(ureq::Error::StatusCode(code)) => code,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn memory_stays_flat_while_200_mib_is_stored_or_refused() {
    let env = Env::new();
    let server = env.serve(colloq(&env));
    let token = customer(&server, "alice");
    let pid = server.child.id();
    let before = peak_rss(pid);

    // Stored: a 200 MiB "PDF" (a PDF header, then zeros).
    let stored = upload_stream(&server, &token, b"%PDF-1.7\n", 200 * MIB);
    assert_eq!(stored["code"], 0, "{stored}");
    assert_eq!(stored["data"]["file_size"], 200 * MIB);
    assert_eq!(stored["data"]["mime"], "application/pdf");
    // Downloading it streams too; count the bytes without keeping them.
    let mut res = ureq::get(&format!("{}{}", server.base, path_of(&stored["data"])))
        .call()
        .unwrap();
    let got = std::io::copy(
        &mut res.body_mut().with_config().limit(u64::MAX).reader(),
        &mut std::io::sink(),
    )
    .unwrap();
    assert_eq!(got, 200 * MIB);

    // Refused: a 200 MiB "PNG" against the 10 MiB image limit. The server reads
    // the rest of the body and answers with the envelope.
    let png_head = [
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0,
        0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0,
    ];
    let refused = upload_stream(&server, &token, &png_head, 200 * MIB);
    assert_eq!(refused["code"], -1, "{refused}");
    assert!(
        refused["msg"]
            .as_str()
            .unwrap()
            .contains("larger than the 10 MB limit"),
        "{refused}"
    );

    let after = peak_rss(pid);
    let growth = after.saturating_sub(before);
    eprintln!(
        "peak RSS before {} MiB, after {} MiB",
        before / MIB,
        after / MIB
    );
    assert!(
        growth < 48 * MIB,
        "peak RSS grew by {} MiB while moving 600 MiB",
        growth / MIB
    );
    // Nothing of the refused upload is left behind.
    let incoming = env.files_dir().join(".incoming");
    assert_eq!(std::fs::read_dir(incoming).map_or(0, Iterator::count), 0);
}

#[test]
fn gc_files_removes_unattached_uploads_and_keeps_attached_ones() {
    let env = Env::new();
    let server = env.serve(colloq(&env));
    let token = customer(&server, "alice");
    let kept = upload_stream(&server, &token, b"%PDF-1.4\nkept", 4096);
    let dropped = upload_stream(&server, &token, b"%PDF-1.4\ndropped", 4096);
    let (kept, dropped) = (kept["data"].clone(), dropped["data"].clone());
    // Attach one of them to a message.
    let order: Value = ureq::post(&format!("{}/api/communication/order/create", server.base))
        .header("token", &token)
        .send_json(json!({"archive_id": 188, "title": "Logo", "content": "A logo please", "phone": "13800000000"}))
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(order["code"], 0, "{order}");
    let sent: Value = ureq::post(&format!("{}/api/communication/message/send", server.base))
        .header("token", &token)
        .send_json(json!({"comm_order_id": order["data"]["id"], "message_type": "file", "content": kept["logo"]}))
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(sent["code"], 0, "{sent}");

    // Within the grace period nothing goes.
    let report = json_out(colloq(&env).arg("gc-files"));
    assert_eq!(report, json!({"uploads_removed": 0, "contents_removed": 0}));
    // With no grace, the unattached upload and its content go.
    let report = json_out(colloq(&env).args(["gc-files", "--grace-hours", "0"]));
    assert_eq!(report, json!({"uploads_removed": 1, "contents_removed": 1}));
    assert_eq!(status_of(&server, &path_of(&dropped)), 404);
    assert_eq!(status_of(&server, &path_of(&kept)), 200);
}
