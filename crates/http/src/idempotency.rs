//! The `Idempotency-Key` request header of both send endpoints (see
//! `colloq_core::idempotency` for what a key does).

use actix_web::HttpRequest;
use colloq_core::CoreError;
use colloq_domain::message::IdempotencyKey;

/// The request's key, if it sent one.
///
/// # Errors
/// A domain error naming the header when the key is not 1 to 255 visible
/// ASCII characters.
pub(crate) fn key(req: &HttpRequest) -> Result<Option<IdempotencyKey>, CoreError> {
    req.headers()
        .get("idempotency-key")
        .map(|value| IdempotencyKey::parse(value.to_str().unwrap_or("\u{0}")))
        .transpose()
        .map_err(CoreError::from)
}
