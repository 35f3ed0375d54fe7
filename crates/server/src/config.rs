//! Configuration: flags and `ROSTER_*` variables (through clap) over a TOML file over
//! defaults, merged with figment, then checked once so that a bad value stops the
//! process with a one-line reason.

use crate::cli::Options;
use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
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

/// The merged, unchecked settings; also the shape of the TOML file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    listen: String,
    database_url: Option<String>,
    database_url_file: Option<PathBuf>,
    db_max_connections: u32,
    public_url: Option<String>,
    log_format: LogFormat,
    log_level: String,
    bootstrap_client_id: Option<String>,
    bootstrap_client_id_file: Option<PathBuf>,
    bootstrap_client_secret: Option<String>,
    bootstrap_client_secret_file: Option<PathBuf>,
    shutdown_timeout: u64,
}

impl Default for Raw {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            database_url: None,
            database_url_file: None,
            db_max_connections: 16,
            public_url: None,
            log_format: LogFormat::Pretty,
            log_level: "info".into(),
            bootstrap_client_id: None,
            bootstrap_client_id_file: None,
            bootstrap_client_secret: None,
            bootstrap_client_secret_file: None,
            shutdown_timeout: 30,
        }
    }
}

/// Command-line values that were given; absent ones leave lower layers alone.
#[derive(Serialize)]
struct Given<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<&'a String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<&'a String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url_file: Option<&'a PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    db_max_connections: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_url: Option<&'a String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_format: Option<LogFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_level: Option<&'a String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bootstrap_client_id: Option<&'a String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bootstrap_client_id_file: Option<&'a PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bootstrap_client_secret: Option<&'a String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bootstrap_client_secret_file: Option<&'a PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shutdown_timeout: Option<u64>,
}

/// Credentials of the management client that startup ensures.
#[derive(Clone)]
pub struct BootstrapCredentials {
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for BootstrapCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapCredentials")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    pub db_max_connections: u32,
    /// Token issuer and base of the discovery document, without a trailing slash.
    pub public_url: String,
    pub log_format: LogFormat,
    pub log_level: String,
    pub bootstrap: Option<BootstrapCredentials>,
    pub shutdown_timeout: Duration,
}

impl Config {
    pub fn load(options: &Options) -> Result<Self, String> {
        let mut figment = Figment::from(Serialized::defaults(Raw::default()));
        if let Some(path) = &options.config {
            if !path.is_file() {
                return Err(format!("config file {} does not exist", path.display()));
            }
            figment = figment.merge(Toml::file(path));
        }
        let given = Given {
            listen: options.listen.as_ref(),
            database_url: options.database_url.as_ref(),
            database_url_file: options.database_url_file.as_ref(),
            db_max_connections: options.db_max_connections,
            public_url: options.public_url.as_ref(),
            log_format: options.log_format,
            log_level: options.log_level.as_ref(),
            bootstrap_client_id: options.bootstrap_client_id.as_ref(),
            bootstrap_client_id_file: options.bootstrap_client_id_file.as_ref(),
            bootstrap_client_secret: options.bootstrap_client_secret.as_ref(),
            bootstrap_client_secret_file: options.bootstrap_client_secret_file.as_ref(),
            shutdown_timeout: options.shutdown_timeout,
        };
        let raw: Raw = figment
            .merge(Serialized::defaults(given))
            .extract()
            .map_err(|e| format!("invalid configuration: {e}"))?;
        Self::check(raw)
    }

    fn check(raw: Raw) -> Result<Self, String> {
        let listen: SocketAddr = raw.listen.parse().map_err(|_| {
            format!(
                "listen: '{}' is not an address like 127.0.0.1:8080",
                raw.listen
            )
        })?;
        let database_url = either(
            "database_url",
            raw.database_url,
            raw.database_url_file.as_deref(),
        )?
        .unwrap_or_else(|| "sqlite://./roster.db".into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err("database_url must start with sqlite: or postgres://".into());
        }
        if raw.db_max_connections == 0 {
            return Err("db_max_connections must be at least 1".into());
        }
        let public_url = match raw.public_url {
            Some(u) => {
                let parsed = url::Url::parse(&u)
                    .map_err(|e| format!("public_url: '{u}' is not a URL: {e}"))?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                    return Err(format!(
                        "public_url: '{u}' must be an http(s) URL with a host"
                    ));
                }
                u.trim_end_matches('/').to_owned()
            }
            None => format!("http://{listen}"),
        };
        let id = either(
            "bootstrap_client_id",
            raw.bootstrap_client_id,
            raw.bootstrap_client_id_file.as_deref(),
        )?;
        let secret = either(
            "bootstrap_client_secret",
            raw.bootstrap_client_secret,
            raw.bootstrap_client_secret_file.as_deref(),
        )?;
        let bootstrap = match (id, secret) {
            (Some(client_id), Some(client_secret)) => {
                if client_id.is_empty() || client_id.len() > 128 {
                    return Err("bootstrap_client_id must be 1 to 128 characters".into());
                }
                if client_secret.len() < 16 {
                    return Err("bootstrap_client_secret must be at least 16 characters".into());
                }
                Some(BootstrapCredentials {
                    client_id,
                    client_secret,
                })
            }
            (None, None) => None,
            _ => {
                return Err(
                    "set both ROSTER_BOOTSTRAP_CLIENT_ID and ROSTER_BOOTSTRAP_CLIENT_SECRET, or neither"
                        .into(),
                )
            }
        };
        tracing_subscriber::EnvFilter::try_new(&raw.log_level)
            .map_err(|e| format!("log_level: '{}' is not a valid filter: {e}", raw.log_level))?;
        Ok(Self {
            listen,
            database_url,
            db_max_connections: raw.db_max_connections,
            public_url,
            log_format: raw.log_format,
            log_level: raw.log_level,
            bootstrap,
            shutdown_timeout: Duration::from_secs(raw.shutdown_timeout),
        })
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
mod tests {
    use super::*;

    fn load(options: Options) -> Result<Config, String> {
        Config::load(&options)
    }

    #[test]
    fn defaults_serve_sqlite_on_localhost() {
        let c = load(Options::default()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://./roster.db");
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert!(c.bootstrap.is_none());
    }

    #[test]
    fn file_values_are_overridden_by_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roster.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\nlog_level = \"debug\"\n",
        )
        .unwrap();
        let c = load(Options {
            config: Some(path),
            log_level: Some("warn".into()),
            ..Options::default()
        })
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.log_level, "warn");
    }

    #[test]
    fn unknown_file_keys_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roster.toml");
        std::fs::write(&path, "lisen = \"x\"\n").unwrap();
        let err = load(Options {
            config: Some(path),
            ..Options::default()
        })
        .unwrap_err();
        assert!(err.contains("lisen"), "{err}");
        let err = load(Options {
            listen: Some("nowhere".into()),
            ..Options::default()
        })
        .unwrap_err();
        assert!(err.starts_with("listen:"), "{err}");
        let err = load(Options {
            database_url: Some("mysql://x".into()),
            ..Options::default()
        })
        .unwrap_err();
        assert!(err.contains("database_url"), "{err}");
    }

    #[test]
    fn secrets_come_from_files_and_need_both_halves() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "a-long-enough-secret-value\n").unwrap();
        let c = load(Options {
            bootstrap_client_id: Some("admin".into()),
            bootstrap_client_secret_file: Some(path),
            ..Options::default()
        })
        .unwrap();
        assert_eq!(
            c.bootstrap.unwrap().client_secret,
            "a-long-enough-secret-value"
        );
        let err = load(Options {
            bootstrap_client_id: Some("admin".into()),
            ..Options::default()
        })
        .unwrap_err();
        assert!(err.contains("BOOTSTRAP"), "{err}");
    }
}
