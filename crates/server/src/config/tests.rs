use super::*;
use secrecy::ExposeSecret;

fn load(options: Options) -> Result<Config, String> {
    Config::load(&options)
}

#[test]
fn defaults_serve_sqlite_on_localhost() {
    let c = load(Options::default()).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.database_url.expose_secret(), "sqlite://./roster.db");
    assert_eq!(c.public_url(c.listen), "http://127.0.0.1:8080");
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
        c.bootstrap.unwrap().client_secret.expose_secret(),
        "a-long-enough-secret-value"
    );
    let err = load(Options {
        bootstrap_client_id: Some("admin".into()),
        ..Options::default()
    })
    .unwrap_err();
    assert!(err.contains("BOOTSTRAP"), "{err}");
}

#[test]
fn the_debug_form_shows_no_secret() {
    let c = load(Options {
        database_url: Some("postgres://roster:db-password-123@db.example/roster".into()),
        bootstrap_client_id: Some("admin".into()),
        bootstrap_client_secret: Some("bootstrap-secret-456789".into()),
        ..Options::default()
    })
    .unwrap();
    let shown = format!("{c:?} {c:#?}");
    for secret in ["db-password-123", "bootstrap-secret-456789"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("admin"), "{shown}");
}
