//! The typed configuration, loaded once by the binary (defaults, then an optional
//! TOML file, then `COLLOQ_*` environment variables, then flags) and passed down.
//! Tests build it in code. Every field documents its environment variable.

use serde::{Deserialize, Serialize};

/// All of colloq's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Storage.
    pub database: DatabaseSettings,
    /// The HTTP server.
    pub http: HttpSettings,
    /// Sessions.
    pub auth: AuthSettings,
    /// The AnQiCMS dialect.
    pub anqicms: AnqicmsSettings,
    /// The Fresns dialect.
    pub fresns: FresnsSettings,
    /// Uploaded files.
    pub files: colloq_storage::FileSettings,
    /// Logging.
    pub log: LogSettings,
    /// The Prometheus endpoint.
    pub metrics: MetricsSettings,
    /// Rate limits.
    pub limits: LimitsSettings,
    /// Live delivery: event streams and the bus between nodes.
    pub events: EventsSettings,
}

impl Settings {
    /// Checks what can be checked without connecting to anything, so a bad
    /// value stops the process before it binds, with a message naming the
    /// setting.
    ///
    /// # Errors
    /// A message for the operator naming the first bad setting.
    pub fn validate(&self) -> Result<(), String> {
        fn positive(name: &str, ok: bool) -> Result<(), String> {
            if ok {
                Ok(())
            } else {
                Err(format!("{name} must be greater than 0"))
            }
        }
        positive("database.pool_size", self.database.pool_size > 0)?;
        positive(
            "database.checkout_timeout_secs",
            self.database.checkout_timeout_secs > 0,
        )?;
        positive("http.max_body_bytes", self.http.max_body_bytes > 0)?;
        positive("auth.token_ttl_secs", self.auth.token_ttl_secs > 0)?;
        let http = &self.http;
        positive(
            "http.request_head_timeout_secs",
            http.request_head_timeout_secs > 0,
        )?;
        positive(
            "http.body_idle_timeout_secs",
            http.body_idle_timeout_secs > 0,
        )?;
        positive("http.body_timeout_secs", http.body_timeout_secs > 0)?;
        positive("http.max_connections", http.max_connections > 0)?;
        if self.auth.renew_within_secs < 0 {
            return Err("auth.renew_within_secs must not be negative".to_owned());
        }
        socket_address("http.bind", &self.http.bind)?;
        if let Some(bind) = &self.metrics.bind {
            socket_address("metrics.bind", bind)?;
            if *bind == self.http.bind {
                return Err(
                    "metrics.bind must differ from http.bind (set metrics.public to serve \
                     /metrics on http.bind)"
                        .to_owned(),
                );
            }
        }
        if self.log.filter.trim().is_empty() {
            return Err("log.filter (COLLOQ_LOG) is empty: give a level such as info".to_owned());
        }
        if let Some(bad) = self
            .http
            .trusted_proxies
            .iter()
            .find(|p| crate::throttle::parse_network(p).is_none())
        {
            return Err(format!(
                "http.trusted_proxies names `{bad}`: expected an IP address or a network such as 10.0.0.0/8"
            ));
        }
        self.events.validate()?;
        self.fresns.validate()
    }
}

/// Which bus carries "a feed has news" between the streams of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bus {
    /// Within this process only: one node (the only choice on SQLite).
    Local,
    /// Between every node of the deployment, through a NATS server.
    Nats,
}

/// Live delivery (docs/realtime.md, docs/operations.md "Several nodes").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsSettings {
    /// `COLLOQ_EVENTS__BUS`: `local` (default) or `nats`.
    pub bus: Bus,
    /// `COLLOQ_EVENTS__NATS_URL`: the NATS server(s) for `bus = "nats"`, comma
    /// separated. Default `nats://127.0.0.1:4222`.
    pub nats_url: String,
    /// `COLLOQ_EVENTS__DEPLOYMENT`: the name that prefixes every NATS subject,
    /// so deployments sharing a NATS server never hear each other. Letters,
    /// digits, `-` and `_`. Default `colloq`.
    pub deployment: String,
    /// `COLLOQ_EVENTS__HEARTBEAT_SECS`: how often an idle stream is sent a
    /// heartbeat (and re-checks its session). Default 25; at most 30.
    pub heartbeat_secs: u64,
    /// `COLLOQ_EVENTS__TICKET_TTL_SECS`: how long a stream ticket may wait to
    /// be used. Default 60.
    pub ticket_ttl_secs: i64,
    /// `COLLOQ_EVENTS__QUEUE`: events waiting for one stream's client to read
    /// them. Default 64.
    pub queue: usize,
    /// `COLLOQ_EVENTS__SLOW_CLIENT_SECS`: a client that leaves its queue full
    /// this long is disconnected (it resumes where it was). Default 10.
    pub slow_client_secs: u64,
}

impl Default for EventsSettings {
    fn default() -> Self {
        Self {
            bus: Bus::Local,
            nats_url: "nats://127.0.0.1:4222".to_owned(),
            deployment: "colloq".to_owned(),
            heartbeat_secs: 25,
            ticket_ttl_secs: 60,
            queue: 64,
            slow_client_secs: 10,
        }
    }
}

impl EventsSettings {
    fn validate(&self) -> Result<(), String> {
        if !(1..=30).contains(&self.heartbeat_secs) {
            return Err("events.heartbeat_secs must be between 1 and 30".to_owned());
        }
        if self.ticket_ttl_secs <= 0 || self.queue == 0 || self.slow_client_secs == 0 {
            return Err(
                "events.ticket_ttl_secs, events.queue and events.slow_client_secs must be greater than 0"
                    .to_owned(),
            );
        }
        let name_ok = !self.deployment.is_empty()
            && self
                .deployment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            return Err(format!(
                "events.deployment is `{}`: use letters, digits, - and _ only (it names NATS subjects)",
                self.deployment
            ));
        }
        Ok(())
    }
}

/// A listen address: `host:port`, where host is an IP address or a name.
fn socket_address(name: &str, value: &str) -> Result<(), String> {
    let port = value
        .rsplit_once(':')
        .and_then(|(host, port)| (!host.is_empty()).then_some(port))
        .and_then(|port| port.parse::<u16>().ok());
    match port {
        Some(_) => Ok(()),
        None => Err(format!(
            "{name} is `{value}`: expected HOST:PORT, e.g. 127.0.0.1:8080 or [::]:8080"
        )),
    }
}

/// Logging settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `COLLOQ_LOG`: which events are logged, as a `tracing` filter: a level
    /// (`error`, `warn`, `info`, `debug`, `trace`) or directives such as
    /// `info,colloq::request=warn`. Default `info`, which logs one line per
    /// request.
    pub filter: String,
    /// `COLLOQ_LOG_FORMAT`: `text` (for people; coloured only on a terminal)
    /// or `json` (one object per line, for log collectors). Default `text`.
    pub format: LogFormat,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            filter: "info".to_owned(),
            format: LogFormat::Text,
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Rate limits (see docs/operations.md for why these defaults). 0 turns a
/// limit off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSettings {
    /// `COLLOQ_LIMITS__REQUESTS_PER_ADDRESS_PER_SECOND`: requests from one
    /// client address; twice as many may come at once. Default 200.
    pub requests_per_address_per_second: u32,
    /// `COLLOQ_LIMITS__LOGINS_PER_ADDRESS_PER_MINUTE`: login attempts from one
    /// address, every door of both dialects together. Default 30.
    pub logins_per_address_per_minute: u32,
    /// `COLLOQ_LIMITS__LOGINS_PER_ACCOUNT_PER_MINUTE`: password checks of one
    /// account, every door together, whatever the address. Default 10.
    pub logins_per_account_per_minute: u32,
    /// `COLLOQ_LIMITS__REGISTRATIONS_PER_ADDRESS_PER_HOUR`: new accounts from
    /// one address. Default 20.
    pub registrations_per_address_per_hour: u32,
    /// `COLLOQ_LIMITS__SENDS_PER_USER_PER_SECOND`: messages one user sends,
    /// in both dialects together; twice as many may come at once. Default 10.
    pub sends_per_user_per_second: u32,
}

impl Default for LimitsSettings {
    fn default() -> Self {
        Self {
            requests_per_address_per_second: 200,
            logins_per_address_per_minute: 30,
            logins_per_account_per_minute: 10,
            registrations_per_address_per_hour: 20,
            sends_per_user_per_second: 10,
        }
    }
}

impl LimitsSettings {
    /// No limits: for tools and for tests that are not about them.
    pub fn off() -> Self {
        Self {
            requests_per_address_per_second: 0,
            logins_per_address_per_minute: 0,
            logins_per_account_per_minute: 0,
            registrations_per_address_per_hour: 0,
            sends_per_user_per_second: 0,
        }
    }
}

/// The Prometheus endpoint, `GET /metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// `COLLOQ_METRICS__BIND`: an address of its own to serve `/metrics`
    /// (with `/healthz` and `/readyz`) on, e.g. `127.0.0.1:9090`. Default:
    /// none.
    pub bind: Option<String>,
    /// `COLLOQ_METRICS__PUBLIC`: also serve `/metrics` on `http.bind`, where
    /// every client can read it. Default false.
    pub public: bool,
}

/// Storage settings.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `COLLOQ_DATABASE_URL`: a `postgres://` URL selects PostgreSQL; anything else
    /// is an SQLite file (`sqlite://path` or a plain path). Default: `colloq.db` in
    /// the working directory.
    pub url: String,
    /// `COLLOQ_DATABASE__POOL_SIZE`: connections in the pool. Default 16.
    pub pool_size: u32,
    /// `COLLOQ_DATABASE__CHECKOUT_TIMEOUT_SECS`: how long a request waits for a
    /// connection before failing. Default 10.
    pub checkout_timeout_secs: u64,
    /// `COLLOQ_DATABASE__PG_SCHEMA`: a PostgreSQL schema to keep colloq's tables in
    /// (it must exist). Default: none (the server's `search_path`).
    pub pg_schema: Option<String>,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "colloq.db".to_owned(),
            pool_size: 16,
            checkout_timeout_secs: 10,
            pg_schema: None,
        }
    }
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A database URL may carry a password: show only its scheme.
        let scheme = self.url.split_once("://").map_or("file", |(s, _)| s);
        f.debug_struct("DatabaseSettings")
            .field("url", &format_args!("{scheme}://…"))
            .field("pool_size", &self.pool_size)
            .field("checkout_timeout_secs", &self.checkout_timeout_secs)
            .field("pg_schema", &self.pg_schema)
            .finish()
    }
}

/// HTTP server settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    /// `COLLOQ_BIND`: the address to listen on. Default `127.0.0.1:8080`.
    pub bind: String,
    /// `COLLOQ_HTTP__WORKERS`: async worker threads; 0 means one per core.
    pub workers: usize,
    /// `COLLOQ_HTTP__MAX_BODY_BYTES`: the largest request body accepted. Default 256 KiB.
    pub max_body_bytes: usize,
    /// `COLLOQ_HTTP__SHUTDOWN_TIMEOUT_SECS`: on SIGINT or SIGTERM, how long
    /// requests in flight may take to finish before their connections are
    /// closed. Default 30.
    pub shutdown_timeout_secs: u64,
    /// `COLLOQ_HTTP__REQUEST_HEAD_TIMEOUT_SECS`: how long a connection may
    /// take to send a request's head (line and headers); then it gets 408
    /// and is closed. Also how long an idle kept-alive connection stays
    /// open. Default 5.
    pub request_head_timeout_secs: u64,
    /// `COLLOQ_HTTP__BODY_IDLE_TIMEOUT_SECS`: how long a request body may
    /// go without a byte arriving; then the answer is 408. Default 10.
    pub body_idle_timeout_secs: u64,
    /// `COLLOQ_HTTP__BODY_TIMEOUT_SECS`: how long a whole request body may
    /// take, an upload included (the largest upload at 1 Mbit/s fits).
    /// Default 300.
    pub body_timeout_secs: u64,
    /// `COLLOQ_HTTP__MAX_CONNECTIONS`: open connections the server holds at
    /// most; more wait in the listen backlog. Capped at start by what the
    /// process's open-file limit allows. Default 10000.
    pub max_connections: usize,
    /// `http.trusted_proxies` (TOML list; `COLLOQ_HTTP__TRUSTED_PROXIES` as
    /// `[a, b]`): addresses or networks (`10.0.0.0/8`) of reverse proxies
    /// whose `X-Forwarded-For` names the client. From anyone else the
    /// socket's address is the client's. Default: none.
    pub trusted_proxies: Vec<String>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".to_owned(),
            workers: 0,
            max_body_bytes: 256 * 1024,
            shutdown_timeout_secs: 30,
            request_head_timeout_secs: 5,
            body_idle_timeout_secs: 10,
            body_timeout_secs: 300,
            max_connections: 10_000,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Session settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// `COLLOQ_AUTH__TOKEN_TTL_SECS`: how long a token lives. Default 30 days.
    pub token_ttl_secs: i64,
    /// `COLLOQ_AUTH__RENEW_WITHIN_SECS`: when a used token has less than this left,
    /// a fresh one comes back in `Update-Token`. Default 1 hour.
    pub renew_within_secs: i64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            token_ttl_secs: 30 * 24 * 3600,
            renew_within_secs: 3600,
        }
    }
}

impl AuthSettings {
    /// The token lifetime.
    pub fn token_ttl(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.token_ttl_secs)
    }

    /// The renewal window.
    pub fn renew_within(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.renew_within_secs)
    }
}

pub use crate::anqicms::{AnqicmsSettings, OrderField};
pub use crate::fresns::{FresnsSettings, SignatureZone};

#[cfg(test)]
mod tests {
    use super::Settings;

    fn refused(change: impl FnOnce(&mut Settings)) -> String {
        let mut settings = Settings::default();
        change(&mut settings);
        settings.validate().err().unwrap_or_default()
    }

    #[test]
    fn the_defaults_are_valid_and_bad_values_are_named() {
        assert_eq!(Settings::default().validate(), Ok(()));
        assert!(refused(|s| s.database.pool_size = 0).contains("database.pool_size"));
        assert!(refused(|s| s.http.bind = "localhost".to_owned()).contains("http.bind"));
        assert!(refused(|s| s.http.bind = "127.0.0.1:99999".to_owned()).contains("HOST:PORT"));
        assert!(refused(|s| s.auth.renew_within_secs = -1).contains("auth.renew_within_secs"));
        assert!(refused(|s| s.log.filter = " ".to_owned()).contains("log.filter"));
        let same = refused(|s| s.metrics.bind = Some(s.http.bind.clone()));
        assert!(same.contains("metrics.bind"), "{same}");
        let kinds = refused(|s| s.fresns.conversation_files = vec!["picture".to_owned()]);
        assert!(kinds.contains("fresns.conversation_files"), "{kinds}");
        let mut ipv6 = Settings::default();
        ipv6.http.bind = "[::]:8080".to_owned();
        assert_eq!(ipv6.validate(), Ok(()));
    }
}
