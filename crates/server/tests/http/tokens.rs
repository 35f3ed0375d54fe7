use crate::common::{jwt_claims, TestApp, ISSUER};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;

#[tokio::test]
async fn client_credentials_grant_issues_a_token() {
    let app = TestApp::new().await;
    let r = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &app.admin.client_id),
            ("client_secret", &app.admin.client_secret),
        ])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["cache-control"], "no-store");
    let body = r.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body["scope"].is_string());
    let claims = jwt_claims(body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], app.admin.client_id.as_str());
    assert_eq!(claims["client_id"], app.admin.client_id.as_str());
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["aud"], "userid-api");
    assert_eq!(claims["tid"], app.tenant.as_str());
    assert_eq!(claims["app_id"], app.admin.app_id.as_str());
    assert_eq!(claims["app_name"], "Management");
    assert_eq!(claims["roles"], serde_json::json!(["Admin"]));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert!(claims["jti"].as_str().unwrap().len() >= 16);
    let header = jsonwebtoken::decode_header(body["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    assert!(header.kid.is_some());
}

#[tokio::test]
async fn the_token_endpoint_also_lives_under_cis() {
    let app = TestApp::new().await;
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        app.admin.client_id, app.admin.client_secret
    );
    let r = app
        .send(
            Request::post("/cis/oidc/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn app_clients_get_non_admin_tokens() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let shop = app.create_app(&admin, "Shop").await;
    let claims = jwt_claims(&app.token_for(&shop).await);
    assert_eq!(claims["roles"], serde_json::json!([]));
    assert_eq!(claims["app_name"], "Shop");
    assert_eq!(claims["app_id"], shop.app_id.as_str());
}

#[tokio::test]
async fn wrong_secret_and_unknown_client_are_the_same_401() {
    let app = TestApp::new().await;
    let wrong = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &app.admin.client_id),
            ("client_secret", "rsec_not-the-secret"),
        ])
        .await;
    let unknown = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", "no-such-client"),
            ("client_secret", "rsec_not-the-secret"),
        ])
        .await;
    for r in [&wrong, &unknown] {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.json()["error"], "invalid_client");
    }
    assert_eq!(wrong.body, unknown.body);
}

#[tokio::test]
async fn missing_fields_are_invalid_requests() {
    let app = TestApp::new().await;
    let id = app.admin.client_id.clone();
    let secret = app.admin.client_secret.clone();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("client_id", &id), ("client_secret", &secret)],
            "grant_type",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_secret", &secret),
            ],
            "client_id",
        ),
        (
            vec![("grant_type", "client_credentials"), ("client_id", &id)],
            "client_secret",
        ),
    ];
    for (form, field) in cases {
        let r = app.token_request(&form).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{field}");
        let body = r.json();
        assert_eq!(body["error"], "invalid_request");
        assert!(
            body["error_description"].as_str().unwrap().contains(field),
            "{body}"
        );
    }
}

#[tokio::test]
async fn other_grant_types_are_unsupported() {
    let app = TestApp::new().await;
    let r = app
        .token_request(&[
            ("grant_type", "implicit"),
            ("client_id", &app.admin.client_id),
            ("client_secret", &app.admin.client_secret),
        ])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn http_basic_client_authentication_works() {
    let app = TestApp::new().await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        app.admin.client_id, app.admin.client_secret
    ));
    let r = app
        .send(
            Request::post("/oidc/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("authorization", format!("Basic {basic}"))
                .body(Body::from("grant_type=client_credentials"))
                .unwrap(),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );

    let bad = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:wrong-secret", app.admin.client_id));
    let r = app
        .send(
            Request::post("/oidc/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("authorization", format!("Basic {bad}"))
                .body(Body::from("grant_type=client_credentials"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"], "invalid_client");
}

#[tokio::test]
async fn resource_becomes_the_audience() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let shop = app.create_app(&admin, "Shop").await;
    let r = app
        .call(
            axum::http::Method::POST,
            &format!("/cis/v1/applications/{}/clients", shop.app_id),
            Some(&admin),
            Some(serde_json::json!({
                "name": "api client",
                "resources": ["https://api.shop.example"]
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let client = r.json();
    let (id, secret) = (
        client["client_id"].as_str().unwrap(),
        client["client_secret"].as_str().unwrap(),
    );
    let r = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("resource", "https://api.shop.example"),
        ])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let token = r.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_claims(&token)["aud"], "https://api.shop.example");
    // A token for another audience is not accepted by this API.
    let r = app
        .call(
            axum::http::Method::GET,
            "/cis/v1/applications",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // A resource the client was not given is refused.
    let r = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("resource", "https://elsewhere.example"),
        ])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "invalid_target");
}

#[tokio::test]
async fn a_form_body_is_required() {
    let app = TestApp::new().await;
    let r = app
        .send(
            Request::post("/oidc/token")
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "invalid_request");
}

#[tokio::test]
async fn repeated_parameters_are_refused() {
    let app = TestApp::new().await;
    let r = app
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &app.admin.client_id),
            ("client_id", &app.admin.client_id),
            ("client_secret", &app.admin.client_secret),
        ])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "invalid_request");
}

#[tokio::test]
async fn jwks_and_discovery_publish_the_key() {
    let app = TestApp::new().await;
    let jwks = app
        .call(axum::http::Method::GET, "/cis/oidc/jwks", None, None)
        .await
        .json();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    let token = app.admin_token().await;
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    assert!(jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["kid"] == kid.as_str()));
    // The published key verifies the token.
    let decoding = jsonwebtoken::DecodingKey::from_jwk(
        &serde_json::from_value(
            jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["kid"] == kid.as_str())
                .unwrap()
                .clone(),
        )
        .unwrap(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_audience(&["userid-api"]);
    jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation).unwrap();

    for path in [
        "/.well-known/openid-configuration",
        "/cis/oidc/.well-known/openid-configuration",
    ] {
        let d = app
            .call(axum::http::Method::GET, path, None, None)
            .await
            .json();
        assert_eq!(d["issuer"], ISSUER);
        assert_eq!(d["token_endpoint"], format!("{ISSUER}/oidc/token"));
        assert_eq!(d["jwks_uri"], format!("{ISSUER}/cis/oidc/jwks"));
    }
}

#[tokio::test]
async fn a_scope_over_one_kilobyte_is_refused() {
    let app = TestApp::new().await;
    let form = |scope: String| {
        vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", app.admin.client_id.clone()),
            ("client_secret", app.admin.client_secret.clone()),
            ("scope", scope),
        ]
    };
    for (len, status) in [(1024, StatusCode::OK), (1025, StatusCode::BAD_REQUEST)] {
        let pairs = form("s".repeat(len));
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app.token_request(&pairs).await;
        assert_eq!(
            r.status,
            status,
            "{len}: {}",
            String::from_utf8_lossy(&r.body)
        );
        if status == StatusCode::BAD_REQUEST {
            assert_eq!(r.json()["error"], "invalid_scope");
        }
    }
}

/// Tokens this server signed but dated in the future (beyond 30 s of leeway) are refused.
#[tokio::test]
async fn tokens_from_the_future_are_refused() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let mut claims = jwt_claims(&admin);
    let now = claims["iat"].as_i64().unwrap();
    let check = |token: String| {
        let app = &app;
        async move {
            app.send(
                Request::get("/cis/v1/applications")
                    .header("authorization", format!("Bearer {token}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .status
        }
    };
    assert_eq!(check(app.keys.sign(&claims).unwrap()).await, StatusCode::OK);
    claims["iat"] = (now + 300).into();
    assert_eq!(
        check(app.keys.sign(&claims).unwrap()).await,
        StatusCode::UNAUTHORIZED
    );
    claims["iat"] = now.into();
    claims["nbf"] = (now + 300).into();
    assert_eq!(
        check(app.keys.sign(&claims).unwrap()).await,
        StatusCode::UNAUTHORIZED
    );
    claims["nbf"] = (now + 10).into();
    assert_eq!(check(app.keys.sign(&claims).unwrap()).await, StatusCode::OK);
}
