//! What operators use, outside both dialects: one log line and one set of
//! metrics per request, `/healthz`, `/readyz` and `/metrics`.
//!
//! The request log and the metrics are written by one middleware around the
//! whole application. It reads what the dialects put in a response's
//! extensions ([`Answered`]): which dialect answered and its envelope's
//! `code`, which the status alone does not tell (both dialects answer most
//! client errors with HTTP 200).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde_json::json;

use crate::AppState;

/// Which dialect answered a request, and its envelope's `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Answered {
    pub(crate) dialect: &'static str,
    pub(crate) code: i32,
}

/// Records on `res` that `dialect` answered with `code`.
pub(crate) fn mark(res: &mut HttpResponse, dialect: &'static str, code: i32) {
    res.extensions_mut().insert(Answered { dialect, code });
}

/// The request id header, taken from the request (a proxy's) or made here.
static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The label of requests no route matched: one value, so scanners cannot
/// grow the metrics' label set.
const UNMATCHED: &str = "unmatched";

/// The request-duration histogram's buckets, in seconds: from a cached page
/// (about a millisecond) to a large upload.
const DURATION_BUCKETS: &[f64] = &[
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Installs the process's Prometheus recorder; the `metrics` calls of every
/// crate report to it from then on.
///
/// # Errors
/// When a recorder is installed already.
pub fn install_metrics() -> Result<PrometheusHandle, String> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("colloq_http_request_duration_seconds".to_owned()),
            DURATION_BUCKETS,
        )
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Full("colloq_db_pool_checkout_wait_seconds".to_owned()),
                DURATION_BUCKETS,
            )
        })
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Full("colloq_sqlite_writer_batch_size".to_owned()),
                &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0],
            )
        })
        .and_then(PrometheusBuilder::install_recorder)
        .map_err(|e| format!("installing the metrics recorder: {e}"))?;
    // Histograms keep their samples until an upkeep folds them into buckets;
    // without scrapes they would grow for ever, so upkeep runs on its own.
    let upkeep = handle.clone();
    std::thread::Builder::new()
        .name("colloq-metrics".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(5));
                upkeep.run_upkeep();
            }
        })
        .map_err(|e| format!("starting the metrics upkeep thread: {e}"))?;
    Ok(handle)
}

/// A request id made here: a random prefix per process and a counter, so ids
/// are unique across restarts and nodes without a random draw per request.
fn next_request_id() -> String {
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| {
        let mut bytes = [0_u8; 6];
        // Without randomness the process id still tells processes apart.
        if getrandom::fill(&mut bytes).is_err() {
            return format!("{:012x}", std::process::id());
        }
        hex::encode(bytes)
    });
    format!("{prefix}-{:x}", COUNTER.fetch_add(1, Ordering::Relaxed) + 1)
}

/// A request id the client or a proxy sent, when it is short and printable
/// (it goes into logs and back into a header).
fn given_request_id(headers: &HeaderMap) -> Option<HeaderValue> {
    let value = headers.get(&REQUEST_ID)?;
    let fine = !value.is_empty()
        && value.len() <= 128
        && value.as_bytes().iter().all(|b| b.is_ascii_graphic());
    fine.then(|| value.clone())
}

/// Logs and counts every request; echoes or adds `X-Request-Id`.
pub(crate) async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = given_request_id(req.headers()).unwrap_or_else(|| {
        HeaderValue::from_str(&next_request_id()).unwrap_or(HeaderValue::from_static("-"))
    });
    let method = req.method().clone();
    let in_flight = InFlight::start();
    let result = next.call(req).await;
    drop(in_flight);
    let elapsed = started.elapsed();
    let (status, route, answered) = match &result {
        Ok(res) => (
            res.status(),
            res.request().match_pattern(),
            res.response().extensions().get::<Answered>().copied(),
        ),
        Err(err) => (err.as_response_error().status_code(), None, None),
    };
    record(&method, route, status, answered, elapsed, &id);
    result.map(|mut res| {
        res.headers_mut().insert(REQUEST_ID.clone(), id);
        res
    })
}

/// Counts a request in `colloq_http_requests_in_flight` while its handler
/// runs; dropping it (also when the client goes away) counts it out.
struct InFlight;

impl InFlight {
    fn start() -> Self {
        metrics::gauge!("colloq_http_requests_in_flight").increment(1.0);
        Self
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!("colloq_http_requests_in_flight").decrement(1.0);
    }
}

fn record(
    method: &actix_web::http::Method,
    route: Option<String>,
    status: StatusCode,
    answered: Option<Answered>,
    elapsed: Duration,
    id: &HeaderValue,
) {
    let route = route.unwrap_or_else(|| UNMATCHED.to_owned());
    let dialect = answered.map_or("none", |a| a.dialect);
    let code = answered.map_or_else(|| "-".to_owned(), |a| a.code.to_string());
    // Never the path's query, headers or body: they carry tokens.
    tracing::info!(
        target: "colloq::request",
        request_id = id.to_str().unwrap_or("-"),
        method = %method,
        route = %route,
        status = status.as_u16(),
        dialect,
        code = %code,
        duration_ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3,
        "request"
    );
    metrics::histogram!(
        "colloq_http_request_duration_seconds",
        "dialect" => dialect,
        "route" => route.clone(),
    )
    .record(elapsed.as_secs_f64());
    metrics::counter!(
        "colloq_http_requests_total",
        "dialect" => dialect,
        "route" => route,
        "status" => status.as_u16().to_string(),
        "code" => code,
    )
    .increment(1);
}

/// Mounts `/healthz` and `/readyz`, and `/metrics` when `metrics` is set.
pub(crate) fn config(cfg: &mut web::ServiceConfig, metrics: bool) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
    if metrics {
        cfg.route("/metrics", web::get().to(render_metrics));
    }
}

/// The process answers.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// How long a readiness probe waits for each check.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// The database answers a query, the SQLite writer commits, and files can be
/// stored. The body names each check; causes go to the log, never the body.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let (database, writer, storage) = futures_util::join!(
        check("database", state.check_database()),
        check("writer", state.check_writer()),
        check("storage", state.check_storage()),
    );
    let checks = [
        ("database", database),
        ("writer", writer),
        ("storage", storage),
    ];
    let failed: Vec<&str> = checks
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(name, _)| *name)
        .collect();
    let body = json!({
        "status": if failed.is_empty() { "ok" } else { "unavailable" },
        "checks": checks
            .iter()
            .map(|(name, ok)| ((*name).to_owned(), json!(if *ok { "ok" } else { "failed" })))
            .collect::<serde_json::Map<_, _>>(),
        "failed": failed,
    });
    if failed.is_empty() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn check(name: &'static str, probe: impl Future<Output = Result<(), String>>) -> bool {
    match actix_web::rt::time::timeout(CHECK_TIMEOUT, probe).await {
        Ok(Ok(())) => true,
        Ok(Err(why)) => {
            tracing::warn!(check = name, error = %why, "readiness check failed");
            false
        }
        Err(_elapsed) => {
            tracing::warn!(check = name, "readiness check timed out");
            false
        }
    }
}

/// The Prometheus text: what every crate recorded, and the pool's state now.
async fn render_metrics(state: web::Data<AppState>) -> HttpResponse {
    let Some(handle) = state.metrics() else {
        return HttpResponse::NotFound().json(json!({"status": "no metrics recorder"}));
    };
    let pool = state.pool_state();
    metrics::gauge!("colloq_db_pool_connections", "state" => "in_use")
        .set(f64::from(pool.connections - pool.idle_connections));
    metrics::gauge!("colloq_db_pool_connections", "state" => "idle")
        .set(f64::from(pool.idle_connections));
    handle.run_upkeep();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderMap, HeaderValue};

    use super::{REQUEST_ID, given_request_id, next_request_id};

    #[test]
    fn request_ids_are_taken_when_printable_and_short() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID.clone(), HeaderValue::from_static("abc-123"));
        assert_eq!(
            given_request_id(&headers),
            Some(HeaderValue::from_static("abc-123"))
        );
        headers.insert(REQUEST_ID.clone(), HeaderValue::from_static("a b"));
        assert_eq!(given_request_id(&headers), None);
        let long = "x".repeat(129);
        headers.insert(
            REQUEST_ID.clone(),
            HeaderValue::from_str(&long).unwrap_or(HeaderValue::from_static("")),
        );
        assert_eq!(given_request_id(&headers), None);
    }

    #[test]
    fn made_request_ids_differ() {
        assert_ne!(next_request_id(), next_request_id());
    }
}
