//! Whole client flows over a real socket: a Transmit provisioning tool, and tenants made by
//! the CLI.

use crate::harness::*;
use serde_json::Value;

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
        ("ROSTER_LOG_LEVEL", "debug"),
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
    assert_eq!(
        send_json(Method::POST, users.clone(), &client, signup)
            .await
            .0,
        409
    );
    let phone = serde_json::json!({"phone_number": "+14155550123", "email": "kim@example.com"});
    assert_eq!(send_json(Method::POST, users, &client, phone).await.0, 201);
    let wrong = serde_json::json!({"username": "jo@example.com", "username_type": "email", "password": "Wr0ng!Passw0rd-z"});
    let login = server.url("/cis/v1/auth/password/authenticate");
    assert_eq!(send_json(Method::POST, login, &client, wrong).await.0, 401);

    // Not one log line of all that, at debug level, holds a secret, password, token,
    // email address or phone number.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let lines: Vec<String> = server.rest.try_iter().collect();
    assert!(lines.len() > 10, "too few log lines to judge: {lines:#?}");
    let secrets = [
        secret,
        app["client_secret"].as_str().unwrap(),
        &admin,
        &client,
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
        strong,
        "An0ther!Passw0rd-y",
        "Wr0ng!Passw0rd-z",
        "jo@example.com",
        "kim@example.com",
        "4155550123",
    ];
    for line in &lines {
        for s in secrets {
            assert!(!line.contains(s), "a log line holds {s}: {line}");
        }
    }
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
