//! The command line. Every option has an environment twin (`ROSTER_...`) and a TOML key.

use crate::config::LogFormat;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "roster",
    version,
    about = "A user directory that speaks the Transmit Security Users API",
    long_about = "Roster serves the Transmit Security Users API (paths under /cis, tokens at /oidc/token) \
                  from SQLite or PostgreSQL. Options come from flags, then ROSTER_* environment \
                  variables, then the --config TOML file, then defaults."
)]
pub struct Cli {
    #[command(flatten)]
    pub options: Options,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (migrates the database first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Administrative tasks.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Ensure the default tenant and its management app, and print management credentials.
    ///
    /// With ROSTER_BOOTSTRAP_CLIENT_ID and ROSTER_BOOTSTRAP_CLIENT_SECRET set, ensures a client
    /// with exactly those credentials; otherwise creates a new management client.
    Bootstrap {
        /// Print {tenant_id, app_id, client_id, client_secret} as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// Options shared by every command; unset ones fall back to the config file and defaults.
#[derive(Debug, Default, Args)]
pub struct Options {
    /// TOML configuration file with the same keys as the long options (listen, database_url, ...).
    #[arg(long, global = true, env = "ROSTER_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, global = true, env = "ROSTER_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,

    /// Database URL: sqlite://PATH, sqlite::memory: or postgres://... [default: sqlite://./roster.db].
    #[arg(
        long = "database",
        global = true,
        env = "ROSTER_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// File holding the database URL (for secrets mounted as files).
    #[arg(
        long,
        global = true,
        env = "ROSTER_DATABASE_URL_FILE",
        value_name = "FILE"
    )]
    pub database_url_file: Option<PathBuf>,

    /// Maximum database connections (PostgreSQL pool, SQLite readers) [default: 16].
    #[arg(
        long,
        global = true,
        env = "ROSTER_DB_MAX_CONNECTIONS",
        value_name = "N"
    )]
    pub db_max_connections: Option<u32>,

    /// Public base URL of this server; it is the `iss` of every token [default: http://LISTEN].
    #[arg(long, global = true, env = "ROSTER_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,

    /// Log format [default: pretty].
    #[arg(long, global = true, env = "ROSTER_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,

    /// Log filter, e.g. info or roster_api=debug,info [default: info].
    #[arg(long, global = true, env = "ROSTER_LOG_LEVEL", value_name = "FILTER")]
    pub log_level: Option<String>,

    /// Client id of the management client that startup ensures.
    #[arg(
        long,
        global = true,
        env = "ROSTER_BOOTSTRAP_CLIENT_ID",
        value_name = "ID"
    )]
    pub bootstrap_client_id: Option<String>,

    /// File holding the bootstrap client id.
    #[arg(
        long,
        global = true,
        env = "ROSTER_BOOTSTRAP_CLIENT_ID_FILE",
        value_name = "FILE"
    )]
    pub bootstrap_client_id_file: Option<PathBuf>,

    /// Secret of the management client that startup ensures.
    #[arg(
        long,
        global = true,
        env = "ROSTER_BOOTSTRAP_CLIENT_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub bootstrap_client_secret: Option<String>,

    /// File holding the bootstrap client secret.
    #[arg(
        long,
        global = true,
        env = "ROSTER_BOOTSTRAP_CLIENT_SECRET_FILE",
        value_name = "FILE"
    )]
    pub bootstrap_client_secret_file: Option<PathBuf>,

    /// Seconds to let in-flight requests finish after SIGTERM or SIGINT [default: 30].
    #[arg(
        long,
        global = true,
        env = "ROSTER_SHUTDOWN_TIMEOUT",
        value_name = "SECS"
    )]
    pub shutdown_timeout: Option<u64>,
}
