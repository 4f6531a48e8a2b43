use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// colloq: one back end for AnQiCMS communication orders and Fresns conversations.
#[derive(Debug, Parser)]
#[command(version, about)]
pub(crate) struct Cli {
    /// A TOML configuration file (also `COLLOQ_CONFIG`).
    #[arg(long, global = true, env = "COLLOQ_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// Database URL: `postgres://…` for PostgreSQL, else an SQLite file.
    #[arg(long, global = true)]
    pub(crate) database_url: Option<String>,
    /// Address to listen on.
    #[arg(long, global = true)]
    pub(crate) bind: Option<String>,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the HTTP server (migrates the database first).
    Serve,
    /// Migrate the database and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Fill the database with demo data.
    Seed(SeedArgs),
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
    /// Customers to create.
    #[arg(long, default_value_t = 10)]
    pub(crate) customers: u32,
    /// Orders to create, spread over the customers.
    #[arg(long, default_value_t = 100)]
    pub(crate) orders: u32,
    /// Messages per order.
    #[arg(long, default_value_t = 20)]
    pub(crate) messages_per_order: u32,
    /// Password of every seeded account.
    #[arg(long, default_value = "password")]
    pub(crate) password: String,
}
