use crate::common::{jwt_claims, TestApp, ISSUER};
use axum::http::{Method, StatusCode};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

/// Valid admin claims for this test app, to be altered by each case.
async fn claims(app: &TestApp) -> Value {
    jwt_claims(&app.admin_token().await)
}

/// Signs with the server's own key: only the claims decide the outcome.
async fn sign_with_server_key(app: &TestApp, claims: &Value) -> String {
    let key = app
        .store
        .signing_keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.purpose == "primary")
        .unwrap();
    let pkcs8 = STANDARD.decode(&key.private_key).unwrap();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.kid);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(&pkcs8)).unwrap()
}

async fn status_with(app: &TestApp, token: &str) -> (StatusCode, Value) {
    let r = app
        .call(Method::GET, "/cis/v1/applications", Some(token), None)
        .await;
    (r.status, r.json())
}

async fn assert_refused(app: &TestApp, token: &str, case: &str) {
    let (status, body) = status_with(app, token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}");
    assert_eq!(
        body,
        json!({"message": "Invalid token", "error_code": 401}),
        "{case}"
    );
}

#[tokio::test]
async fn a_valid_token_is_accepted() {
    let app = TestApp::new().await;
    let forged = sign_with_server_key(&app, &claims(&app).await).await;
    assert_eq!(status_with(&app, &forged).await.0, StatusCode::OK);
}

#[tokio::test]
async fn missing_or_malformed_authorization_is_401() {
    let app = TestApp::new().await;
    let r = app
        .call(Method::GET, "/cis/v1/applications", None, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json(),
        json!({"message": "Invalid token", "error_code": 401})
    );
    assert_refused(&app, "not-a-jwt", "garbage").await;
    assert_refused(&app, "", "empty").await;
    let token = app.admin_token().await;
    let r = app
        .send(
            axum::http::Request::get("/cis/v1/applications")
                .header("authorization", format!("Token {token}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn alg_none_is_refused() {
    let app = TestApp::new().await;
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(&app).await.to_string());
    assert_refused(&app, &format!("{header}.{payload}."), "alg none").await;
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let app = TestApp::new().await;
    let key = app.store.signing_keys().await.unwrap().remove(0);
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(key.kid.clone());
    let c = claims(&app).await;
    for secret in [
        key.public_key.as_bytes().to_vec(),
        URL_SAFE_NO_PAD.decode(&key.public_key).unwrap(),
    ] {
        let token = jsonwebtoken::encode(&header, &c, &EncodingKey::from_secret(&secret)).unwrap();
        assert_refused(&app, &token, "HS256 with public key").await;
    }
}

#[tokio::test]
async fn unknown_kid_is_refused() {
    let app = TestApp::new().await;
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("not-a-known-kid".into());
    let token = jsonwebtoken::encode(
        &header,
        &claims(&app).await,
        &EncodingKey::from_ed_der(pkcs8.as_ref()),
    )
    .unwrap();
    assert_refused(&app, &token, "unknown kid").await;

    // The right kid with a key that is not the server's.
    let real_kid = app.store.signing_keys().await.unwrap().remove(0).kid;
    header.kid = Some(real_kid);
    let token = jsonwebtoken::encode(
        &header,
        &claims(&app).await,
        &EncodingKey::from_ed_der(pkcs8.as_ref()),
    )
    .unwrap();
    assert_refused(&app, &token, "foreign key").await;

    // No kid at all.
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::EdDSA),
        &claims(&app).await,
        &EncodingKey::from_ed_der(pkcs8.as_ref()),
    )
    .unwrap();
    assert_refused(&app, &token, "no kid").await;
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let app = TestApp::new().await;
    let mut c = claims(&app).await;
    let now = c["iat"].as_i64().unwrap();
    c["iat"] = json!(now - 7200);
    c["exp"] = json!(now - 120);
    let token = sign_with_server_key(&app, &c).await;
    assert_refused(&app, &token, "expired").await;

    // Within the small leeway it is still accepted.
    c["exp"] = json!(now - 5);
    let token = sign_with_server_key(&app, &c).await;
    assert_eq!(status_with(&app, &token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn wrong_issuer_or_audience_is_refused() {
    let app = TestApp::new().await;
    let mut c = claims(&app).await;
    c["iss"] = json!("https://evil.example");
    assert_refused(&app, &sign_with_server_key(&app, &c).await, "iss").await;
    let mut c = claims(&app).await;
    c["aud"] = json!("https://other-api.example");
    assert_refused(&app, &sign_with_server_key(&app, &c).await, "aud").await;
    let mut c = claims(&app).await;
    c.as_object_mut().unwrap().remove("exp");
    assert_refused(&app, &sign_with_server_key(&app, &c).await, "no exp").await;
    assert_eq!(claims(&app).await["iss"], ISSUER);
}

#[tokio::test]
async fn a_tampered_payload_is_refused() {
    let app = TestApp::new().await;
    let token = app.admin_token().await;
    let parts: Vec<&str> = token.split('.').collect();
    let mut c = jwt_claims(&token);
    c["tid"] = json!("some-other-tenant");
    let payload = URL_SAFE_NO_PAD.encode(c.to_string());
    assert_refused(
        &app,
        &format!("{}.{payload}.{}", parts[0], parts[2]),
        "tampered",
    )
    .await;
    let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    sig[0] ^= 1;
    let sig = URL_SAFE_NO_PAD.encode(sig);
    assert_refused(
        &app,
        &format!("{}.{}.{sig}", parts[0], parts[1]),
        "bad signature",
    )
    .await;
}

#[tokio::test]
async fn another_tenants_token_sees_404_not_403() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let shop = app.create_app(&admin, "Shop").await;
    let (_, other) = app.another_tenant().await;
    let other_token = app.token_for(&other).await;
    for (method, path, body) in [
        (
            Method::GET,
            format!("/cis/v1/applications/{}", shop.app_id),
            None,
        ),
        (
            Method::PUT,
            format!("/cis/v1/applications/{}", shop.app_id),
            Some(json!({"app_name": "mine"})),
        ),
        (
            Method::DELETE,
            format!("/cis/v1/applications/{}", shop.app_id),
            None,
        ),
        (
            Method::DELETE,
            format!("/cis/v1/applications/{}/clients", shop.app_id),
            None,
        ),
        (
            Method::PUT,
            format!(
                "/cis/v1/applications/{}/clients/{}",
                shop.app_id, shop.client_id
            ),
            Some(json!({"name": "mine"})),
        ),
        (
            Method::GET,
            format!(
                "/cis/v1/applications/{}/clients/{}",
                shop.app_id, shop.client_id
            ),
            None,
        ),
        (
            Method::DELETE,
            format!(
                "/cis/v1/applications/{}/clients/{}",
                shop.app_id, shop.client_id
            ),
            None,
        ),
    ] {
        let r = app
            .call(method.clone(), &path, Some(&other_token), body)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(r.json()["error_code"], 404);
    }
    // Client create and list document no 404: another tenant's app is answered exactly as
    // an app that does not exist, with a 400.
    for (method, body) in [
        (Method::GET, None),
        (Method::POST, Some(json!({"name": "x"}))),
    ] {
        let theirs = format!("/cis/v1/applications/{}/clients", shop.app_id);
        let r = app
            .call(method.clone(), &theirs, Some(&other_token), body.clone())
            .await;
        let none = app
            .call(
                method,
                "/cis/v1/applications/none/clients",
                Some(&other_token),
                body,
            )
            .await;
        assert_eq!((r.status, r.json()), (none.status, none.json()));
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }
    let list = app
        .call(
            Method::GET,
            "/cis/v1/applications",
            Some(&other_token),
            None,
        )
        .await
        .json();
    assert!(list["result"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["app_id"] != shop.app_id.as_str()));
    // Nothing was changed by those calls.
    let r = app
        .call(
            Method::GET,
            &format!("/cis/v1/applications/{}", shop.app_id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.json()["result"]["app_name"], "Shop");
}

#[tokio::test]
async fn client_tokens_cannot_use_the_applications_api() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let shop = app.create_app(&admin, "Shop").await;
    let client_token = app.token_for(&shop).await;
    for (method, path, body) in [
        (Method::GET, "/cis/v1/applications".to_string(), None),
        (
            Method::POST,
            "/cis/v1/applications".to_string(),
            Some(json!({"app_name": "x"})),
        ),
        (
            Method::GET,
            format!("/cis/v1/applications/{}", shop.app_id),
            None,
        ),
        (
            Method::PUT,
            format!("/cis/v1/applications/{}", shop.app_id),
            Some(json!({"app_name": "y"})),
        ),
        (
            Method::DELETE,
            format!("/cis/v1/applications/{}", shop.app_id),
            None,
        ),
        (
            Method::POST,
            format!("/cis/v1/applications/{}/clients", shop.app_id),
            Some(json!({"name": "x"})),
        ),
        (
            Method::GET,
            format!("/cis/v1/applications/{}/clients", shop.app_id),
            None,
        ),
    ] {
        let r = app
            .call(method.clone(), &path, Some(&client_token), body)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}");
        let body = r.json();
        assert_eq!(body["error_code"], 403);
        assert!(
            body["message"].as_str().unwrap().contains("apps:"),
            "{body}"
        );
    }
    let r = app
        .call(Method::GET, "/cis/v1/applications", Some(&admin), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
}
