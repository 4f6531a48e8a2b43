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
mod routes;
mod settings;

pub(crate) use error::rate_limited;
pub(crate) use extract::update_token_header;

/// This dialect's name in request logs and metrics.
const DIALECT: &str = "anqicms";
pub(crate) use routes::{config, openapi};
pub use settings::{AnqicmsSettings, OrderField};
