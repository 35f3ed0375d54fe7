//! Starting the real `roster` binary and talking to it.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_roster");

pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    /// Every stderr line up to "roster ready" (later lines keep flowing to `rest`).
    pub startup: Vec<String>,
    pub rest: mpsc::Receiver<String>,
}

pub fn command(database: &str, env: &[(&str, &str)]) -> Command {
    command_via(&[], database, env)
}

/// The serve command run through `wrapper` (e.g. a shell that lowers a limit first).
pub fn command_via(wrapper: &[&str], database: &str, env: &[(&str, &str)]) -> Command {
    let mut cmd = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(BIN);
            c
        }
        None => Command::new(BIN),
    };
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

pub fn start(database: &str, env: &[(&str, &str)]) -> Server {
    start_command(command(database, env))
}

/// Runs a prepared command (see [`command`]) until it prints "roster ready".
pub fn start_command(mut command: Command) -> Server {
    let mut child = command.spawn().unwrap();
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
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Lines the server printed that mention a generated client secret.
    pub fn printed_secret(&self) -> Option<String> {
        self.startup.iter().find_map(|l| {
            l.trim()
                .strip_prefix("client_secret:")
                .map(|s| s.trim().to_owned())
        })
    }

    pub fn printed(&self, key: &str) -> Option<String> {
        self.startup.iter().find_map(|l| {
            l.trim()
                .strip_prefix(&format!("{key}:"))
                .map(|s| s.trim().to_owned())
        })
    }

    /// SIGTERM, then the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
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

pub async fn token(server: &Server, id: &str, secret: &str) -> reqwest::Response {
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

pub async fn access_token(server: &Server, id: &str, secret: &str) -> String {
    let r = token(server, id, secret).await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn get(server: &Server, path: &str, token: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

pub fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("roster.db").display())
}

pub fn random(prefix: &str) -> String {
    format!("{prefix}-{}", roster_core::id::random_id(12))
}

pub async fn send_json(
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Value,
) -> (u16, Value) {
    let r = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

pub fn roster_admin(db: &str, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("admin")
        .args(args)
        .args(["--database", db])
        .env_remove("ROSTER_BOOTSTRAP_CLIENT_ID")
        .env_remove("ROSTER_BOOTSTRAP_CLIENT_SECRET")
        .output()
        .unwrap()
}
