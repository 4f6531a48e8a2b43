//! JSON answers written into a buffer sized up front.
//!
//! actix's `HttpResponseBuilder::json` serialises into an empty `Vec`, which
//! then doubles its way to the body's size: a `realloc` and a copy per step.
//! A caller that knows roughly
//! how big its answer is says so.

use actix_web::HttpResponse;
use actix_web::http::header::ContentType;
use serde::Serialize;

/// A 200 answer with `value` as JSON, written into `capacity` bytes reserved
/// up front (more are taken if needed).
///
/// # Errors
/// Only a `Serialize` implementation that fails; none of colloq's does.
pub(crate) fn json_sized(
    value: &impl Serialize,
    capacity: usize,
) -> Result<HttpResponse, serde_json::Error> {
    let mut body = Vec::with_capacity(capacity);
    serde_json::to_writer(&mut body, value)?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(body))
}
