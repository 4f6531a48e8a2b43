//! The published API descriptions: one OpenAPI 3.1 document per dialect,
//! listing exactly the routes the server mounts, and a browsable page that
//! loads nothing from elsewhere. (tests/fuzz/fuzz.py checks the answers
//! against the documents with schemathesis.)

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use serde_json::Value;

use crate::helpers::{Auth, TestApp};

async fn document(app: &TestApp, dialect: &str) -> Value {
    let res = app
        .get(&format!("/openapi/{dialect}.json"), Auth::None)
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body["openapi"], "3.1.0");
    res.body
}

/// Every documented path and method, with a sample path parameter.
fn operations(doc: &Value) -> Vec<(Method, String)> {
    let paths = doc["paths"].as_object().unwrap();
    let mut ops = Vec::new();
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            ops.push((method, path.replace("{conversationId}", "1")));
        }
    }
    ops
}

#[actix_web::test]
async fn each_dialect_documents_its_routes_and_nothing_else() {
    let app = TestApp::new();
    let anqicms = document(&app, "anqicms").await;
    let fresns = document(&app, "fresns").await;
    let anqi_ops = operations(&anqicms);
    let fresns_ops = operations(&fresns);
    assert_eq!(anqi_ops.len(), 28, "{anqi_ops:?}");
    assert_eq!(fresns_ops.len(), 19, "{fresns_ops:?}");
    assert!(anqi_ops.iter().all(|(_, p)| !p.starts_with("/api/v2/")));
    assert!(
        fresns_ops
            .iter()
            .all(|(_, p)| p.starts_with("/api/v2/") || p == "/status.json")
    );
    for (method, path) in anqi_ops.iter().chain(&fresns_ops) {
        // Each documented operation is routed: neither dialect's "no such
        // endpoint" nor a wrong method.
        let res = app
            .send_raw(TestRequest::default().method(method.clone()).uri(path))
            .await;
        assert!(
            res.status != StatusCode::NOT_FOUND && res.status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {}",
            res.status
        );
    }
    for doc in [&anqicms, &fresns] {
        // Every reference resolves.
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for reference in text.split("\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "unresolved {name}");
        }
    }
}

#[actix_web::test]
async fn a_documented_path_with_another_method_is_405_with_allow_in_the_envelope() {
    let app = TestApp::new();
    let res = app
        .send_raw(TestRequest::put().uri("/api/communication/orders"))
        .await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.header("allow"), "GET");
    let body: Value = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(body["code"], -1);
    let res = app
        .send_raw(TestRequest::get().uri("/api/v2/conversation/send-message"))
        .await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.header("allow"), "POST");
    let body: Value = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(body["code"], 405);
    assert_eq!(body["data"], Value::Null);
}

#[actix_web::test]
async fn the_browsable_page_is_served_from_the_binary() {
    let app = TestApp::new();
    let page = app.send_raw(TestRequest::get().uri("/openapi/")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8(page.body).unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    let init = app
        .send_raw(TestRequest::get().uri("/openapi/swagger-initializer.js"))
        .await;
    let init = String::from_utf8(init.body).unwrap();
    assert!(init.contains("/openapi/anqicms.json") && init.contains("/openapi/fresns.json"));
    for asset in ["swagger-ui-bundle.js", "swagger-ui.css"] {
        let res = app
            .send_raw(TestRequest::get().uri(&format!("/openapi/{asset}")))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{asset}");
        assert!(res.body.len() > 10_000, "{asset}");
    }
    // Nothing is fetched from another host.
    for text in [&html, &init] {
        assert!(
            !text.contains("https://") && !text.contains("http://"),
            "{text}"
        );
    }
}
