//! Uploads and file messages through the Fresns dialect.

use actix_web::http::Method;
use colloq_domain::file::human_size;
use serde_json::{Value, json};

use crate::fresns_helpers::{Key, Session, Tweaks};
use crate::helpers::{Resp, TestApp};
use crate::uploads::{Part, elf, md5_hex, pdf, png, with_form};

struct Trio {
    app: TestApp,
    key: Key,
    alice: Session,
    bob: Session,
    carol: Session,
}

async fn trio(kinds: &[&str]) -> Trio {
    let mut settings = TestApp::settings();
    settings.fresns.conversation_files = kinds.iter().map(|k| (*k).to_owned()).collect();
    settings.files.max_mib.image = 1;
    let app = TestApp::with_settings(settings);
    let key = app.key(2, false, None);
    let alice = app.fresns_user(&key, "alice").await;
    let bob = app.fresns_user(&key, "bob").await;
    let carol = app.fresns_user(&key, "carol").await;
    Trio {
        app,
        key,
        alice,
        bob,
        carol,
    }
}

impl Trio {
    async fn upload(
        &self,
        who: &Session,
        to: &str,
        kind: &str,
        filename: &str,
        bytes: &[u8],
    ) -> Resp {
        self.upload_with(who, &[("tableKey", to), ("type", kind)], filename, bytes)
            .await
    }

    async fn upload_with(
        &self,
        who: &Session,
        fields: &[(&str, &str)],
        filename: &str,
        bytes: &[u8],
    ) -> Resp {
        let mut parts = vec![
            Part::Text("tableName", "conversation_messages"),
            Part::Text("tableColumn", "message_file_id"),
            Part::Text("uploadMode", "file"),
        ];
        for (name, value) in fields {
            parts.retain(|p| !matches!(p, Part::Text(n, _) if n == name));
            parts.push(Part::Text(name, value));
        }
        parts.push(Part::File {
            field: "file",
            filename,
            content_type: "application/octet-stream",
            bytes,
        });
        let req = self.app.fresns_request(
            Method::POST,
            "/api/v2/common/upload-file",
            &self.key,
            who,
            None,
            &Tweaks::default(),
        );
        self.app.send(with_form(req, &parts)).await
    }

    async fn send(&self, who: &Session, body: Value) -> Resp {
        self.app
            .fresns(
                Method::POST,
                "/api/v2/conversation/send-message",
                &self.key,
                who,
                Some(body),
            )
            .await
    }
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

const COMMON: [&str; 13] = [
    "fid",
    "type",
    "status",
    "substitutionImageUrl",
    "sensitive",
    "name",
    "mime",
    "extension",
    "size",
    "md5",
    "sha",
    "shaType",
    "moreJson",
];

#[actix_web::test]
async fn an_uploaded_image_is_sent_listed_and_served_as_file_info() {
    let t = trio(&["image", "document"]).await;
    let image = png(800, 2400, 2000);
    let res = t.upload(&t.alice, "bob", "image", "tall.png", &image).await;
    let info = res.fdata().clone();
    let mut expected: Vec<&str> = COMMON.to_vec();
    expected.extend([
        "imageWidth",
        "imageHeight",
        "imageLong",
        "imageConfigUrl",
        "imageRatioUrl",
        "imageSquareUrl",
        "imageBigUrl",
    ]);
    assert_eq!(keys(&info), expected);
    assert_eq!(info["type"], 1);
    assert_eq!(info["name"], "tall.png");
    assert_eq!(info["mime"], "image/png");
    assert_eq!(info["extension"], "png");
    assert_eq!(info["size"], human_size(image.len() as u64));
    assert_eq!(info["md5"], md5_hex(&image));
    assert_eq!(info["shaType"], "sha256");
    assert_eq!(
        (info["imageWidth"].as_u64(), info["imageHeight"].as_u64()),
        (Some(800), Some(2400))
    );
    assert_eq!(info["imageLong"], true);
    let fid = info["fid"].as_str().unwrap().to_owned();

    // Sending it: fid wins over text, as upstream.
    let sent = t
        .send(
            &t.alice,
            json!({"uidOrUsername": "bob", "fid": fid, "message": "ignored"}),
        )
        .await;
    let item = sent.fdata();
    assert_eq!(item["type"], 2);
    assert_eq!(item["content"], Value::Null);
    assert_eq!(item["file"], info);
    // Bob sees it in the list, with the same File Info.
    let conversation = t
        .app
        .fresns(
            Method::GET,
            "/api/v2/conversation/list",
            &t.key,
            &t.bob,
            None,
        )
        .await;
    let id = conversation.fdata()["list"][0]["id"].as_i64().unwrap();
    let listed = t
        .app
        .fresns(
            Method::GET,
            &format!("/api/v2/conversation/{id}/messages"),
            &t.key,
            &t.bob,
            None,
        )
        .await;
    assert_eq!(listed.fdata()["list"][0]["file"], info);
    assert_eq!(listed.fdata()["list"][0]["isMe"], false);
    // The URL serves the bytes.
    let url = info["imageBigUrl"].as_str().unwrap();
    let path = &url[url.find("/files/").unwrap()..];
    let got = t
        .app
        .send_raw(actix_web::test::TestRequest::get().uri(path))
        .await;
    assert_eq!(got.body, image);
    assert_eq!(got.header("content-type"), "image/png");
}

#[actix_web::test]
async fn a_document_has_only_the_document_keys() {
    let t = trio(&["image", "document"]).await;
    let res = t
        .upload(&t.alice, "bob", "document", "spec.pdf", &pdf())
        .await;
    let info = res.fdata();
    let mut expected: Vec<&str> = COMMON.to_vec();
    expected.push("documentPreviewUrl");
    assert_eq!(keys(info), expected);
    assert_eq!(info["type"], 4);
    assert_eq!(info["mime"], "application/pdf");
}

#[actix_web::test]
async fn uploads_are_checked_against_kinds_types_limits_and_permission() {
    let t = trio(&["image"]).await;
    // A declared kind the configuration does not allow.
    t.upload(&t.alice, "bob", "video", "a.png", &png(2, 2, 0))
        .await
        .fcode(36110);
    // Bytes of a kind it does not allow (refused while streaming).
    t.upload(&t.alice, "bob", "image", "a.pdf", &pdf())
        .await
        .fcode(36112);
    // Bytes of no accepted format, and a declared type the bytes contradict.
    t.upload(&t.alice, "bob", "image", "a.png", &elf())
        .await
        .fcode(36200);
    let t2 = trio(&["image", "document"]).await;
    t2.upload(&t2.alice, "bob", "image", "a.png", &pdf())
        .await
        .fcode(36200);
    // Too large (the image limit here is 1 MiB).
    let msg = t
        .upload(
            &t.alice,
            "bob",
            "image",
            "big.png",
            &png(2, 2, 1024 * 1024 + 1),
        )
        .await
        .fcode(30000)
        .to_owned();
    assert!(msg.contains("larger than the 1 MB limit"), "{msg}");
    // Fields.
    let msg = t
        .upload_with(
            &t.alice,
            &[
                ("tableKey", "bob"),
                ("type", "image"),
                ("tableName", "posts"),
            ],
            "a.png",
            &png(2, 2, 0),
        )
        .await
        .fcode(30000)
        .to_owned();
    assert!(msg.contains("table name"), "{msg}");
    let msg = t
        .upload_with(&t.alice, &[("type", "image")], "a.png", &png(2, 2, 0))
        .await
        .fcode(30000)
        .to_owned();
    assert_eq!(msg, "The table key field is required.");
    let msg = t
        .upload_with(
            &t.alice,
            &[
                ("tableKey", "bob"),
                ("type", "image"),
                ("uploadMode", "fileInfo"),
            ],
            "a.png",
            &png(2, 2, 0),
        )
        .await
        .fcode(30000)
        .to_owned();
    assert!(msg.contains("fileInfo"), "{msg}");
    // The recipient must exist and accept messages from the uploader.
    t.upload(&t.alice, "nobody", "image", "a.png", &png(2, 2, 0))
        .await
        .fcode(31602);
    t.upload(&t.alice, "alice", "image", "a.png", &png(2, 2, 0))
        .await
        .fcode(31602);
    // Without a user token.
    let anonymous = Session {
        uid: None,
        uid_token: None,
        ..t.alice.clone()
    };
    let res = t
        .upload(&anonymous, "bob", "image", "a.png", &png(2, 2, 0))
        .await;
    assert_ne!(res.body["code"], 0, "{res:?}");
}

#[actix_web::test]
async fn a_file_belongs_to_its_uploader_and_its_conversation() {
    let t = trio(&["image"]).await;
    let res = t
        .upload(&t.alice, "bob", "image", "a.png", &png(5, 5, 0))
        .await;
    let fid = res.fdata()["fid"].as_str().unwrap().to_owned();
    let invalid = "The selected fid is invalid.";
    // Carol knows the fid but it is not hers.
    let msg = t
        .send(&t.carol, json!({"uidOrUsername": "bob", "fid": fid}))
        .await
        .fcode(30000)
        .to_owned();
    assert_eq!(msg, invalid);
    // Alice uploaded it for Bob, not for Carol.
    let msg = t
        .send(&t.alice, json!({"uidOrUsername": "carol", "fid": fid}))
        .await
        .fcode(30000)
        .to_owned();
    assert_eq!(msg, invalid);
    // Unknown fids.
    let msg = t
        .send(&t.alice, json!({"uidOrUsername": "bob", "fid": "nope"}))
        .await
        .fcode(30000)
        .to_owned();
    assert_eq!(msg, invalid);
    // To Bob it goes, twice even.
    t.send(&t.alice, json!({"uidOrUsername": "bob", "fid": fid}))
        .await
        .fdata();
    t.send(&t.alice, json!({"uidOrUsername": "bob", "fid": fid}))
        .await
        .fdata();
    // Bob cannot forward Alice's file to Carol.
    let msg = t
        .send(&t.bob, json!({"uidOrUsername": "carol", "fid": fid}))
        .await
        .fcode(30000)
        .to_owned();
    assert_eq!(msg, invalid);
}

/// Every Fresns response shape, pinned: File Info, a send, the list, a detail,
/// a message page (each item with its User Info), the panel, the start-up
/// configuration and code table, and the error envelope. Random and
/// time-dependent values are redacted.
#[actix_web::test]
async fn every_fresns_response_shape_is_pinned() {
    let t = trio(&["image"]).await;
    let get = |who: &Session, uri: String| {
        let (app, key, who) = (&t.app, &t.key, who.clone());
        async move { app.fresns(Method::GET, &uri, key, &who, None).await }
    };
    macro_rules! pin {
        ($name:expr, $value:expr) => {
            insta::assert_json_snapshot!($name, $value, {
                ".**.uid" => "[uid]",
                ".**.fsid" => "[uid]",
                ".**.registerDate" => "[date]",
                ".**.url" => "[url]",
                ".**.fid" => "[fid]",
                ".**.datetime" => "[datetime]",
                ".**.datetimeFormat" => "[datetime]",
                ".**.timeAgo" => "[time ago]",
                ".**.imageConfigUrl" => "[file url]",
                ".**.imageRatioUrl" => "[file url]",
                ".**.imageSquareUrl" => "[file url]",
                ".**.imageBigUrl" => "[file url]",
                ".**.expiredDateTime" => "[datetime]",
            })
        };
    }
    let image = png(64, 48, 512);
    let uploaded = t
        .upload(&t.alice, "bob", "image", "small.png", &image)
        .await;
    pin!("fresns_file_info", uploaded.body);
    let fid = uploaded.fdata()["fid"].as_str().unwrap().to_owned();
    let sent = t
        .send(&t.alice, json!({"uidOrUsername": "bob", "fid": fid}))
        .await;
    pin!("fresns_send", sent.body);
    t.send(
        &t.bob,
        json!({"uidOrUsername": "alice", "message": "hello"}),
    )
    .await
    .fdata();
    let list = get(&t.bob, "/api/v2/conversation/list".to_owned()).await;
    pin!("fresns_list", list.body);
    let id = list.fdata()["list"][0]["id"].as_i64().unwrap();
    pin!(
        "fresns_detail",
        get(&t.bob, format!("/api/v2/conversation/{id}/detail"))
            .await
            .body
    );
    pin!(
        "fresns_messages",
        get(&t.bob, format!("/api/v2/conversation/{id}/messages"))
            .await
            .body
    );
    pin!(
        "fresns_panel",
        get(&t.bob, "/api/v2/user/panel".to_owned()).await.body
    );
    let anyone = Session::default();
    pin!(
        "fresns_configs",
        get(&anyone, "/api/v2/global/configs".to_owned()).await.body
    );
    pin!(
        "fresns_code_messages",
        get(&anyone, "/api/v2/global/code-messages".to_owned())
            .await
            .body
    );
    let forged = Tweaks {
        signature: Some("0".repeat(32)),
        ..Tweaks::default()
    };
    let refused = t
        .app
        .fresns_tweaked(
            Method::GET,
            "/api/v2/user/panel",
            &t.key,
            &t.bob,
            None,
            &forged,
        )
        .await;
    pin!("fresns_error", refused.body);
}
