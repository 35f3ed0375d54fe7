//! Configuration: flags and `ROSTER_*` variables (through clap) over a TOML file over
//! defaults, merged with figment, then checked once so that a bad value stops the
//! process with a one-line reason.

use clap::Args;
use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use roster_core::password::HashParams;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

/// Options shared by every command, declared once: clap reads them from flags and
/// `ROSTER_*` variables, the TOML file has the same keys, and figment merges the two (a
/// given flag wins). Unset ones take the defaults in [`Config::check`].
#[derive(Default, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// TOML configuration file with the same keys as the long options (listen, database_url, ...).
    #[arg(long, global = true, env = "ROSTER_CONFIG", value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, global = true, env = "ROSTER_LISTEN", value_name = "ADDR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,

    /// Database URL: sqlite://PATH, sqlite::memory: or postgres://... [default: sqlite://./roster.db].
    #[arg(
        long = "database",
        global = true,
        env = "ROSTER_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,

    /// File holding the database URL (for secrets mounted as files).
    #[arg(
        long,
        global = true,
        env = "ROSTER_DATABASE_URL_FILE",
        value_name = "FILE"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url_file: Option<PathBuf>,

    /// Maximum database connections (PostgreSQL pool, SQLite readers) [default: 16].
    #[arg(
        long,
        global = true,
        env = "ROSTER_DB_MAX_CONNECTIONS",
        value_name = "N"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_max_connections: Option<u32>,

    /// Public base URL of this server; it is the `iss` of every token [default: http://LISTEN].
    #[arg(long, global = true, env = "ROSTER_PUBLIC_URL", value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,

    /// Log format [default: pretty].
    #[arg(long, global = true, env = "ROSTER_LOG_FORMAT", value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,

    /// Log filter, e.g. info or roster_api=debug,info [default: info].
    #[arg(long, global = true, env = "ROSTER_LOG_LEVEL", value_name = "FILTER")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,

    /// Client id of the management client that startup ensures.
    #[arg(
        long,
        global = true,
        env = "ROSTER_BOOTSTRAP_CLIENT_ID",
        value_name = "ID"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap_client_id: Option<String>,

    /// File holding the bootstrap client id.
    #[arg(
        long,
        global = true,
        env = "ROSTER_BOOTSTRAP_CLIENT_ID_FILE",
        value_name = "FILE"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap_client_id_file: Option<PathBuf>,

    /// Secret of the management client that startup ensures.
    #[arg(
        long,
        global = true,
        env = "ROSTER_BOOTSTRAP_CLIENT_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap_client_secret: Option<String>,

    /// File holding the bootstrap client secret.
    #[arg(
        long,
        global = true,
        env = "ROSTER_BOOTSTRAP_CLIENT_SECRET_FILE",
        value_name = "FILE"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap_client_secret_file: Option<PathBuf>,

    /// Argon2id memory cost of password hashes, in KiB [default: 19456].
    #[arg(
        long,
        global = true,
        env = "ROSTER_ARGON2_MEMORY_KIB",
        value_name = "KIB"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argon2_memory_kib: Option<u32>,

    /// Argon2id iterations of password hashes [default: 2].
    #[arg(
        long,
        global = true,
        env = "ROSTER_ARGON2_ITERATIONS",
        value_name = "N"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argon2_iterations: Option<u32>,

    /// Argon2id parallelism (lanes) of password hashes [default: 1].
    #[arg(
        long,
        global = true,
        env = "ROSTER_ARGON2_PARALLELISM",
        value_name = "N"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argon2_parallelism: Option<u32>,

    /// Seconds to let in-flight requests finish after SIGTERM or SIGINT [default: 30].
    #[arg(
        long,
        global = true,
        env = "ROSTER_SHUTDOWN_TIMEOUT",
        value_name = "SECS"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shutdown_timeout: Option<u64>,

    /// Seconds a connection may take to send a request's headers [default: 10].
    #[arg(
        long,
        global = true,
        env = "ROSTER_HEADER_TIMEOUT",
        value_name = "SECS"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_timeout: Option<u64>,

    /// Seconds an idle keep-alive connection stays open [default: 60].
    #[arg(long, global = true, env = "ROSTER_IDLE_TIMEOUT", value_name = "SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<u64>,

    /// Most open client connections; lowered to what the file-descriptor limit allows [default: 10000].
    #[arg(long, global = true, env = "ROSTER_MAX_CONNECTIONS", value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,

    /// Failed client authentications per client_id and minute before the token endpoint answers 429 [default: 20].
    #[arg(
        long,
        global = true,
        env = "ROSTER_TOKEN_FAILURE_LIMIT",
        value_name = "N"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_failure_limit: Option<u32>,

    /// File of at least 32 bytes whose contents seal the token signing key in the database.
    #[arg(long, global = true, env = "ROSTER_KEY_FILE", value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,

    /// Once serving, write the server's URL (`http://ADDR:PORT`) to this file, for test
    /// runners that start servers on `--listen 127.0.0.1:0`.
    #[arg(long, global = true, env = "ROSTER_READY_FILE", value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_file: Option<PathBuf>,

    /// Seed file (YAML or JSON) applied at start: tenants, clients with fixed credentials,
    /// apps, users and groups (README, "Seed files").
    #[arg(long, global = true, env = "ROSTER_SEED", value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<PathBuf>,

    /// Serve `POST /roster/v1/reset` (admin token): clears the tenant's users back to the
    /// seed. For test suites; off by default.
    #[arg(
        long,
        global = true,
        env = "ROSTER_ALLOW_RESET",
        value_name = "BOOL",
        num_args = 0..=1,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_reset: Option<bool>,
}

/// How long a client connection may stay silent, and how many may be open.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: u32,
}

/// Credentials of the management client that startup ensures.
#[derive(Clone, Debug)]
pub struct BootstrapCredentials {
    pub client_id: String,
    pub client_secret: SecretString,
}

/// The checked configuration. Its `Debug` form shows no secret: the database URL (which
/// can hold a password) and the bootstrap secret are `SecretString`s.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: SecretString,
    pub db_max_connections: u32,
    /// Token issuer and base of the discovery document, without a trailing slash, when
    /// given; see [`Config::public_url`].
    pub public_url: Option<String>,
    pub log_format: LogFormat,
    pub log_level: String,
    pub bootstrap: Option<BootstrapCredentials>,
    pub shutdown_timeout: Duration,
    pub connections: ConnectionLimits,
    /// Failed client authentications per client_id and minute before 429.
    pub token_failure_limit: u32,
    /// Seals the signing key at rest.
    pub key_file: Option<PathBuf>,
    /// Where the URL goes once the server is ready.
    pub ready_file: Option<PathBuf>,
    pub seed: Option<PathBuf>,
    pub allow_reset: bool,
    /// Argon2id cost of new password hashes (existing hashes keep their own).
    pub password_hashing: HashParams,
}

impl Config {
    /// The public URL given, or else `http://` and the address the listener bound (on
    /// port 0, the port it picked).
    pub fn public_url(&self, bound: SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
    }

    pub fn load(options: &Options) -> Result<Self, String> {
        let mut figment = Figment::new();
        if let Some(path) = &options.config {
            if !path.is_file() {
                return Err(format!("config file {} does not exist", path.display()));
            }
            figment = figment.merge(Toml::file(path));
        }
        let merged: Options = figment
            .merge(Serialized::defaults(options))
            .extract()
            .map_err(|e| format!("invalid configuration: {e}"))?;
        Self::check(merged)
    }

    /// Applies the defaults and checks every value, so that a bad one stops the process
    /// with a one-line reason.
    fn check(o: Options) -> Result<Self, String> {
        let listen = o.listen.as_deref().unwrap_or("127.0.0.1:8080");
        let listen: SocketAddr = listen
            .parse()
            .map_err(|_| format!("listen: '{listen}' is not an address like 127.0.0.1:8080"))?;
        let database_url = either(
            "database_url",
            o.database_url,
            o.database_url_file.as_deref(),
        )?
        .unwrap_or_else(|| "sqlite://./roster.db".into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err("database_url must start with sqlite: or postgres://".into());
        }
        let db_max_connections = at_least_one("db_max_connections", o.db_max_connections, 16)?;
        let public_url = o
            .public_url
            .as_deref()
            .map(checked_public_url)
            .transpose()?;
        let bootstrap = bootstrap(
            either(
                "bootstrap_client_id",
                o.bootstrap_client_id,
                o.bootstrap_client_id_file.as_deref(),
            )?,
            either(
                "bootstrap_client_secret",
                o.bootstrap_client_secret,
                o.bootstrap_client_secret_file.as_deref(),
            )?,
        )?;
        let defaults = HashParams::default();
        let password_hashing = HashParams {
            memory_kib: o.argon2_memory_kib.unwrap_or(defaults.memory_kib),
            iterations: o.argon2_iterations.unwrap_or(defaults.iterations),
            parallelism: o.argon2_parallelism.unwrap_or(defaults.parallelism),
        };
        password_hashing
            .validate()
            .map_err(|e| format!("argon2 parameters: {e}"))?;
        let connections = ConnectionLimits {
            header_timeout: seconds("header_timeout", o.header_timeout, 10)?,
            idle_timeout: seconds("idle_timeout", o.idle_timeout, 60)?,
            max_connections: at_least_one("max_connections", o.max_connections, 10_000)?,
        };
        let token_failure_limit = at_least_one("token_failure_limit", o.token_failure_limit, 20)?;
        let log_level = o.log_level.unwrap_or_else(|| "info".into());
        tracing_subscriber::EnvFilter::try_new(&log_level)
            .map_err(|e| format!("log_level: '{log_level}' is not a valid filter: {e}"))?;
        Ok(Self {
            listen,
            database_url: SecretString::from(database_url),
            db_max_connections,
            public_url,
            log_format: o.log_format.unwrap_or_default(),
            log_level,
            bootstrap,
            shutdown_timeout: Duration::from_secs(o.shutdown_timeout.unwrap_or(30)),
            connections,
            token_failure_limit,
            key_file: o.key_file,
            ready_file: o.ready_file,
            seed: o.seed,
            allow_reset: o.allow_reset.unwrap_or(false),
            password_hashing,
        })
    }
}

fn seconds(name: &str, value: Option<u64>, default: u64) -> Result<Duration, String> {
    match value.unwrap_or(default) {
        0 => Err(format!("{name} must be at least 1 second")),
        n => Ok(Duration::from_secs(n)),
    }
}

fn at_least_one(name: &str, value: Option<u32>, default: u32) -> Result<u32, String> {
    match value.unwrap_or(default) {
        0 => Err(format!("{name} must be at least 1")),
        n => Ok(n),
    }
}

fn checked_public_url(u: &str) -> Result<String, String> {
    let parsed = url::Url::parse(u).map_err(|e| format!("public_url: '{u}' is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!(
            "public_url: '{u}' must be an http(s) URL with a host"
        ));
    }
    Ok(u.trim_end_matches('/').to_owned())
}

fn bootstrap(
    id: Option<String>,
    secret: Option<String>,
) -> Result<Option<BootstrapCredentials>, String> {
    match (id, secret) {
        (Some(client_id), Some(client_secret)) => {
            if client_id.is_empty() || client_id.len() > 128 {
                return Err("bootstrap_client_id must be 1 to 128 characters".into());
            }
            if client_secret.len() < 16 {
                return Err("bootstrap_client_secret must be at least 16 characters".into());
            }
            Ok(Some(BootstrapCredentials {
                client_id,
                client_secret: SecretString::from(client_secret),
            }))
        }
        (None, None) => Ok(None),
        _ => Err(
            "set both ROSTER_BOOTSTRAP_CLIENT_ID and ROSTER_BOOTSTRAP_CLIENT_SECRET, or neither"
                .into(),
        ),
    }
}

/// A value given directly or through a `_FILE` twin, never both.
fn either(
    name: &str,
    value: Option<String>,
    file: Option<&Path>,
) -> Result<Option<String>, String> {
    match (value, file) {
        (Some(_), Some(_)) => Err(format!("set {name} or {name}_file, not both")),
        (Some(v), None) => Ok(Some(v)),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map(|s| Some(s.trim_end_matches(['\n', '\r']).to_owned()))
            .map_err(|e| format!("{name}_file: cannot read {}: {e}", path.display())),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests;
