//! The AnQiCMS dialect: communication orders (`/api/...`, staff side
//! `/system/api/...`), with the `{code, msg, data}` envelope, HTTP 200 for every
//! answer a client caused, and the `token` / `admin` headers.
//!
//! Layout: [`routes`] mounts the paths, `handlers` are thin adapters, `dto` holds
//! the wire shapes, `convert` translates between them and the domain, `extract`
//! authenticates, and `error` maps every failure to the envelope once.

mod convert;
mod dto;
mod error;
mod extract;
mod handlers;
mod live;
mod routes;
mod settings;

pub(crate) use error::rate_limited;
pub(crate) use extract::update_token_header;

/// This dialect's name in request logs and metrics.
/// The dialect's name in metrics and in its document's path.
const NAME: &str = "anqicms";

/// How the application mounts and documents this dialect.
pub(crate) const DIALECT: crate::dialects::Dialect = crate::dialects::Dialect {
    name: NAME,
    document_path: "/openapi/anqicms.json",
    title: "AnQiCMS",
    mount: routes::config,
    document: routes::openapi,
};
pub use settings::{AnqicmsSettings, OrderField};
