use crate::common::TestApp;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

#[tokio::test]
async fn unknown_routes_are_json_404() {
    let app = TestApp::new().await;
    for path in ["/nope", "/cis/v1/nothing", "/cis"] {
        let r = app.call(Method::GET, path, None, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.headers["content-type"], "application/json");
        assert_eq!(r.json()["error_code"], 404);
        assert!(r.json()["message"].is_string());
    }
}

#[tokio::test]
async fn wrong_methods_are_json_405() {
    let app = TestApp::new().await;
    for (method, path) in [
        (Method::DELETE, "/healthz"),
        (Method::PATCH, "/cis/v1/applications"),
        (Method::GET, "/oidc/token"),
        (Method::GET, "/cis/oidc/token"),
    ] {
        let r = app.call(method.clone(), path, None, None).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(
            r.json(),
            json!({"message": "Method not allowed", "error_code": 405})
        );
    }
}

async fn post_raw(
    app: &TestApp,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> crate::common::Response {
    app.send(
        Request::post("/cis/v1/applications")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn malformed_json_is_a_400_with_a_message_list() {
    let app = TestApp::new().await;
    let token = app.admin_token().await;
    for body in [&b"{"[..], b"not json", b"", b"[1,2]"] {
        let r = post_raw(&app, &token, "application/json", body.to_vec()).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{:?}",
            String::from_utf8_lossy(body)
        );
        let json = r.json();
        assert_eq!(json["error_code"], 400);
        assert!(json["message"].is_array(), "{json}");
    }
}

#[tokio::test]
async fn wrong_field_types_name_the_field() {
    let app = TestApp::new().await;
    let token = app.admin_token().await;
    let r = app
        .call(
            Method::POST,
            "/cis/v1/applications",
            Some(&token),
            Some(json!({"app_name": 42})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let message = r.json()["message"][0].as_str().unwrap().to_owned();
    assert!(message.starts_with("app_name"), "{message}");

    let r = app
        .call(
            Method::POST,
            "/cis/v1/applications",
            Some(&token),
            Some(json!({"app_name": "x", "password_configuration": {"passwordMinLength": "long"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let message = r.json()["message"][0].as_str().unwrap().to_owned();
    assert!(
        message.contains("password_configuration.passwordMinLength"),
        "{message}"
    );
}

#[tokio::test]
async fn an_array_where_an_object_belongs_is_400_never_read_by_position() {
    let app = TestApp::new().await;
    let token = app.admin_token().await;
    let cases = [
        ("/cis/v1/users", json!(["jo@example.com"]), "request body"),
        (
            "/cis/v1/users",
            json!({"username": "jo", "name": ["Jo", "Doe"]}),
            "name:",
        ),
        (
            "/cis/v1/users",
            json!({"username": "jo", "address": ["Paris"]}),
            "address:",
        ),
        (
            "/cis/v1/users",
            json!({"username": "jo", "credentials": ["Secret-Pa55word!"]}),
            "credentials:",
        ),
        ("/cis/v1/applications", json!(["app"]), "request body"),
        (
            "/cis/v1/applications",
            json!({"app_name": "x", "password_configuration": [12]}),
            "password_configuration:",
        ),
        (
            "/cis/v1/applications",
            json!({"app_name": "x", "login_preferences": {"auth_methods": [{}]}}),
            "login_preferences.auth_methods:",
        ),
        ("/cis/v1/users/bulk", json!([["jo@example.com"]]), ""),
    ];
    for (path, body, field) in cases {
        let r = app
            .call(Method::POST, path, Some(&token), Some(body.clone()))
            .await;
        let text = r.json().to_string();
        if path.ends_with("bulk") {
            // A bulk item is refused on its own, naming its index.
            assert!(text.contains("expected an object"), "{body}: {text}");
            continue;
        }
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {text}");
        let message = r.json()["message"][0].as_str().unwrap().to_owned();
        assert!(
            message.starts_with(field) && message.contains("expected an object"),
            "{body}: {message}"
        );
    }
    let r = app
        .call(Method::GET, "/cis/v1/users/count", Some(&token), None)
        .await;
    assert_eq!(r.json()["result"]["user_count"], 0, "nothing was created");
}

#[tokio::test]
async fn a_wrong_content_type_is_400() {
    // `DECISIONS.md`: Transmit documents no 415.
    let app = TestApp::new().await;
    let token = app.admin_token().await;
    let r = post_raw(&app, &token, "text/plain", br#"{"app_name":"x"}"#.to_vec()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error_code"], 400);
    assert_eq!(
        r.json()["message"][0],
        "Content-Type must be application/json"
    );
}

#[tokio::test]
async fn bodies_over_one_mib_are_413() {
    let app = TestApp::new().await;
    let token = app.admin_token().await;
    let big = format!(
        r#"{{"app_name":"x","app_description":"{}"}}"#,
        "a".repeat(1024 * 1024)
    );
    let r = post_raw(&app, &token, "application/json", big.into_bytes()).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.json()["error_code"], 413);

    // Just under the limit is read (and then refused for its length, as a 400).
    let under = format!(
        r#"{{"app_name":"x","app_description":"{}"}}"#,
        "a".repeat(1024 * 1000)
    );
    let r = post_raw(&app, &token, "application/json", under.into_bytes()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let form = format!(
        "grant_type=client_credentials&pad={}",
        "a".repeat(1024 * 1024)
    );
    let r = app
        .send(
            Request::post("/oidc/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::new().await;
    let r = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], "ok");
    let r = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], "ready");
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = TestApp::new().await;
    app.store.close().await;
    let r = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json()["error_code"], 503);
    assert_eq!(
        app.call(Method::GET, "/healthz", None, None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::new().await;
    let r = app.call(Method::GET, "/healthz", None, None).await;
    assert!(!r.headers["x-request-id"].is_empty());
    let r = app
        .send(
            Request::get("/healthz")
                .header("x-request-id", "given-id")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.headers["x-request-id"], "given-id");
}

#[tokio::test]
async fn the_openapi_document_is_served_without_a_token() {
    let app = TestApp::new().await;
    let r = app.call(Method::GET, "/cis/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert_eq!(doc, *roster_api::openapi::document());
    for path in [
        "/cis/v1/users",
        "/cis/v1/users/bulk",
        "/oidc/token",
        "/healthz",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
}

/// `DECISIONS.md`: one document per body, no key twice at any depth, nesting at most 64.
#[tokio::test]
async fn json_bodies_are_strict() {
    let app = TestApp::new().await;
    let token = app.admin_token().await;
    let deep = format!(
        r#"{{"app_name": "deep", "logo": {}1{}}}"#,
        "[".repeat(64),
        "]".repeat(64)
    );
    for (body, says) in [
        (r#"{"app_name": "a"} trailing"#.to_owned(), "trailing characters"),
        (r#"{"app_name": "a"}{"app_name": "b"}"#.to_owned(), "trailing characters"),
        (r#"{"app_name": "a", "app_name": "b"}"#.to_owned(), "app_name is given twice"),
        (
            r#"{"app_name": "a", "password_configuration": {"passwordMinLength": 8, "passwordMinLength": 9}}"#.to_owned(),
            "password_configuration.passwordMinLength is given twice",
        ),
        (deep, "deeper than 64"),
    ] {
        let r = post_raw(&app, &token, "application/json", body.clone().into_bytes()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        let message = r.json()["message"][0].as_str().unwrap().to_owned();
        assert!(message.contains(says), "{body}: {message}");
    }
    // Nothing was created by any of them.
    let r = app
        .call(Method::GET, "/cis/v1/applications", Some(&token), None)
        .await;
    assert_eq!(r.json()["result"].as_array().unwrap().len(), 1);
}
