//! Bootstrap, configuration errors, signals, locks, and two nodes sharing one PostgreSQL
//! database.

use crate::harness::*;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

#[tokio::test]
async fn bootstrap_from_env_is_idempotent_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(&dir);
    let id = random("admin");
    let secret = "a-bootstrap-secret-of-some-length";
    let env = [
        ("ROSTER_BOOTSTRAP_CLIENT_ID", id.as_str()),
        ("ROSTER_BOOTSTRAP_CLIENT_SECRET", secret),
    ];
    let first = start(&db, &env);
    assert!(
        first.printed_secret().is_none(),
        "configured credentials are not printed"
    );
    access_token(&first, &id, secret).await;
    assert!(first.stop().success());

    let second = start(&db, &env);
    let admin = access_token(&second, &id, secret).await;
    let (status, apps) = get(&second, "/cis/v1/applications", &admin).await;
    assert_eq!(status, 200);
    let apps = apps["result"].as_array().unwrap().clone();
    let management: Vec<_> = apps
        .iter()
        .filter(|a| a["is_management_app"] == true)
        .collect();
    assert_eq!(management.len(), 1);
    let app_id = management[0]["app_id"].as_str().unwrap();
    let (_, clients) = get(
        &second,
        &format!("/cis/v1/applications/{app_id}/clients"),
        &admin,
    )
    .await;
    let ids: Vec<_> = clients
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, vec![id.clone()], "exactly one management client");
    assert!(second.stop().success());

    // A changed secret replaces the old one.
    let env = [
        ("ROSTER_BOOTSTRAP_CLIENT_ID", id.as_str()),
        (
            "ROSTER_BOOTSTRAP_CLIENT_SECRET",
            "another-secret-of-some-length",
        ),
    ];
    let third = start(&db, &env);
    assert_eq!(token(&third, &id, secret).await.status(), 401);
    access_token(&third, &id, "another-secret-of-some-length").await;
}

#[tokio::test]
async fn first_start_prints_generated_credentials_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(&dir);
    let first = start(&db, &[]);
    let id = first.printed("client_id").expect("client id printed");
    let secret = first.printed_secret().expect("secret printed");
    assert!(secret.starts_with("rsec_"));
    // The secret is printed as a notice, never inside a log record.
    assert!(first
        .startup
        .iter()
        .filter(|l| l.starts_with('{'))
        .all(|l| !l.contains(&secret)));
    access_token(&first, &id, &secret).await;
    drop(first);

    let second = start(&db, &[]);
    assert!(second.printed_secret().is_none());
    access_token(&second, &id, &secret).await;
}

#[tokio::test]
async fn admin_bootstrap_prints_json_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(&dir);
    let out = Command::new(BIN)
        .args(["admin", "bootstrap", "--json", "--database", &db])
        .env_remove("ROSTER_BOOTSTRAP_CLIENT_ID")
        .env_remove("ROSTER_BOOTSTRAP_CLIENT_SECRET")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let creds: Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["tenant_id", "app_id", "client_id", "client_secret"] {
        assert!(creds[key].as_str().is_some_and(|v| !v.is_empty()), "{key}");
    }
    let server = start(&db, &[]);
    assert!(
        server.printed_secret().is_none(),
        "the tenant already exists"
    );
    let t = access_token(
        &server,
        creds["client_id"].as_str().unwrap(),
        creds["client_secret"].as_str().unwrap(),
    )
    .await;
    let (status, _) = get(&server, "/cis/v1/applications", &t).await;
    assert_eq!(status, 200);

    // With configured credentials it ensures and prints exactly those.
    let out = Command::new(BIN)
        .args(["admin", "bootstrap", "--json", "--database", &db])
        .env("ROSTER_BOOTSTRAP_CLIENT_ID", "ops-admin")
        .env("ROSTER_BOOTSTRAP_CLIENT_SECRET", "ops-admin-secret-value")
        .output()
        .unwrap();
    assert!(out.status.success());
    let given: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(given["client_id"], "ops-admin");
    assert_eq!(given["client_secret"], "ops-admin-secret-value");
    assert_eq!(given["tenant_id"], creds["tenant_id"]);
    access_token(&server, "ops-admin", "ops-admin-secret-value").await;
}

/// Needs PostgreSQL, so it is marked ignored and shows as such in a plain `cargo test`;
/// CI runs it with `--include-ignored` on its PostgreSQL database.
#[tokio::test]
#[ignore = "needs PostgreSQL: ROSTER_TEST_DATABASE_URL=postgres://... and --include-ignored"]
async fn two_nodes_on_one_postgres_database_accept_each_others_tokens() {
    let db = std::env::var("ROSTER_TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
        .expect("this test needs ROSTER_TEST_DATABASE_URL=postgres://...");
    let id = random("node-admin");
    let secret = "shared-node-secret-value";
    let env = [
        ("ROSTER_BOOTSTRAP_CLIENT_ID", id.as_str()),
        ("ROSTER_BOOTSTRAP_CLIENT_SECRET", secret),
    ];
    // Started together, so they race to create the signing key and bootstrap rows.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| start(&db, &env));
        let b = s.spawn(|| start(&db, &env));
        (a.join().unwrap(), b.join().unwrap())
    });
    let from_a = access_token(&a, &id, secret).await;
    let from_b = access_token(&b, &id, secret).await;
    assert_eq!(get(&b, "/cis/v1/applications", &from_a).await.0, 200);
    assert_eq!(get(&a, "/cis/v1/applications", &from_b).await.0, 200);
    let jwks_a: Value = reqwest::get(a.url("/cis/oidc/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwks_b: Value = reqwest::get(b.url("/cis/oidc/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks_a, jwks_b);
}

#[test]
fn invalid_configuration_exits_with_a_one_line_reason() {
    for args in [
        vec!["serve", "--listen", "not-an-address"],
        vec!["serve", "--database", "mysql://nope"],
        vec!["serve", "--public-url", "ftp://x"],
        vec!["serve", "--config", "/no/such/roster.toml"],
        vec!["serve", "--log-format", "xml"],
        vec!["serve", "--bootstrap-client-id", "only-the-id"],
    ] {
        let out = Command::new(BIN)
            .args(&args)
            .env_remove("ROSTER_BOOTSTRAP_CLIENT_ID")
            .env_remove("ROSTER_BOOTSTRAP_CLIENT_SECRET")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<_> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(!lines.is_empty(), "{args:?}");
        if !args.contains(&"xml") {
            // clap's own usage errors are multi-line; ours are one line.
            assert_eq!(lines.len(), 1, "{args:?}: {stderr}");
        }
    }
}

#[test]
fn help_documents_every_option() {
    let out = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for option in [
        "--listen",
        "ROSTER_LISTEN",
        "--database",
        "ROSTER_DATABASE_URL",
        "--public-url",
        "ROSTER_PUBLIC_URL",
        "--config",
        "--log-format",
        "ROSTER_BOOTSTRAP_CLIENT_ID",
        "ROSTER_BOOTSTRAP_CLIENT_SECRET_FILE",
        "ROSTER_HEADER_TIMEOUT",
        "ROSTER_IDLE_TIMEOUT",
        "ROSTER_MAX_CONNECTIONS",
        "ROSTER_TOKEN_FAILURE_LIMIT",
        "ROSTER_KEY_FILE",
    ] {
        assert!(help.contains(option), "{option} missing from serve --help");
    }
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for command in ["serve", "migrate", "admin"] {
        assert!(help.contains(command));
    }
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly_and_migrate_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(&dir);
    for _ in 0..2 {
        let out = Command::new(BIN)
            .args(["migrate", "--database", &db])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let server = start(&db, &[]);
    assert_eq!(
        reqwest::get(server.url("/readyz")).await.unwrap().status(),
        200
    );
    let status = server.stop();
    assert!(status.success(), "{status:?}");
}

/// SQLite work runs on the async worker threads; only the writer's holder may block one
/// (on another process's lock, up to the busy timeout). With the file locked from outside
/// for 3 s and creates queued behind the lock, `/healthz` and token grants must still answer
/// at once, and the creates once the lock is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_locked_sqlite_file_delays_only_the_writes() {
    const LOCK: Duration = Duration::from_secs(3);
    const PROMPT: Duration = Duration::from_millis(100);
    let dir = tempfile::tempdir().unwrap();
    let (id, secret) = (random("admin"), "a-bootstrap-secret-of-some-length");
    let env = [
        ("ROSTER_BOOTSTRAP_CLIENT_ID", id.as_str()),
        ("ROSTER_BOOTSTRAP_CLIENT_SECRET", secret),
        // Even when asked for one worker: the runtime keeps a second.
        ("TOKIO_WORKER_THREADS", "1"),
    ];
    let server = start(&sqlite_url(&dir), &env);
    let admin = access_token(&server, &id, secret).await;
    let http = reqwest::Client::new();

    // Another process's connection takes the write lock and keeps it for LOCK.
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let path = dir.path().join("roster.db");
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
        locked_tx.send(std::time::Instant::now()).unwrap();
        std::thread::sleep(LOCK);
        let releasing = std::time::Instant::now();
        conn.execute_batch("COMMIT").unwrap();
        releasing
    });
    let locked_at = locked_rx.recv().unwrap();

    let mut creates = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (http, url, admin) = (http.clone(), server.url("/cis/v1/users"), admin.clone());
        creates.spawn(async move {
            let r = http
                .post(url)
                .bearer_auth(admin)
                .json(&serde_json::json!({"email": format!("locked-{i}@example.com")}))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), std::time::Instant::now())
        });
    }
    // While the lock is held: health and token grants answer within PROMPT.
    let mut probes = 0;
    while locked_at.elapsed() < LOCK - Duration::from_millis(500) {
        let started = std::time::Instant::now();
        let health = http.get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        let health_took = started.elapsed();
        let started = std::time::Instant::now();
        assert_eq!(token(&server, &id, secret).await.status(), 200);
        let token_took = started.elapsed();
        assert!(
            health_took < PROMPT && token_took < PROMPT,
            "while the file was locked: /healthz took {health_took:?}, a token grant {token_took:?}"
        );
        probes += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        probes >= 5,
        "only {probes} probes ran while the file was locked"
    );

    let released_at = tokio::task::spawn_blocking(move || holder.join().unwrap())
        .await
        .unwrap();
    while let Some(done) = creates.join_next().await {
        let (status, answered_at) = done.unwrap();
        assert!(
            status == 201 || status == 503,
            "a create waiting on the lock answered {status}"
        );
        if status == 201 {
            assert!(
                answered_at >= released_at,
                "a create was answered while another process held the write lock"
            );
        }
    }
}
