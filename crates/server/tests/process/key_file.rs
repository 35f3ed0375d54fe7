//! The signing key at rest: sealed in the database when a key file is given, and
//! unreadable without that file.

use crate::harness::*;

fn stored_private_key(db_path: &std::path::Path) -> String {
    let conn = rusqlite::Connection::open(db_path).unwrap();
    conn.query_row(
        "SELECT private_key FROM signing_keys WHERE purpose = 'primary'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

fn serve_fails(db: &str, env: &[(&str, &str)]) -> String {
    let out = command(db, env).output().unwrap();
    assert!(!out.status.success(), "started without the right key file");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn the_signing_key_is_sealed_with_the_key_file_and_needs_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(&dir);
    let db_path = dir.path().join("roster.db");
    let key_path = dir.path().join("roster.key");
    std::fs::write(&key_path, "k2VbX1mY8cQm3pL7tR0wZ5uN9aE4sH6jD1fG8\n").unwrap();
    let wrong_path = dir.path().join("wrong.key");
    std::fs::write(&wrong_path, "a different key file of enough bytes\n").unwrap();
    let env = [
        ("ROSTER_BOOTSTRAP_CLIENT_ID", "sealed-admin"),
        ("ROSTER_BOOTSTRAP_CLIENT_SECRET", "sealed-admin-secret"),
    ];

    // Started without a key file, the key is stored as is; a later start with one seals it.
    let server = start(&db, &env);
    let before = access_token(&server, "sealed-admin", "sealed-admin-secret").await;
    assert!(server.stop().success());
    assert!(!stored_private_key(&db_path).starts_with("enc:v1:"));

    let key = key_path.to_str().unwrap();
    let with_key: Vec<(&str, &str)> = env
        .iter()
        .copied()
        .chain([("ROSTER_KEY_FILE", key)])
        .collect();
    let server = start(&db, &with_key);
    let sealed = stored_private_key(&db_path);
    assert!(sealed.starts_with("enc:v1:"), "{sealed}");
    // Same key, sealed: tokens signed before still verify, new ones are signed.
    assert_eq!(get(&server, "/cis/v1/applications", &before).await.0, 200);
    access_token(&server, "sealed-admin", "sealed-admin-secret").await;
    assert!(server.stop().success());

    // Without the file, or with another one, the server refuses to start and says why.
    let err = serve_fails(&db, &env);
    assert!(err.contains("--key-file"), "{err}");
    let wrong = wrong_path.to_str().unwrap();
    let err = serve_fails(
        &db,
        &env.iter()
            .copied()
            .chain([("ROSTER_KEY_FILE", wrong)])
            .collect::<Vec<_>>(),
    );
    assert!(err.contains("does not open"), "{err}");
    assert!(
        !err.contains(&sealed[7..20]),
        "the stored key was printed: {err}"
    );

    // A key file too short to be key material is refused before anything is touched.
    let short = dir.path().join("short.key");
    std::fs::write(&short, "tiny").unwrap();
    let err = serve_fails(
        &db,
        &env.iter()
            .copied()
            .chain([("ROSTER_KEY_FILE", short.to_str().unwrap())])
            .collect::<Vec<_>>(),
    );
    assert!(err.contains("32 bytes"), "{err}");
    assert_eq!(stored_private_key(&db_path), sealed);
}
