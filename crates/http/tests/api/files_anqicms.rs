//! Uploads and downloads through the AnQiCMS dialect: real multipart bodies,
//! formats from the bytes, limits, ranges, dedup, and attaching to messages.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::helpers::{Auth, Resp, TestApp};
use crate::uploads::{Part, elf, md5_hex, pdf, png, upload, with_form};

/// The path part of a file URL (the test server's origin is `http://localhost:8080`).
fn path_of(url: &Value) -> String {
    let url = url.as_str().unwrap();
    let at = url.find("/files/").unwrap();
    url[at..].to_owned()
}

fn stored_objects(app: &TestApp) -> usize {
    fn walk(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| !p.ends_with(".incoming"))
                .map(|p| if p.is_dir() { walk(&p) } else { 1 })
                .sum()
        })
    }
    walk(&app.files.path().join("store"))
}

#[actix_web::test]
async fn an_image_upload_reports_its_dimensions_and_is_served_with_ranges() {
    let app = TestApp::new();
    let (user_id, token) = app.customer("alice").await;
    let image = png(640, 480, 3000);
    let res = upload(
        &app,
        Auth::Token(&token),
        "holiday photo.png",
        "image/png",
        &image,
    )
    .await;
    let data = res.data();
    assert_eq!(res.msg(), "file uploaded");
    assert_eq!(data["user_id"], user_id);
    assert_eq!(data["file_name"], "holiday photo.png");
    assert_eq!(data["file_size"], image.len());
    assert_eq!(data["file_md5"], md5_hex(&image));
    assert_eq!(
        (data["width"].as_u64(), data["height"].as_u64()),
        (Some(640), Some(480))
    );
    assert_eq!(data["is_image"], 1);
    assert_eq!(data["mime"], "image/png");
    assert_eq!(data["logo"], data["thumb"]);
    let keys: Vec<&str> = data
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "user_id",
            "file_name",
            "file_location",
            "file_size",
            "file_md5",
            "width",
            "height",
            "category_id",
            "is_image",
            "status",
            "logo",
            "thumb",
            "mime",
            "created_time",
            "updated_time"
        ]
    );
    let path = path_of(&data["logo"]);
    assert!(path.ends_with(".png"), "{path}");
    assert_eq!(data["file_location"], path);

    // The whole file, with its sniffed type and a strong ETag of its content.
    let whole = app.send_raw(TestRequest::get().uri(&path)).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(whole.body, image);
    assert_eq!(whole.header("content-type"), "image/png");
    let etag = format!("\"{}\"", hex::encode(sha2::Sha256::digest(&image)));
    assert_eq!(whole.header("etag"), etag);
    assert_eq!(whole.header("accept-ranges"), "bytes");
    assert_eq!(whole.header("x-content-type-options"), "nosniff");

    // A byte range, a suffix range, and an unsatisfiable one.
    let part = app
        .send_raw(
            TestRequest::get()
                .uri(&path)
                .insert_header(("Range", "bytes=8-23")),
        )
        .await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body, image[8..=23]);
    assert_eq!(
        part.header("content-range"),
        format!("bytes 8-23/{}", image.len())
    );
    let tail = app
        .send_raw(
            TestRequest::get()
                .uri(&path)
                .insert_header(("Range", "bytes=-12")),
        )
        .await;
    assert_eq!(tail.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(tail.body, image[image.len() - 12..]);
    let beyond = app
        .send_raw(
            TestRequest::get()
                .uri(&path)
                .insert_header(("Range", format!("bytes={}-", image.len() + 10))),
        )
        .await;
    assert_eq!(beyond.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        beyond.header("content-range"),
        format!("bytes */{}", image.len())
    );
    // A stale If-Range gets the whole file; a matching one the range.
    let stale = app
        .send_raw(
            TestRequest::get()
                .uri(&path)
                .insert_header(("Range", "bytes=0-3"))
                .insert_header(("If-Range", "\"other\"")),
        )
        .await;
    assert_eq!(
        (stale.status, stale.body.len()),
        (StatusCode::OK, image.len())
    );
    // Revalidation.
    let cached = app
        .send_raw(
            TestRequest::get()
                .uri(&path)
                .insert_header(("If-None-Match", etag.as_str())),
        )
        .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    assert!(cached.body.is_empty());
    // HEAD tells the size without the body.
    let head = app
        .send_raw(
            TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri(&path),
        )
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("content-length"), image.len().to_string());

    // Unknown or malformed fids are 404 JSON, not a page.
    let missing = app
        .send(TestRequest::get().uri("/files/AAAAAAAAAAAAAAAAAAAAAA.png"))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let odd = app
        .send(TestRequest::get().uri("/files/..%2F..%2Fetc"))
        .await;
    assert_eq!(odd.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn the_type_comes_from_the_bytes_not_from_the_client() {
    let app = TestApp::new();
    let (_, token) = app.customer("alice").await;
    // A PDF that claims to be a PNG.
    let res = upload(&app, Auth::Token(&token), "cat.png", "image/png", &pdf()).await;
    let data = res.data();
    assert_eq!(data["mime"], "application/pdf");
    assert_eq!(data["is_image"], 0);
    assert_eq!(
        (data["width"].as_u64(), data["height"].as_u64()),
        (Some(0), Some(0))
    );
    assert!(data["file_location"].as_str().unwrap().ends_with(".pdf"));
    let served = app
        .send_raw(TestRequest::get().uri(&path_of(&data["logo"])))
        .await;
    assert_eq!(served.header("content-type"), "application/pdf");
    assert!(
        served
            .header("content-disposition")
            .starts_with("attachment")
    );
    // A PNG that claims to be a PDF is an image.
    let res = upload(
        &app,
        Auth::Token(&token),
        "report.pdf",
        "application/pdf",
        &png(3, 2, 0),
    )
    .await;
    assert_eq!(res.data()["mime"], "image/png");
    assert_eq!(res.data()["width"], 3);
    // A program that claims to be a PNG is refused.
    let res = upload(&app, Auth::Token(&token), "x.png", "image/png", &elf()).await;
    res.assert_error(-1, "file: this file format is not accepted");
    // So is HTML, which would run from colloq's origin.
    let res = upload(
        &app,
        Auth::Token(&token),
        "x.txt",
        "text/plain",
        b"<html><script>alert(1)</script>",
    )
    .await;
    res.assert_error(-1, "not accepted");
    // Plain text is a document.
    let res = upload(
        &app,
        Auth::Token(&token),
        "notes.txt",
        "application/octet-stream",
        "hello ✓\n".as_bytes(),
    )
    .await;
    assert_eq!(res.data()["mime"], "text/plain");
}

#[actix_web::test]
async fn uploads_need_login_a_file_and_respect_the_limits() {
    let mut settings = TestApp::settings();
    settings.files.max_mib.image = 1;
    let app = TestApp::with_settings(settings);
    let res = upload(&app, Auth::None, "a.png", "image/png", &png(1, 1, 0)).await;
    res.assert_error(1001, "login");
    let (_, token) = app.customer("alice").await;
    // Over the image limit (1 MiB), while documents may be 10 MiB.
    let big = png(10, 10, 1024 * 1024 + 10);
    let res = upload(&app, Auth::Token(&token), "big.png", "image/png", &big).await;
    res.assert_error(-1, "larger than the 1 MB limit for image files");
    let res = upload(&app, Auth::Token(&token), "empty.png", "image/png", b"").await;
    res.assert_error(-1, "the file is empty");
    let req = TestApp::authed(
        TestRequest::post().uri("/api/attachment/upload"),
        Auth::Token(&token),
    );
    let res = app
        .send(with_form(req, &[Part::Text("name", "no file")]))
        .await;
    res.assert_error(-1, "the file field is required");
    let res = app
        .post(
            "/api/attachment/upload",
            Auth::Token(&token),
            json!({"file": "x"}),
        )
        .await;
    res.assert_error(-1, "multipart/form-data");
    // Nothing refused was kept, not even in the incoming directory.
    assert_eq!(stored_objects(&app), 0);
    let incoming = app.files.path().join("store/.incoming");
    assert_eq!(std::fs::read_dir(incoming).map_or(0, Iterator::count), 0);
}

#[actix_web::test]
async fn the_same_bytes_are_stored_once() {
    let app = TestApp::new();
    let (_, alice) = app.customer("alice").await;
    let (_, bob) = app.customer("bob").await;
    let image = png(20, 10, 500);
    let first = upload(&app, Auth::Token(&alice), "a.png", "image/png", &image).await;
    let second = upload(&app, Auth::Token(&bob), "b.png", "image/png", &image).await;
    let (first, second) = (first.data(), second.data());
    assert_ne!(first["id"], second["id"]);
    assert_ne!(first["logo"], second["logo"], "each upload has its own URL");
    assert_eq!(first["file_md5"], second["file_md5"]);
    assert_eq!(stored_objects(&app), 1);
    let other = upload(
        &app,
        Auth::Token(&alice),
        "c.png",
        "image/png",
        &png(20, 11, 500),
    )
    .await;
    other.data();
    assert_eq!(stored_objects(&app), 2);
    for data in [first, second] {
        let got = app
            .send_raw(TestRequest::get().uri(&path_of(&data["logo"])))
            .await;
        assert_eq!(got.body, image);
    }
}

#[actix_web::test]
async fn media_messages_may_carry_only_the_senders_own_uploads_of_the_right_kind() {
    let app = TestApp::new();
    let (_, alice) = app.customer("alice").await;
    let (_, bob) = app.customer("bob").await;
    let alice_order = app.order(&alice).await;
    let other_alice_order = app.order(&alice).await;
    let bob_order = app.order(&bob).await;
    let image = upload(
        &app,
        Auth::Token(&alice),
        "a.png",
        "image/png",
        &png(4, 4, 0),
    )
    .await;
    let url = image.data()["logo"].as_str().unwrap().to_owned();
    async fn send(app: &TestApp, token: &str, order: i64, kind: &str, content: &str) -> Resp {
        app.post(
            "/api/communication/message/send",
            Auth::Token(token),
            json!({"comm_order_id": order, "message_type": kind, "content": content}),
        )
        .await
    }
    // Someone else's upload, even knowing its URL.
    send(&app, &bob, bob_order, "image", &url)
        .await
        .assert_error(-1, "the file does not exist or is not yours");
    // The wrong kind.
    send(&app, &alice, alice_order, "video", &url)
        .await
        .assert_error(-1, "does not match the message type");
    // The owner, on one order: fine, and again on the same order.
    let sent = send(&app, &alice, alice_order, "image", &url).await;
    assert_eq!(sent.data()["content"], url.as_str());
    send(&app, &alice, alice_order, "file", &url).await.data();
    // But not on another thread once attached.
    send(&app, &alice, other_alice_order, "image", &url)
        .await
        .assert_error(-1, "belongs to another conversation");
    // A relative URL names the same file.
    let relative = path_of(&json!(url));
    send(&app, &alice, other_alice_order, "image", &relative)
        .await
        .assert_error(-1, "belongs to another conversation");
    // External URLs and text are kept as given.
    send(
        &app,
        &alice,
        other_alice_order,
        "image",
        "https://img.example.org/files/x.png",
    )
    .await
    .data();
    send(&app, &alice, other_alice_order, "text", &url)
        .await
        .data();
    let listed = app
        .get(
            &format!("/api/communication/messages?comm_order_id={alice_order}"),
            Auth::Token(&alice),
        )
        .await;
    let contents: Vec<&str> = listed
        .data()
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert!(contents.contains(&url.as_str()), "{contents:?}");
}
