#![recursion_limit = "256"]
//! The HTTP layer of colloq, on actix-web.
//!
//! Each API dialect is one adapter module with the same layout (`routes`, `dto`,
//! `convert`, `error`, `extract`, `handlers`): it turns its wire format into calls
//! of the shared use cases in `colloq-core` and renders the results in its own
//! envelope. Dialect quirks stay inside their module.
//!
//! - [`app`]: the whole application, for the server and for tests.
//! - [`settings`]: the typed configuration.
//! - [`AppState`]: what handlers share, and the one place blocking work is sent
//!   off the async workers.
//! - `anqicms`: the AnQiCMS communication-order dialect.
//! - `fresns`: the Fresns v2 conversation dialect.
//! - `files`: receiving uploads and serving `/files/{fid}` for both dialects.
//! - `openapi`: the published OpenAPI documents and their browsable page.
//! - `ops`: request logs, metrics, `/healthz`, `/readyz` and `/metrics`.

mod anqicms;
mod body;
mod dialects;
mod error_chain;
mod files;
mod fresns;
mod idempotency;
mod limits;
mod live;
mod openapi;
mod ops;
mod params;
pub mod settings;
mod state;
mod text;
mod throttle;

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpResponse, web};

pub use live::Live;
pub use ops::install_metrics;
pub use settings::Settings;
pub use state::AppState;

/// `Retry-After` of a 503 (the database briefly unreachable): long enough
/// for a restarting PostgreSQL or a reconnecting pool, short for a client.
const RETRY_AFTER_SECS: u64 = 2;

/// Whole seconds for `Retry-After`, rounded up: a client that waits that
/// long finds the budget open again.
fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// The application: every dialect's routes, shared limits, and a JSON answer for
/// unknown paths (never an HTML page).
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    app_of(state, dialects::ALL)
}

/// The application serving `dialects`, in their order.
fn app_of(
    state: AppState,
    dialects: &'static [dialects::Dialect],
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let body_limit = state.settings().http.max_body_bytes;
    let public_metrics = state.settings().metrics.public;
    let doors = web::Data::from(state.extension::<throttle::Doors>());
    let mut app = App::new()
        .app_data(web::Data::new(state.clone()))
        .app_data(doors)
        .app_data(web::PayloadConfig::new(body_limit))
        .wrap(actix_web::middleware::from_fn(limits::body_deadline))
        .wrap(actix_web::middleware::from_fn(throttle::limit_addresses))
        .wrap(actix_web::middleware::from_fn(ops::observe))
        .configure(|cfg| ops::config(cfg, public_metrics));
    for dialect in dialects {
        app = app.configure(|cfg| (dialect.mount)(cfg, &state));
    }
    app.configure(files::config)
        .configure(|cfg| openapi::config(cfg, dialects))
        .default_service(web::to(not_found))
}

/// The operators' application for `metrics.bind`: `/metrics`, `/healthz`
/// and `/readyz`, nothing else.
pub fn ops_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::new(state))
        .configure(|cfg| ops::config(cfg, true))
        .default_service(web::to(not_found))
}

/// A path no dialect and no operator route has: each dialect answers its own
/// unknown paths in its envelope, so this one belongs to none.
async fn not_found() -> HttpResponse {
    let mut res = HttpResponse::NotFound().json(serde_json::json!({
        "error": "not_found",
        "message": "no such endpoint",
    }));
    ops::mark(&mut res, "none", 404);
    res
}

/// Starts serving `app` on an already bound listener (port 0 in tests).
///
/// The server does not react to signals: the binary decides when to stop it
/// (gracefully, within `http.shutdown_timeout_secs`) through its handle.
///
/// # Errors
/// When the listener cannot be used.
pub fn serve(
    listener: std::net::TcpListener,
    state: AppState,
) -> std::io::Result<actix_web::dev::Server> {
    let http = state.settings().http.clone();
    let workers = match http.workers {
        0 => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        n => n,
    };
    let head = Duration::from_secs(http.request_head_timeout_secs);
    let server = actix_web::HttpServer::new(move || app(state.clone()))
        .disable_signals()
        .workers(workers)
        .shutdown_timeout(http.shutdown_timeout_secs)
        .client_request_timeout(head)
        .keep_alive(head)
        // actix counts connections per worker.
        .max_connections(http.max_connections.div_ceil(workers))
        .listen(listener)?;
    Ok(server.run())
}

/// Starts serving [`ops_app`] on its own listener (`metrics.bind`), with one
/// worker.
///
/// # Errors
/// When the listener cannot be used.
pub fn serve_ops(
    listener: std::net::TcpListener,
    state: AppState,
) -> std::io::Result<actix_web::dev::Server> {
    Ok(actix_web::HttpServer::new(move || ops_app(state.clone()))
        .disable_signals()
        .workers(1)
        .listen(listener)?
        .run())
}
