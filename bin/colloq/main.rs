//! `colloq`: the server binary. It parses the command line and configuration and
//! wires the crates together; everything it runs lives in the libraries.

mod cli;
mod config;
mod logging;
mod seed;

use std::io::Write;
use std::time::Duration;

use anyhow_free::Failure;
use clap::Parser;
use colloq_core::{Clock, accounts};
use colloq_domain::user::{Email, NewUser, Phone, PlainPassword, Username};
use colloq_http::{AppState, Settings};
use colloq_persistence::{DbManager, DbPool, PoolOptions, Writer, build_pool};

use cli::{AppKeyCommand, Cli, Command, UserCommand};

// jemalloc rather than glibc's malloc. A request allocates on an async worker
// and frees on a blocking thread, or the other way round, and glibc grows one
// arena per thread for that, so the server used more memory and more time in
// allocation (figures in docs/benchmarks.md, "Profiles behind the code").
// mimalloc was as fast but used more memory with the blocking pool's threads.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // Settings first: they say how to log. A failure to read them is logged
    // with the defaults.
    let settings = match config::load(&cli) {
        Ok(settings) => settings,
        Err(err) => {
            let _ = logging::init(&colloq_http::settings::LogSettings::default());
            tracing::error!("{err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if let Err(err) = logging::init(&settings.log) {
        let _ = logging::init(&colloq_http::settings::LogSettings::default());
        tracing::error!("{err}");
        return std::process::ExitCode::FAILURE;
    }
    match run(cli.command, settings) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(command: Option<Command>, settings: Settings) -> Result<(), Failure> {
    match command.unwrap_or(Command::Serve(cli::ServeArgs::default())) {
        Command::Serve(_) => serve(settings),
        Command::Migrate => {
            pool(&settings)?;
            tracing::info!("database migrated");
            Ok(())
        }
        Command::User {
            command: UserCommand::Create(args),
        } => create_user(&settings, args),
        Command::AppKey {
            command: AppKeyCommand::Create(args),
        } => create_app_key(&settings, args),
        Command::Seed(args) => seed::run(&pool(&settings)?, &args),
        Command::GcFiles(args) => gc_files(&settings, &args),
    }
}

fn manager(settings: &Settings) -> Result<DbManager, Failure> {
    let db = &settings.database;
    Ok(DbManager::new(&db.url, db.pg_schema.clone())?)
}

fn pool(settings: &Settings) -> Result<DbPool, Failure> {
    let db = &settings.database;
    let manager = manager(settings)?;
    let options = PoolOptions {
        max_size: db.pool_size,
        checkout_timeout: Duration::from_secs(db.checkout_timeout_secs),
    };
    Ok(build_pool(manager, options)?)
}

fn listen(address: &str, setting: &str) -> Result<std::net::TcpListener, Failure> {
    std::net::TcpListener::bind(address)
        .map_err(|e| Failure::new(format!("cannot listen on {address} ({setting}): {e}")))
}

/// Everything that can fail is set up before the listeners are bound, so
/// "listening" is the last line of a start that worked.
fn serve(mut settings: Settings) -> Result<(), Failure> {
    open_file_limit(&mut settings.http);
    let pool = pool(&settings)?;
    let clock = Clock::default();
    let mut conn = pool.get().map_err(colloq_persistence::StoreError::from)?;
    let purged = colloq_core::sessions::purge_expired(&mut conn, clock.now())?;
    let keys = colloq_core::idempotency::purge_expired(&mut conn, clock.now())?;
    drop(conn);
    tracing::info!(
        purged,
        idempotency_keys = keys,
        "expired tokens and keys removed"
    );
    let manager = manager(&settings)?;
    if settings.events.bus == colloq_http::settings::Bus::Nats
        && manager.engine() == colloq_persistence::Engine::Sqlite
    {
        return Err(Failure::new(
            "events.bus = \"nats\" needs PostgreSQL: nodes share their database, and an SQLite \
             file belongs to one node (use events.bus = \"local\")"
                .to_owned(),
        ));
    }
    let writer = Writer::start(&manager);
    let recorder = colloq_http::install_metrics().map_err(Failure::new)?;
    let shutdown = Duration::from_secs(settings.http.shutdown_timeout_secs);
    let ops_listener = settings
        .metrics
        .bind
        .as_deref()
        .map(|bind| listen(bind, "metrics.bind"))
        .transpose()?;
    let listener = listen(&settings.http.bind, "http.bind")?;
    let state = AppState::new(pool, writer.clone(), settings, clock)?.with_metrics(recorder);
    actix_web::rt::System::new().block_on(async move {
        let live = colloq_http::Live::start(&state.settings().events)
            .await
            .map_err(std::io::Error::other)?;
        let state = state.with_live(live.clone());
        let server = colloq_http::serve(listener.try_clone()?, state.clone())?;
        let ops = match ops_listener {
            Some(ops_listener) => {
                tracing::info!(address = %ops_listener.local_addr()?, "metrics are served");
                Some(colloq_http::serve_ops(ops_listener, state)?)
            }
            None => None,
        };
        let handles = (
            server.handle(),
            ops.as_ref().map(actix_web::dev::Server::handle),
        );
        actix_web::rt::spawn(async move {
            let signal = shutdown_signal().await;
            tracing::info!(
                signal,
                timeout_secs = shutdown.as_secs(),
                "stopping: no new connections; requests in flight may finish"
            );
            // Open event streams never finish by themselves: each is told to
            // reconnect elsewhere and ends now.
            live.shut_down();
            handles.0.stop(true).await;
            if let Some(ops) = handles.1 {
                ops.stop(true).await;
            }
        });
        tracing::info!(address = %listener.local_addr()?, "colloq is listening");
        // A server starts when first polled, so both are polled together.
        match ops {
            Some(ops) => futures_util::future::try_join(server, ops)
                .await
                .map(|_| ()),
            None => server.await,
        }
    })?;
    // Every request has ended; what the writer still holds is committed
    // before the process exits.
    let flushed = writer.flush(shutdown);
    tracing::info!(writes_flushed = flushed, "colloq stopped");
    Ok(())
}

/// Raises the soft open-file limit to the hard one (a service's soft limit
/// is often 1,024: about a thousand open connections), and keeps
/// `http.max_connections` within it, leaving room for the database pool,
/// uploads and files being served.
fn open_file_limit(http: &mut colloq_http::settings::HttpSettings) {
    const RESERVED: u64 = 256;
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(err) => {
            tracing::warn!(error = %err, "the open-file limit could not be read or raised");
            return;
        }
    };
    let room = usize::try_from(limit.saturating_sub(RESERVED).max(RESERVED)).unwrap_or(usize::MAX);
    if http.max_connections > room {
        tracing::warn!(
            open_files = limit,
            configured = http.max_connections,
            used = room,
            "http.max_connections is more than the open-file limit allows; using less"
        );
        http.max_connections = room;
    }
    tracing::info!(
        open_files = limit,
        max_connections = http.max_connections,
        "connection limits"
    );
}

/// The first SIGINT or SIGTERM: both stop gracefully (actix's own handling
/// makes SIGINT a forced stop, which drops requests in flight).
async fn shutdown_signal() -> &'static str {
    use actix_web::rt::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        tracing::warn!("cannot listen for SIGTERM; only SIGINT stops the server");
        let _ = actix_web::rt::signal::ctrl_c().await;
        return "SIGINT";
    };
    let interrupt = std::pin::pin!(actix_web::rt::signal::ctrl_c());
    let terminate = std::pin::pin!(term.recv());
    match futures_util::future::select(interrupt, terminate).await {
        futures_util::future::Either::Left(_) => "SIGINT",
        futures_util::future::Either::Right(_) => "SIGTERM",
    }
}

fn create_user(settings: &Settings, args: cli::CreateUser) -> Result<(), Failure> {
    let new_user = NewUser {
        username: Username::parse(&args.username)?,
        password: PlainPassword::parse(args.password)?,
        email: args.email.as_deref().map(Email::parse).transpose()?,
        phone: args.phone.as_deref().map(Phone::parse).transpose()?,
        nickname: args.nickname,
        is_staff: args.admin,
    };
    let pool = pool(settings)?;
    let mut conn = pool.get().map_err(colloq_persistence::StoreError::from)?;
    let user = accounts::register(&mut conn, new_user, Clock::default().now())?;
    print_json(&serde_json::json!({
        "id": user.id.get(),
        "uid": user.uid,
        "aid": user.aid,
        "username": user.username,
        "admin": user.is_staff,
    }))
}

fn create_app_key(settings: &Settings, args: cli::CreateAppKey) -> Result<(), Failure> {
    let pool = pool(settings)?;
    let mut conn = pool.get().map_err(colloq_persistence::StoreError::from)?;
    let new = colloq_core::app_keys::NewAppKey {
        platform_id: args.platform_id,
        name: args.name,
        read_only: args.read_only,
        token_ttl_secs: args.token_ttl_secs,
    };
    let key = colloq_core::app_keys::create_app_key(&mut conn, new, Clock::default().now())?;
    print_json(&serde_json::json!({
        "app_id": key.app_id,
        "app_secret": key.app_secret,
        "platform_id": key.platform_id,
        "name": key.name,
        "read_only": key.is_read_only,
    }))
}

/// Deletes unattached uploads older than the grace period, then unreferenced
/// contents; prints `{"uploads_removed", "contents_removed"}`.
fn gc_files(settings: &Settings, args: &cli::GcFilesArgs) -> Result<(), Failure> {
    let pool = pool(settings)?;
    let store = colloq_storage::BlobStore::from_settings(&settings.files)?;
    let grace = args.grace_hours.unwrap_or(settings.files.gc_grace_hours);
    let cutoff = Clock::default().now() - chrono::Duration::hours(i64::from(grace));
    // The database work is synchronous here; object deletions run on a small
    // runtime, one at a time, each inside the transaction that drops its row.
    let runtime = actix_web::rt::Runtime::new()?;
    let mut conn = pool.get().map_err(colloq_persistence::StoreError::from)?;
    let report = colloq_core::files::collect_garbage(&mut conn, cutoff, |sha256| {
        runtime.block_on(store.delete(sha256)).map_err(|e| {
            tracing::error!(error = %Failure::from(e), sha256, "deleting stored content");
            colloq_core::CoreError::Unavailable("file storage failed")
        })
    })?;
    print_json(&serde_json::json!({
        "uploads_removed": report.uploads,
        "contents_removed": report.contents,
    }))
}

/// Creating commands print one JSON object on stdout, for scripts to read.
fn print_json(value: &serde_json::Value) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{value}")?;
    Ok(())
}

/// The binary's one error type: a message for the operator.
mod anyhow_free {
    /// A failure to report and exit on.
    #[derive(Debug)]
    pub(crate) struct Failure(String);

    impl Failure {
        pub(crate) fn new(msg: String) -> Self {
            Self(msg)
        }
    }

    impl std::fmt::Display for Failure {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }

    impl<E: std::error::Error> From<E> for Failure {
        fn from(err: E) -> Self {
            let mut msg = err.to_string();
            let mut source = err.source();
            while let Some(cause) = source {
                msg.push_str(": ");
                msg.push_str(&cause.to_string());
                source = cause.source();
            }
            Self(msg)
        }
    }
}
