//! The S3-compatible backend against a real S3 server: moto's server mode on
//! loopback, started by the tests themselves (or `COLLOQ_TEST_S3_ENDPOINT`).
//!
//! moto is installed on first use into `target/moto-venv` with the machine's
//! Python (`python3 -m venv` + pip from PyPI), pinned below.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use colloq_http::Settings;
use colloq_storage::Backend;

use crate::helpers::{Auth, TestApp};
use crate::uploads::{png, upload};

const MOTO: &str = "moto[server]==5.2.5";

/// The server, kept for the life of the test process (its stdin closes when
/// the process exits, which stops it).
static SERVER: OnceLock<Result<Moto, String>> = OnceLock::new();

/// The endpoint, and the child process when the tests started it.
type Moto = (String, Mutex<Option<Child>>);

fn venv() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/moto-venv")
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn start_moto() -> Result<Moto, String> {
    if let Ok(endpoint) = std::env::var("COLLOQ_TEST_S3_ENDPOINT") {
        return Ok((endpoint, Mutex::new(None)));
    }
    let venv = venv();
    let python = venv.join("bin/python");
    if !python.exists() {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        run(Command::new(&python).args(["-m", "pip", "install", "--quiet", MOTO]))?;
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/s3-test-server.py");
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let port: u16 = line
        .trim()
        .parse()
        .map_err(|e| format!("moto said {line:?}: {e}"))?;
    Ok((format!("http://127.0.0.1:{port}"), Mutex::new(Some(child))))
}

/// Settings for a fresh bucket on the test S3 server.
fn s3_settings(bucket: &str) -> Settings {
    let (endpoint, _) = SERVER
        .get_or_init(start_moto)
        .as_ref()
        .unwrap_or_else(|e| panic!("no S3 test server: {e}"));
    // moto accepts unsigned bucket creation.
    ureq::put(&format!("{endpoint}/{bucket}"))
        .send_empty()
        .unwrap();
    let mut settings = TestApp::settings();
    settings.files.backend = Backend::S3;
    settings.files.s3.bucket = bucket.to_owned();
    settings.files.s3.endpoint = Some(endpoint.clone());
    settings.files.s3.allow_http = true;
    settings.files.s3.access_key_id = Some("test".to_owned());
    settings.files.s3.secret_access_key = Some("test".to_owned().into());
    settings
}

fn objects_in(bucket: &str) -> usize {
    let (endpoint, _) = SERVER.get().unwrap().as_ref().unwrap();
    let listing = ureq::get(&format!("{endpoint}/{bucket}?list-type=2"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    listing.matches("<Key>").count()
}

#[actix_web::test]
async fn the_s3_backend_stores_once_and_serves_ranges() {
    let bucket = format!("colloq-{}", std::process::id()) + "-a";
    let app = TestApp::with_settings(s3_settings(&bucket));
    let (_, alice) = app.customer("alice").await;
    let (_, bob) = app.customer("bob").await;
    let image = png(33, 44, 70_000);
    let first = upload(&app, Auth::Token(&alice), "s3.png", "image/png", &image).await;
    let data = first.data().clone();
    assert_eq!(
        (data["width"].as_u64(), data["height"].as_u64()),
        (Some(33), Some(44))
    );
    assert_eq!(objects_in(&bucket), 1);
    let second = upload(&app, Auth::Token(&bob), "s3.png", "image/png", &image).await;
    second.data();
    assert_eq!(objects_in(&bucket), 1, "the same bytes are stored once");
    let path = data["file_location"].as_str().unwrap();
    let whole = app.send_raw(TestRequest::get().uri(path)).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(whole.body, image);
    assert_eq!(whole.header("content-type"), "image/png");
    let part = app
        .send_raw(
            TestRequest::get()
                .uri(path)
                .insert_header(("Range", "bytes=100-199")),
        )
        .await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body, image[100..200]);
}
