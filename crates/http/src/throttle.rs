//! Limits per client address: every request, login attempts at every door of
//! every dialect, and registrations (`limits.*`). The budgets that follow an
//! account or a user whatever the address (password checks, sends) are
//! `colloq_core::throttle`'s. A client over a limit gets HTTP 429 with
//! `Retry-After` in its dialect's envelope: each dialect declares its doors
//! and its refusal ([`DialectDoors`]) when it is mounted.
//!
//! The client's address is the socket's, or, when the socket's is one of
//! `http.trusted_proxies`, the last address in `X-Forwarded-For` that is not a
//! trusted proxy itself (the one the nearest proxy saw): anything further
//! left was written by the client and proves nothing.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::Payload;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, HttpResponse, web};
use colloq_core::accounts::Origin;
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;

use crate::AppState;
use crate::settings::{HttpSettings, LimitsSettings};

/// An address or a network, as `http.trusted_proxies` lists them.
pub(crate) fn parse_network(raw: &str) -> Option<IpNet> {
    let raw = raw.trim();
    raw.parse::<IpNet>()
        .ok()
        .or_else(|| raw.parse::<IpAddr>().ok().map(IpNet::from))
}

type Limiter = DefaultKeyedRateLimiter<IpAddr>;

fn limiter(per: Duration, count: u32, burst: u32) -> Option<Limiter> {
    let count = NonZeroU32::new(count)?;
    let burst = NonZeroU32::new(burst).unwrap_or(count);
    let quota = Quota::with_period(per / count.get())?.allow_burst(burst);
    Some(RateLimiter::keyed(quota))
}

/// The per-address limits of one server.
#[derive(Debug)]
pub(crate) struct AddressLimits {
    requests: Option<Limiter>,
    logins: Option<Limiter>,
    registrations: Option<Limiter>,
    trusted: Vec<IpNet>,
    checks: AtomicU64,
}

/// Checks between two sweeps of addresses whose budgets are full again.
const SWEEP_EVERY: u64 = 1 << 14;

impl AddressLimits {
    pub(crate) fn new(limits: &LimitsSettings, http: &HttpSettings) -> Self {
        let second = Duration::from_secs(1);
        let rps = limits.requests_per_address_per_second;
        Self {
            requests: limiter(second, rps, rps.saturating_mul(2)),
            logins: limiter(
                second * 60,
                limits.logins_per_address_per_minute,
                limits.logins_per_address_per_minute,
            ),
            registrations: limiter(
                second * 3600,
                limits.registrations_per_address_per_hour,
                limits.registrations_per_address_per_hour,
            ),
            trusted: http
                .trusted_proxies
                .iter()
                .filter_map(|p| parse_network(p))
                .collect(),
            checks: AtomicU64::new(0),
        }
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    /// The client's address (see the module's docs).
    pub(crate) fn client(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        if !self.trusts(peer) {
            return Some(peer);
        }
        let forwarded: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for hop in forwarded.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) if self.trusts(ip) => {}
                Ok(ip) => return Some(ip),
                // Garbage in the chain: trust nothing further left.
                Err(_) => return Some(peer),
            }
        }
        Some(peer)
    }

    /// How long `client` must wait before this request is allowed, if at all.
    fn wait(&self, client: IpAddr, door: Door) -> Option<Duration> {
        let budgets = [
            self.requests.as_ref(),
            matches!(door, Door::Login)
                .then_some(self.logins.as_ref())
                .flatten(),
            matches!(door, Door::Register)
                .then_some(self.registrations.as_ref())
                .flatten(),
        ];
        budgets.into_iter().flatten().find_map(|limiter| {
            limiter
                .check_key(&client)
                .err()
                .map(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
        })
    }

    fn sweep(&self, state: &AppState) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY != SWEEP_EVERY - 1 {
            return;
        }
        for limiter in [&self.requests, &self.logins, &self.registrations]
            .into_iter()
            .flatten()
        {
            limiter.retain_recent();
        }
        state.throttle().forget_idle();
    }
}

/// Where a login attempt comes from, for the five-failure lock.
#[derive(Debug, Clone)]
pub(crate) struct LoginOrigin(pub(crate) Origin);

impl FromRequest for LoginOrigin {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let address = req.extensions().get::<ClientAddress>().map(|a| a.0);
        std::future::ready(Ok(Self(Origin::of(address))))
    }
}

/// The client's address, as [`limit_addresses`] worked it out for the request.
#[derive(Debug, Clone, Copy)]
struct ClientAddress(IpAddr);

/// Which budget a request spends besides the general one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Door {
    Login,
    Register,
    Other,
}

/// How one dialect's paths meet the address limits: its login and
/// registration doors, and how it answers a client over a limit. Each
/// dialect declares its own when it is mounted, so the limits know no
/// dialect by name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DialectDoors {
    /// The paths it answers start with this.
    pub(crate) prefix: &'static str,
    /// `POST` paths that check a password.
    pub(crate) logins: &'static [&'static str],
    /// `POST` paths that create an account.
    pub(crate) registrations: &'static [&'static str],
    /// A 429 in the dialect's envelope, waiting this long.
    pub(crate) refuse: fn(&HttpRequest, Duration) -> HttpResponse,
}

/// The dialects' doors, longest prefix first.
#[derive(Debug, Default)]
pub(crate) struct Doors(std::sync::RwLock<Vec<DialectDoors>>);

impl Doors {
    /// Adds a dialect's doors (once, however many workers mount it).
    pub(crate) fn declare(&self, doors: DialectDoors) {
        let mut all = self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !all.iter().any(|d| d.prefix == doors.prefix) {
            all.push(doors);
            all.sort_by_key(|d| std::cmp::Reverse(d.prefix.len()));
        }
    }

    /// The dialect `path` belongs to.
    fn of(&self, path: &str) -> Option<DialectDoors> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .find(|d| path.starts_with(d.prefix))
            .copied()
    }
}

fn door(dialect: Option<&DialectDoors>, method: &Method, path: &str) -> Door {
    match dialect {
        Some(d) if method == Method::POST && d.logins.contains(&path) => Door::Login,
        Some(d) if method == Method::POST && d.registrations.contains(&path) => Door::Register,
        _ => Door::Other,
    }
}

/// Refuses a request over its address's limits with 429 in the envelope of
/// the dialect its path belongs to. Health checks and metrics are exempt: a
/// load balancer asks from one address.
pub(crate) async fn limit_addresses(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let limits = state.address_limits();
    limits.sweep(&state);
    let client = limits.client(req.request());
    if let Some(client) = client {
        // Handlers that need it (`LoginOrigin`) read it from here.
        req.extensions_mut().insert(ClientAddress(client));
    }
    let refusal = client.and_then(|client| {
        let path = req.path();
        if matches!(path, "/healthz" | "/readyz" | "/metrics") {
            return None;
        }
        let dialect = req
            .app_data::<web::Data<Doors>>()
            .and_then(|doors| doors.of(path));
        let wait = limits.wait(client, door(dialect.as_ref(), req.method(), path))?;
        metrics::counter!("colloq_rate_limited_total", "budget" => "address").increment(1);
        Some(match dialect {
            Some(d) => (d.refuse)(req.request(), wait),
            None => refuse(wait),
        })
    });
    match refusal {
        Some(res) => Ok(req.into_response(res).map_into_right_body()),
        None => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
    }
}

/// A 429 for a path outside every dialect (files, the API documents).
fn refuse(wait: Duration) -> HttpResponse {
    let secs = crate::retry_after_secs(wait);
    let mut res = HttpResponse::TooManyRequests()
        .insert_header((actix_web::http::header::RETRY_AFTER, secs))
        .json(serde_json::json!({
            "error": "too_many_requests",
            "message": format!("too many requests, please try again in {secs} s"),
        }));
    crate::ops::mark(&mut res, "none", 429);
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn limits(trusted: &[&str]) -> AddressLimits {
        let http = HttpSettings {
            trusted_proxies: trusted.iter().map(|t| (*t).to_owned()).collect(),
            ..HttpSettings::default()
        };
        AddressLimits::new(&LimitsSettings::default(), &http)
    }

    fn from(peer: &str, forwarded: Option<&str>) -> HttpRequest {
        let mut req =
            TestRequest::default().peer_addr(peer.parse().unwrap_or_else(|e| panic!("{e}")));
        if let Some(f) = forwarded {
            req = req.insert_header(("X-Forwarded-For", f));
        }
        req.to_http_request()
    }

    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        let open = limits(&[]);
        assert_eq!(
            open.client(&from("203.0.113.7:1", Some("1.2.3.4"))),
            ip("203.0.113.7")
        );
        let proxied = limits(&["10.0.0.0/8", "192.0.2.1"]);
        assert_eq!(
            proxied.client(&from(
                "10.1.2.3:1",
                Some("6.6.6.6, 198.51.100.9, 192.0.2.1")
            )),
            ip("198.51.100.9")
        );
        assert_eq!(proxied.client(&from("10.1.2.3:1", None)), ip("10.1.2.3"));
        assert_eq!(
            proxied.client(&from("10.1.2.3:1", Some("nonsense, 10.9.9.9"))),
            ip("10.1.2.3")
        );
        assert!(parse_network("10.0.0.0/8").is_some() && parse_network("::1").is_some());
        assert!(parse_network("example.com").is_none());
    }

    #[test]
    fn login_doors_share_one_budget_per_address() {
        let l = limits(&[]);
        let client = "198.51.100.1".parse().unwrap_or_else(|e| panic!("{e}"));
        let doors = DialectDoors {
            prefix: "/x/",
            logins: &["/x/login", "/x/staff/login"],
            registrations: &["/x/register"],
            refuse: |_, _| HttpResponse::TooManyRequests().finish(),
        };
        let login = |path| door(Some(&doors), &Method::POST, path);
        let mut allowed = 0;
        for path in ["/x/login", "/x/staff/login"].repeat(20) {
            if l.wait(client, login(path)).is_none() {
                allowed += 1;
            }
        }
        assert_eq!(
            allowed,
            LimitsSettings::default().logins_per_address_per_minute
        );
        assert_eq!(door(Some(&doors), &Method::GET, "/x/login"), Door::Other);
        assert_eq!(login("/x/register"), Door::Register);
        assert_eq!(door(None, &Method::POST, "/x/login"), Door::Other);
    }
}
