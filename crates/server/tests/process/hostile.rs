//! Hostile clients against the real binary: silent and half-sent connections, a flood past
//! the connection cap, a low descriptor limit, and requests too malformed for the router.

use crate::harness::*;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Sends `bytes` and reads until the server closes the connection or `wait` passes.
fn exchange(addr: SocketAddr, bytes: &[u8], wait: Duration) -> (Vec<u8>, bool) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(wait)).unwrap();
    // A server that answers before reading everything may reset the rest; that is fine.
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (out, true),
            Err(_) => return (out, false),
        }
    }
}

/// Status and JSON body of a raw HTTP/1.1 answer.
fn answer(raw: &[u8]) -> (u16, Value) {
    let text = String::from_utf8_lossy(raw);
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn healthz(addr: SocketAddr) -> u16 {
    let get = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    answer(&exchange(addr, get, Duration::from_secs(5)).0).0
}

/// Seconds until the server closes a connection that sent `bytes` (at most 10).
fn closed_after(addr: SocketAddr, bytes: &[u8]) -> f64 {
    let started = Instant::now();
    let (_, closed) = exchange(addr, bytes, Duration::from_secs(10));
    assert!(closed, "the connection was still open after 10 s");
    started.elapsed().as_secs_f64()
}

#[test]
fn silent_connections_are_closed_after_the_header_timeout() {
    let server = start(
        "sqlite::memory:",
        &[
            ("ROSTER_MAX_CONNECTIONS", "8"),
            ("ROSTER_HEADER_TIMEOUT", "1"),
            ("ROSTER_IDLE_TIMEOUT", "3"),
        ],
    );
    let addr = server.addr;
    // Nothing sent, and half a request head: both closed after the header timeout.
    let silent = closed_after(addr, b"");
    assert!(
        (0.9..3.0).contains(&silent),
        "silent connection closed after {silent} s"
    );
    let half = closed_after(addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    assert!(
        (0.9..3.0).contains(&half),
        "half-sent head closed after {half} s"
    );
    // A keep-alive connection lasts the idle timeout after its response, not the header one.
    let idle = closed_after(addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(
        (2.9..5.0).contains(&idle),
        "idle keep-alive closed after {idle} s"
    );
}

#[test]
fn healthz_answers_past_the_connection_cap() {
    // A header timeout far longer than the test, so the flood holds the cap however
    // slowly a loaded machine runs it.
    let server = start(
        "sqlite::memory:",
        &[
            ("ROSTER_MAX_CONNECTIONS", "8"),
            ("ROSTER_HEADER_TIMEOUT", "60"),
        ],
    );
    let addr = server.addr;
    // 200 idle connections against a cap of 8: health checks still answer, other
    // routes get the JSON 503 with Retry-After.
    let flood: Vec<TcpStream> = (0..200)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let raw = exchange(
        addr,
        b"GET /cis/v1/users HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_secs(5),
    )
    .0;
    for _ in 0..3 {
        assert_eq!(healthz(addr), 200);
    }
    let text = String::from_utf8_lossy(&raw).to_lowercase();
    assert!(text.contains("retry-after: 1"), "{text}");
    assert_eq!(
        answer(&raw),
        (
            503,
            serde_json::json!({"message": "too many open connections", "error_code": 503})
        )
    );
    drop(flood);
    // Once the flood is gone the cap frees up and routes answer normally again.
    std::thread::sleep(Duration::from_millis(300));
    let raw = exchange(
        addr,
        b"GET /cis/v1/users HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .0;
    assert_eq!(answer(&raw).0, 401);
}

#[test]
fn healthz_answers_under_a_low_descriptor_limit() {
    let cmd = command_via(
        &["bash", "-c", "ulimit -n 256 && exec \"$@\"", "bash"],
        "sqlite::memory:",
        &[],
    );
    let server = start_command(cmd);
    let lowered = server
        .startup
        .iter()
        .any(|l| l.contains("the file-descriptor limit lowers the connection cap"));
    assert!(lowered, "{:#?}", server.startup);
    // More connections than descriptors: the server must neither stop accepting nor die.
    let flood: Vec<TcpStream> = (0..400)
        .filter_map(|_| TcpStream::connect(server.addr).ok())
        .collect();
    assert!(
        flood.len() >= 300,
        "only {} connections opened",
        flood.len()
    );
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..3 {
        assert_eq!(healthz(server.addr), 200);
    }
}

#[test]
fn requests_the_router_never_sees_get_json_errors() {
    let server = start("sqlite::memory:", &[]);
    let long_path = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000));
    let big_header = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(500_000)
    );
    // Under hyper's buffer bound, over Roster's 64 KiB head limit.
    let header_100k = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: {}\r\n\r\n",
        "a".repeat(100_000)
    );
    let cases: [(&[u8], u16, Value); 4] = [
        (
            long_path.as_bytes(),
            414,
            serde_json::json!({"message": "URI too long", "error_code": 414}),
        ),
        (
            big_header.as_bytes(),
            431,
            serde_json::json!({"message": "request headers too large", "error_code": 431}),
        ),
        (
            header_100k.as_bytes(),
            431,
            serde_json::json!({"message": "request headers too large", "error_code": 431}),
        ),
        (
            b"NOT HTTP AT ALL\r\n\r\n",
            400,
            serde_json::json!({"message": ["malformed HTTP request"], "error_code": 400}),
        ),
    ];
    for (bytes, status, body) in cases {
        let raw = exchange(server.addr, bytes, Duration::from_secs(5)).0;
        let text = String::from_utf8_lossy(&raw).to_lowercase();
        assert!(text.contains("content-type: application/json"), "{text}");
        assert_eq!(answer(&raw), (status, body));
    }
}

/// A client deleted on node A is refused on node B within seconds (B re-reads a client at
/// most every 2 s), and so are the clients of an app deleted on A. The nodes share a
/// SQLite file, or the PostgreSQL database of `ROSTER_TEST_DATABASE_URL`.
#[tokio::test]
async fn tokens_of_deleted_clients_and_apps_are_refused_on_every_node() {
    use reqwest::Method;
    let dir = tempfile::tempdir().unwrap();
    let db = std::env::var("ROSTER_TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
        .unwrap_or_else(|| sqlite_url(&dir));
    let id = random("revoke-admin");
    let secret = "revocation-node-secret";
    let env = [
        ("ROSTER_BOOTSTRAP_CLIENT_ID", id.as_str()),
        ("ROSTER_BOOTSTRAP_CLIENT_SECRET", secret),
    ];
    let a = start(&db, &env);
    let b = start(&db, &env);
    let admin = access_token(&a, &id, secret).await;
    let apps = a.url("/cis/v1/applications");
    let mut clients = Vec::new();
    for name in ["revoked-client", "revoked-app"] {
        let (status, app) = send_json(
            Method::POST,
            apps.clone(),
            &admin,
            serde_json::json!({ "app_name": random(name) }),
        )
        .await;
        assert_eq!(status, 201, "{app}");
        let app = &app["result"];
        let (client_id, client_secret) = (
            app["client_id"].as_str().unwrap(),
            app["client_secret"].as_str().unwrap(),
        );
        let token = access_token(&a, client_id, client_secret).await;
        assert_eq!(get(&b, "/cis/v1/users", &token).await.0, 200);
        clients.push((
            app["app_id"].as_str().unwrap().to_owned(),
            client_id.to_owned(),
            token,
        ));
    }
    let deletions = [
        format!(
            "/cis/v1/applications/{}/clients/{}",
            clients[0].0, clients[0].1
        ),
        format!("/cis/v1/applications/{}", clients[1].0),
    ];
    for (path, (_, _, token)) in deletions.iter().zip(&clients) {
        let r = reqwest::Client::new()
            .delete(a.url(path))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(
            get(&a, "/cis/v1/users", token).await.0,
            401,
            "on the deleting node"
        );
        let deleted = Instant::now();
        loop {
            let (status, body) = get(&b, "/cis/v1/users", token).await;
            if status == 401 {
                assert_eq!(
                    body,
                    serde_json::json!({"message": "Invalid token", "error_code": 401})
                );
                break;
            }
            assert!(
                deleted.elapsed() < Duration::from_secs(5),
                "node B still accepts the token"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(get(&b, "/cis/v1/users", &admin).await.0, 200);
}
