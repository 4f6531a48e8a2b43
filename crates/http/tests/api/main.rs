//! HTTP tests through the real `App`, in-process. Each test has its own
//! database: SQLite by default, PostgreSQL when `COLLOQ_TEST_DATABASE_URL` is set.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::tests_outside_test_module,
    reason = "an integration-test crate is all tests; failing loudly is the point"
)]

mod bad_input;
mod browser;
mod events;
mod files_anqicms;
mod files_fresns;
mod files_s3;
mod fresns_auth;
mod fresns_conversations;
mod fresns_global;
mod fresns_helpers;
mod helpers;
mod idempotency;
mod lifecycle;
mod limits;
mod messages;
mod openapi;
mod ops;
mod orders;
mod sessions;
mod streams;
mod text;
mod uploads;
