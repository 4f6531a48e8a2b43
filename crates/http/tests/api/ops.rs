//! The operators' endpoints in process: readiness names the database when no
//! connection can be had, and the request id comes back on every answer.

use actix_web::http::StatusCode;
use actix_web::test;
use serde_json::json;

use crate::helpers::{Auth, TestApp};

#[actix_web::test]
async fn readiness_fails_on_the_database_when_no_connection_can_be_had() {
    let app = TestApp::new();
    let ready = app.send(test::TestRequest::get().uri("/readyz")).await;
    assert_eq!(ready.status, StatusCode::OK, "{ready:?}");
    // Every pooled connection is taken: requests would wait, so the node is
    // not ready.
    let held: Vec<_> = (0..app.pool.max_size())
        .map(|_| app.pool.get().unwrap())
        .collect();
    let ready = app.send(test::TestRequest::get().uri("/readyz")).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.body["failed"], json!(["database"]), "{ready:?}");
    assert_eq!(ready.body["status"], "unavailable");
    drop(held);
    let ready = app.send(test::TestRequest::get().uri("/readyz")).await;
    assert_eq!(ready.status, StatusCode::OK, "{ready:?}");
}

#[actix_web::test]
async fn every_answer_carries_a_request_id_and_metrics_stay_private() {
    let app = TestApp::new();
    let given = app
        .send(
            TestApp::authed(
                test::TestRequest::get().uri("/api/communication/fields"),
                Auth::None,
            )
            .insert_header(("X-Request-Id", "from-the-proxy-7")),
        )
        .await;
    assert_eq!(
        given.headers.get("x-request-id").unwrap(),
        "from-the-proxy-7"
    );
    let made = app.get("/api/v2/no-such-thing", Auth::None).await;
    assert!(!made.headers.get("x-request-id").unwrap().is_empty());
    let metrics = app.get("/metrics", Auth::None).await;
    assert_eq!(metrics.status, StatusCode::NOT_FOUND);
}
