//! The ready signal for test runners: on `--listen 127.0.0.1:0` the server picks a free
//! port, prints `roster listening on URL` on stdout and writes the URL to `--ready-file`.

use crate::harness::BIN;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn port_zero_is_announced_on_stdout_and_in_the_ready_file() {
    let dir = tempfile::tempdir().unwrap();
    let start = |ready: &std::path::Path| {
        Command::new(BIN)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--database",
                "sqlite::memory:",
            ])
            .arg("--ready-file")
            .arg(ready)
            .env_remove("ROSTER_CONFIG")
            .env_remove("ROSTER_PUBLIC_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut urls = Vec::new();
    // Two servers at once: each gets its own port.
    let files = [dir.path().join("a"), dir.path().join("b")];
    let mut children: Vec<_> = files.iter().map(|f| start(f)).collect();
    for child in &mut children {
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim_end()
            .strip_prefix("roster listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        assert!(!url.ends_with(":0"), "{url}");
        urls.push(url);
    }
    assert_ne!(urls[0], urls[1]);
    // Each file holds its server's URL, whole, and nothing else is left in the directory.
    for (file, url) in files.iter().zip(&urls) {
        assert_eq!(std::fs::read_to_string(file).unwrap(), format!("{url}\n"));
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    let rt = tokio::runtime::Runtime::new().unwrap();
    for url in &urls {
        rt.block_on(async {
            let health = reqwest::get(format!("{url}/healthz")).await.unwrap();
            assert_eq!(health.status(), 200);
            // With no --public-url, tokens are issued by the URL actually bound.
            let discovery: serde_json::Value =
                reqwest::get(format!("{url}/.well-known/openid-configuration"))
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
            assert_eq!(discovery["issuer"], serde_json::json!(url), "{discovery}");
        });
    }
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
}
