//! The real `roster` binary: bootstrap, configuration errors, signals, and two nodes
//! sharing one PostgreSQL database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_roster");

struct Server {
    child: Child,
    addr: SocketAddr,
    /// Every stderr line up to "roster ready" (later lines keep flowing to `rest`).
    startup: Vec<String>,
    rest: mpsc::Receiver<String>,
}

fn command(database: &str, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .args([
            "--database",
            database,
            "--public-url",
            "http://roster.process.test",
        ])
        .env_remove("ROSTER_BOOTSTRAP_CLIENT_ID")
        .env_remove("ROSTER_BOOTSTRAP_CLIENT_SECRET")
        .env_remove("ROSTER_CONFIG")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

fn start(database: &str, env: &[(&str, &str)]) -> Server {
    let mut child = command(database, env).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut startup = Vec::new();
    loop {
        let Ok(line) = rx.recv_timeout(Duration::from_secs(30)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no 'roster ready' line; got {startup:#?}");
        };
        let ready = serde_json::from_str::<Value>(&line)
            .ok()
            .filter(|v| v["message"] == "roster ready");
        startup.push(line);
        if let Some(v) = ready {
            let addr = v["addr"].as_str().unwrap().parse().unwrap();
            return Server {
                child,
                addr,
                startup,
                rest: rx,
            };
        }
    }
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Lines the server printed that mention a generated client secret.
    fn printed_secret(&self) -> Option<String> {
        self.startup.iter().find_map(|l| {
            l.trim()
                .strip_prefix("client_secret:")
                .map(|s| s.trim().to_owned())
        })
    }

    fn printed(&self, key: &str) -> Option<String> {
        self.startup.iter().find_map(|l| {
            l.trim()
                .strip_prefix(&format!("{key}:"))
                .map(|s| s.trim().to_owned())
        })
    }

    /// SIGTERM, then the exit status.
    fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill().unwrap();
        panic!("server did not stop on SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        while self.rest.try_recv().is_ok() {}
    }
}

async fn token(server: &Server, id: &str, secret: &str) -> reqwest::Response {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .finish();
    reqwest::Client::new()
        .post(server.url("/oidc/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn access_token(server: &Server, id: &str, secret: &str) -> String {
    let r = token(server, id, secret).await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn get(server: &Server, path: &str, token: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("roster.db").display())
}

fn random(prefix: &str) -> String {
    format!("{prefix}-{}", roster_core::id::random_id(12))
}

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

async fn send_json(method: reqwest::Method, url: String, token: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// The sequence a provisioning tool written for Transmit runs, then a login, over a real
/// socket (with cheap Argon2 parameters, which also shows the flags work).
#[tokio::test]
async fn a_transmit_client_sets_passwords_and_logs_in() {
    use reqwest::Method;
    let dir = tempfile::tempdir().unwrap();
    let (id, secret) = (random("admin"), "a-bootstrap-secret-of-some-length");
    let env = [
        ("ROSTER_BOOTSTRAP_CLIENT_ID", id.as_str()),
        ("ROSTER_BOOTSTRAP_CLIENT_SECRET", secret),
        ("ROSTER_ARGON2_MEMORY_KIB", "1024"),
        ("ROSTER_ARGON2_ITERATIONS", "1"),
    ];
    let server = start(&sqlite_url(&dir), &env);
    let admin = access_token(&server, &id, secret).await;
    let (status, app) = send_json(
        Method::POST,
        server.url("/cis/v1/applications"),
        &admin,
        serde_json::json!({"app_name": "Shop"}),
    )
    .await;
    assert_eq!(status, 201, "{app}");
    let app = &app["result"];
    let client = access_token(
        &server,
        app["client_id"].as_str().unwrap(),
        app["client_secret"].as_str().unwrap(),
    )
    .await;
    let users = server.url("/cis/v1/users");
    let (status, user) = send_json(
        Method::POST,
        users.clone(),
        &client,
        serde_json::json!({"email": "jo@example.com"}),
    )
    .await;
    assert_eq!(status, 201, "{user}");
    let password_url = server.url(&format!(
        "/cis/v1/users/{}/password",
        user["result"]["user_id"].as_str().unwrap()
    ));
    let set = |method: Method, body: Value| {
        let (url, client) = (password_url.clone(), client.clone());
        async move { send_json(method, url, &client, body).await }
    };
    let strong = "Str0ng!Passw0rd-x";
    assert_eq!(
        set(Method::POST, serde_json::json!({"password": strong}))
            .await
            .0,
        201
    );
    let (status, conflict) = set(Method::POST, serde_json::json!({"password": strong})).await;
    assert_eq!(
        (status, conflict["error_code"].clone()),
        (409, serde_json::json!("auth_password_already_configured"))
    );
    let replaced = serde_json::json!({"password": "An0ther!Passw0rd-y", "force_replace": false});
    assert_eq!(set(Method::PUT, replaced).await.0, 200);
    let (status, tokens) = send_json(
        Method::POST,
        server.url("/cis/v1/auth/password/authenticate"),
        &client,
        serde_json::json!({"username": "jo@example.com", "username_type": "email", "password": "An0ther!Passw0rd-y"}),
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens["access_token"].is_string() && tokens["refresh_token"].is_string());

    // Transmit's sample backends sign up with a username and credentials in one call.
    let signup = serde_json::json!({"username": "ann", "credentials": {"password": strong, "force_replace": false}});
    assert_eq!(
        send_json(Method::POST, users.clone(), &client, signup.clone())
            .await
            .0,
        201
    );
    assert_eq!(send_json(Method::POST, users, &client, signup).await.0, 409);
}

fn roster_admin(db: &str, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("admin")
        .args(args)
        .args(["--database", db])
        .env_remove("ROSTER_BOOTSTRAP_CLIENT_ID")
        .env_remove("ROSTER_BOOTSTRAP_CLIENT_SECRET")
        .output()
        .unwrap()
}

/// Tenants made by `roster admin tenant create` are isolated: tenant B's tokens find
/// nothing of tenant A's, on every route they try.
#[tokio::test]
async fn tenants_made_by_the_cli_cannot_see_each_other() {
    use reqwest::Method;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(&dir);
    let mut admins = Vec::new();
    for name in ["Acme", "Globex"] {
        let out = roster_admin(&db, &["tenant", "create", "--name", name, "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        admins.push(serde_json::from_slice::<Value>(&out.stdout).unwrap());
    }
    let again = roster_admin(&db, &["tenant", "create", "--name", "Acme"]);
    assert!(!again.status.success(), "a second Acme was created");
    let list = roster_admin(&db, &["tenant", "list", "--json"]);
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    let names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(
        names,
        vec![serde_json::json!("Acme"), serde_json::json!("Globex")]
    );

    let server = start(&db, &[]);
    let token = |creds: &Value| {
        let (id, secret) = (
            creds["client_id"].as_str().unwrap().to_owned(),
            creds["client_secret"].as_str().unwrap().to_owned(),
        );
        let server = &server;
        async move { access_token(server, &id, &secret).await }
    };
    let (a, b) = (token(&admins[0]).await, token(&admins[1]).await);
    let (status, user) = send_json(
        Method::POST,
        server.url("/cis/v1/users"),
        &a,
        serde_json::json!({"email": "jo@acme.example", "secondary_emails": ["j2@acme.example"]}),
    )
    .await;
    assert_eq!(status, 201, "{user}");
    let id = user["result"]["user_id"].as_str().unwrap();
    let user_uri = format!("/cis/v1/users/{id}");
    for (method, path, body) in [
        (Method::GET, user_uri.clone(), Value::Null),
        (
            Method::GET,
            "/cis/v1/users/email/jo%40acme.example".into(),
            Value::Null,
        ),
        (
            Method::PUT,
            user_uri.clone(),
            serde_json::json!({"language": "de"}),
        ),
        (
            Method::POST,
            format!("{user_uri}/emails/jo%40acme.example/verify"),
            serde_json::json!({}),
        ),
        (
            Method::DELETE,
            format!("{user_uri}/emails/j2%40acme.example"),
            Value::Null,
        ),
        (
            Method::DELETE,
            format!("/cis/v1/manage/users/{id}"),
            Value::Null,
        ),
    ] {
        let (status, body) = send_json(method.clone(), server.url(&path), &b, body).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
    }
    // Tenant A still has its user, untouched.
    let (status, seen) = get(&server, &user_uri, &a).await;
    assert_eq!(
        (status, seen["result"]["language"].clone()),
        (200, Value::Null),
        "{seen}"
    );
    let (_, count) = get(&server, "/cis/v1/users/count", &b).await;
    assert_eq!(count["result"]["user_count"], 0);
}
