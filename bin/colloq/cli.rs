use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// colloq: one back end for AnQiCMS communication orders and Fresns conversations.
///
/// Settings come from built-in defaults, then the TOML file, then `COLLOQ_*`
/// environment variables, then these flags; every command reads them the same
/// way, so give the CLI the same database as the server.
/// See docs/configuration.md for every setting.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
pub(crate) struct Cli {
    /// A TOML configuration file [default: none]
    #[arg(long, global = true, env = "COLLOQ_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Database URL: postgres://… or postgresql://… for PostgreSQL, sqlite://PATH
    /// or a plain path for SQLite [default: colloq.db]
    #[arg(
        long,
        global = true,
        env = "COLLOQ_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub(crate) database_url: Option<String>,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the HTTP server (migrates the database first).
    Serve(ServeArgs),
    /// Migrate the database and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage Fresns app keys.
    AppKey {
        #[command(subcommand)]
        command: AppKeyCommand,
    },
    /// Fill the database with demo data.
    Seed(SeedArgs),
    /// Remove uploads never attached to a message after the grace period, and
    /// stored contents nothing references any more.
    GcFiles(GcFilesArgs),
}

#[derive(Debug, Default, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (`http.bind`) [default: 127.0.0.1:8080]
    #[arg(long, env = "COLLOQ_BIND", value_name = "HOST:PORT")]
    pub(crate) bind: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct GcFilesArgs {
    /// Age in hours an unattached upload must reach (default: `files.gc_grace_hours`).
    #[arg(long)]
    pub(crate) grace_hours: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AppKeyCommand {
    /// Create a key; prints `{"app_id", "app_secret", "platform_id", …}`.
    Create(CreateAppKey),
}

#[derive(Debug, Args)]
pub(crate) struct CreateAppKey {
    /// Fresns platform id (1 Other, 2 Desktop Web, 3 Mobile Web, 4 Responsive Web,
    /// 5 iOS, 6 Android, 7 WeChat, 8 QQ, 9 Alipay, 10 ByteDance, 11 Quick App).
    #[arg(long)]
    pub(crate) platform_id: i32,
    /// A label.
    #[arg(long, default_value = "")]
    pub(crate) name: String,
    /// Refuse sending messages with this key.
    #[arg(long)]
    pub(crate) read_only: bool,
    /// Lifetime of tokens issued through this key, in seconds (default: until logout).
    #[arg(long)]
    pub(crate) token_ttl_secs: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Create an account with its primary profile; prints `{"id", "uid", "aid", …}`.
    Create(CreateUser),
}

#[derive(Debug, Args)]
pub(crate) struct CreateUser {
    /// Login and profile name.
    #[arg(long)]
    pub(crate) username: String,
    /// Password (at least 6 characters).
    #[arg(long)]
    pub(crate) password: String,
    /// E-mail address.
    #[arg(long)]
    pub(crate) email: Option<String>,
    /// Phone number.
    #[arg(long)]
    pub(crate) phone: Option<String>,
    /// Display name.
    #[arg(long)]
    pub(crate) nickname: Option<String>,
    /// Create a staff account (may use `/system/api`).
    #[arg(long)]
    pub(crate) admin: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SeedArgs {
    /// Users to create (customers and conversation partners).
    #[arg(long, default_value_t = 20)]
    pub(crate) users: usize,
    /// Communication orders to create.
    #[arg(long, default_value_t = 100)]
    pub(crate) orders: usize,
    /// Conversations to create.
    #[arg(long, default_value_t = 100)]
    pub(crate) conversations: usize,
    /// Messages spread over those orders and conversations.
    #[arg(long, default_value_t = 4000)]
    pub(crate) messages: i64,
    /// Messages in one extra hot order and in one extra hot conversation (0: none).
    #[arg(long, default_value_t = 0)]
    pub(crate) hot_messages: i64,
    /// Password of every seeded account.
    #[arg(long, default_value = "password")]
    pub(crate) password: String,
    /// Prefix of the seeded usernames (default: derived from the time, so seeding
    /// twice does not collide).
    #[arg(long)]
    pub(crate) tag: Option<String>,
}
