//! The Fresns v2 dialect: conversations between two users (`/api/v2/...`), with
//! the `{code, message, data}` envelope, HTTP 200 for every answer a client
//! caused, signed `X-Fresns-*` headers and account/user tokens.
//!
//! Layout: `routes` mounts the paths and localises answers, `handlers` are thin
//! adapters, `dto` holds the request and response shapes, `convert` validates
//! requests into domain input and builds the responses from domain values,
//! `extract` checks headers, signature and tokens, `headers` holds the header
//! rules and the MD5 signature, `userinfo` the User Info object and its key
//! filters, `time` the date formats, `codes` the localised code messages, and
//! `error` maps every failure to the envelope once.

mod clock;
mod codes;
mod convert;
mod dto;
mod error;
mod extract;
mod global;
mod handlers;
mod headers;
mod live;
mod routes;
mod settings;
mod time;
mod userinfo;

pub use clock::SignatureZone;
pub use settings::FresnsSettings;

/// The answer to a client over a per-address limit, in its language.
pub(crate) fn rate_limited(
    headers: &actix_web::http::header::HeaderMap,
    retry_after: std::time::Duration,
) -> actix_web::HttpResponse {
    error::rate_limited(codes::Lang::from_headers(headers), retry_after)
}

/// This dialect's name in request logs and metrics.
/// The dialect's name in metrics and in its document's path.
const NAME: &str = "fresns";

/// How the application mounts and documents this dialect.
pub(crate) const DIALECT: crate::dialects::Dialect = crate::dialects::Dialect {
    name: NAME,
    document_path: "/openapi/fresns.json",
    title: "Fresns v2",
    mount: routes::config,
    document: routes::openapi,
};
