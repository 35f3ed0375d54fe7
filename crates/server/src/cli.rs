//! The command line: the commands. The options they share are declared once, in
//! [`Options`], with their environment twins and TOML keys.

use crate::config::Options;
use clap::{Parser, Subcommand};

#[derive(Parser)]
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

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP server (migrates the database first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Apply a seed file (YAML or JSON) to the database and exit, without serving.
    Seed {
        /// The seed file.
        file: std::path::PathBuf,
    },
    /// Administrative tasks.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Subcommand)]
pub enum TenantCommand {
    /// Create a tenant with its management app, and print a management client's
    /// credentials (shown only here).
    Create {
        /// The tenant's name, unique in the installation.
        #[arg(long)]
        name: String,
        /// Print {tenant_id, app_id, client_id, client_secret} as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// List the tenants.
    List {
        /// Print a JSON array on stdout.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
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
    /// Tenants: each with its own users, apps and management client.
    #[command(subcommand)]
    Tenant(TenantCommand),
}
