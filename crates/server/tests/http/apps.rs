use crate::common::TestApp;
use axum::http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn apps_lifecycle() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let r = app
        .call(
            Method::POST,
            "/cis/v1/applications",
            Some(&admin),
            Some(json!({
                "app_name": "Shop",
                "app_description": "the shop",
                "redirect_uris": ["https://shop.example/cb"],
                "password_configuration": {"passwordMinLength": 10}
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let created = r.json()["result"].clone();
    let app_id = created["app_id"].as_str().unwrap().to_owned();
    assert_eq!(created["app_id"].as_str().unwrap().len(), 21);
    assert_eq!(created["tenant_id"], app.tenant.as_str());
    assert_eq!(created["app_name"], "Shop");
    assert_eq!(created["app_description"], "the shop");
    assert_eq!(created["redirect_uris"], json!(["https://shop.example/cb"]));
    assert_eq!(created["password_configuration"]["passwordMinLength"], 10);
    assert_eq!(created["password_configuration"]["passwordComplexity"], 5);
    assert!(created["client_secret"]
        .as_str()
        .unwrap()
        .starts_with("rsec_"));
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));

    let r = app
        .call(
            Method::GET,
            &format!("/cis/v1/applications/{app_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let read = r.json()["result"].clone();
    assert_eq!(read["app_name"], "Shop");
    assert!(
        read.get("client_secret").is_none(),
        "secret only at creation"
    );

    let r = app
        .call(Method::GET, "/cis/v1/applications", Some(&admin), None)
        .await;
    let names: Vec<_> = r.json()["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["app_name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, vec!["Management", "Shop"]);

    let r = app
        .call(
            Method::PUT,
            &format!("/cis/v1/applications/{app_id}"),
            Some(&admin),
            Some(
                json!({"app_name": "Shop 2", "password_configuration": {"passwordComplexity": 3}}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let updated = r.json()["result"].clone();
    assert_eq!(updated["app_name"], "Shop 2");
    assert_eq!(updated["app_description"], "the shop");
    // Objects are replaced whole: the min length is back to its default.
    assert_eq!(updated["password_configuration"]["passwordComplexity"], 3);
    assert_eq!(updated["password_configuration"]["passwordMinLength"], 14);

    let r = app
        .call(
            Method::DELETE,
            &format!("/cis/v1/applications/{app_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.is_empty());
    let r = app
        .call(
            Method::GET,
            &format!("/cis/v1/applications/{app_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.json(),
        json!({"message": "App not found", "error_code": 404})
    );
}

#[tokio::test]
async fn app_validation_names_the_field() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let cases = [
        (json!({}), "app_name is required"),
        (json!({"app_name": "  "}), "app_name is required"),
        (
            json!({"app_name": "x".repeat(129)}),
            "app_name must be at most 128 characters",
        ),
        (
            json!({"app_name": "x", "password_configuration": {"passwordComplexity": 9}}),
            "password_configuration.passwordComplexity must be between 1 and 5",
        ),
        (
            json!({"app_name": "x", "password_configuration": {"noSuchSetting": 1}}),
            "password_configuration",
        ),
    ];
    for (body, expected) in cases {
        let r = app
            .call(
                Method::POST,
                "/cis/v1/applications",
                Some(&admin),
                Some(body.clone()),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        let message = r.json()["message"][0].as_str().unwrap().to_owned();
        assert!(message.contains(expected), "{body}: {message}");
    }
    let shop = app.create_app(&admin, "Shop").await;
    let r = app
        .call(
            Method::PUT,
            &format!("/cis/v1/applications/{}", shop.app_id),
            Some(&admin),
            Some(json!({"app_name": ""})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn app_names_conflict_with_409_on_create_and_400_on_update() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    app.create_app(&admin, "Shop").await;
    let blog = app.create_app(&admin, "Blog").await;
    let r = app
        .call(
            Method::POST,
            "/cis/v1/applications",
            Some(&admin),
            Some(json!({"app_name": "Shop"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let body = r.json();
    assert_eq!(body["error_code"], 409);
    assert_eq!(body["ts_error_code"], "APP_NAME_TAKEN");
    let r = app
        .call(
            Method::PUT,
            &format!("/cis/v1/applications/{}", blog.app_id),
            Some(&admin),
            Some(json!({"app_name": "Shop"})),
        )
        .await;
    // updateApp documents no 409: the same code in a 400.
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["ts_error_code"], "APP_NAME_TAKEN");
}

#[tokio::test]
async fn the_management_app_cannot_be_deleted() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let r = app
        .call(
            Method::DELETE,
            &format!("/cis/v1/applications/{}", app.admin.app_id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.call(Method::GET, "/cis/v1/applications", Some(&admin), None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn clients_lifecycle() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let shop = app.create_app(&admin, "Shop").await;
    let base = format!("/cis/v1/applications/{}/clients", shop.app_id);

    let r = app
        .call(
            Method::POST,
            &base,
            Some(&admin),
            Some(json!({"name": "backend", "description": "server side", "redirect_uris": ["https://shop.example/cb"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let created = r.json();
    let client_id = created["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(created["app_id"], shop.app_id.as_str());
    assert_eq!(created["tenant_id"], app.tenant.as_str());
    assert_eq!(created["name"], "backend");
    assert_eq!(created["description"], "server side");
    assert_eq!(created["authentication_protocol"], "oidc");

    let r = app.call(Method::GET, &base, Some(&admin), None).await;
    let list = r.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "default client and the new one");
    // Secrets are shown once: reads carry a mask in the required field.
    assert!(list.iter().all(|c| c["client_secret"] == "********"));

    let r = app
        .call(
            Method::GET,
            &format!("{base}/{client_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["name"], "backend");
    assert_eq!(r.json()["client_secret"], "********");

    // The new client gets tokens; after deletion it does not.
    let creds = crate::common::Credentials {
        app_id: shop.app_id.clone(),
        client_id: client_id.clone(),
        client_secret: secret,
    };
    app.token_for(&creds).await;
    let r = app
        .call(
            Method::DELETE,
            &format!("{base}/{client_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app
        .call(
            Method::GET,
            &format!("{base}/{client_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.json(),
        json!({"message": "Client not found", "error_code": 404})
    );
    let r = app.client_credentials(&creds).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn client_validation_and_missing_apps() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let shop = app.create_app(&admin, "Shop").await;
    let base = format!("/cis/v1/applications/{}/clients", shop.app_id);
    let r = app
        .call(Method::POST, &base, Some(&admin), Some(json!({})))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["message"][0], "name is required");
    let r = app
        .call(
            Method::POST,
            &base,
            Some(&admin),
            Some(json!({"name": "x", "resources": [""]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["message"][0], "resources[0] must not be empty");
    let r = app
        .call(
            Method::POST,
            "/cis/v1/applications/no-such-app/clients",
            Some(&admin),
            Some(json!({"name": "x"})),
        )
        .await;
    // createAppClient and getAppClients document no 404: an unknown app is a 400.
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["message"][0], "appId names no app of this tenant");
    let r = app
        .call(
            Method::GET,
            "/cis/v1/applications/no-such-app/clients",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .call(
            Method::POST,
            &base,
            Some(&admin),
            Some(json!({"name": "x", "authentication_protocol": "saml", "sp_entity_id": "urn:x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["message"][0].as_str().unwrap().contains("SAML"));
}

/// Every field `ApiApp` and `ApiOidcClient` require is present, with Roster's values.
#[tokio::test]
async fn answers_carry_every_field_transmit_requires() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let shop = app.create_app(&admin, "Shop").await;
    let r = app
        .call(
            Method::GET,
            &format!("/cis/v1/applications/{}", shop.app_id),
            Some(&admin),
            None,
        )
        .await;
    let view = r.json()["result"].clone();
    for field in [
        "app_id",
        "tenant_id",
        "app_name",
        "app_description",
        "logo",
        "login_preferences",
        "created_at",
        "created_by",
        "updated_at",
        "service_providers",
        "authenticator_preferences",
        "allow_public_signup",
    ] {
        assert!(view.get(field).is_some(), "ApiApp.{field} missing: {view}");
    }
    assert_eq!(view["created_by"], app.admin.client_id.as_str());
    assert_eq!(view["authenticator_preferences"]["is_centralized"], false);
    let password = &view["login_preferences"]["auth_methods"]["password"];
    assert_eq!(password["message"]["primaryColor"], "#000000");
    let brief = app
        .call(Method::GET, "/cis/v1/applications/list", Some(&admin), None)
        .await;
    assert_eq!(brief.status, StatusCode::OK);
    let names: Vec<_> = brief.json()["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["app_name"].clone())
        .collect();
    assert!(names.contains(&json!("Shop")), "{names:?}");

    let r = app
        .call(
            Method::GET,
            &format!(
                "/cis/v1/applications/{}/clients/{}",
                shop.app_id, shop.client_id
            ),
            Some(&admin),
            None,
        )
        .await;
    let client = r.json();
    for field in [
        "app_id",
        "tenant_id",
        "client_id",
        "client_secret",
        "name",
        "description",
        "resources",
        "created_at",
        "updated_at",
        "authentication_protocol",
        "client_group_id",
        "default_custom_claims",
        "redirect_uris",
        "device_authorization",
        "ciba_authorization",
        "supported_prompts",
        "token_expiration",
        "session_expiration",
        "enforce_par",
        "fapi_version_compliancy",
    ] {
        assert!(
            client.get(field).is_some(),
            "ApiOidcClient.{field} missing: {client}"
        );
    }
    assert_eq!(client["token_expiration"]["access_token_ttl"], 3600);
    assert_eq!(client["client_group_id"], shop.app_id.as_str());
}

#[tokio::test]
async fn clients_update_and_delete_all() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let shop = app.create_app(&admin, "Shop").await;
    let base = format!("/cis/v1/applications/{}/clients", shop.app_id);
    let one = format!("{base}/{}", shop.client_id);
    let change =
        json!({"name": "renamed", "description": "d", "resources": ["https://api.shop.example"]});
    let r = app
        .call(Method::PUT, &one, Some(&admin), Some(change))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert_eq!(r.json()["name"], "renamed");
    assert_eq!(r.json()["resources"], json!(["https://api.shop.example"]));
    // The secret is unchanged: the client still gets tokens.
    app.token_for(&shop).await;
    let r = app
        .call(Method::PUT, &one, Some(&admin), Some(json!({"name": ""})))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .call(
            Method::PUT,
            &format!("{base}/nope"),
            Some(&admin),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Delete all: the app's clients go and their tokens stop; the admin's own app and
    // client are refused, so the caller cannot lock itself out.
    let r = app.call(Method::DELETE, &base, Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.call(Method::GET, &base, Some(&admin), None).await;
    assert_eq!(r.json(), json!([]));
    let r = app.client_credentials(&shop).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let own_app = format!("/cis/v1/applications/{}/clients", app.admin.app_id);
    let r = app.call(Method::DELETE, &own_app, Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let own = format!("{own_app}/{}", app.admin.client_id);
    let r = app.call(Method::DELETE, &own, Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .call(
            Method::DELETE,
            "/cis/v1/applications/nope/clients",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deleting_an_app_revokes_its_clients() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let shop = app.create_app(&admin, "Shop").await;
    app.token_for(&shop).await;
    app.call(
        Method::DELETE,
        &format!("/cis/v1/applications/{}", shop.app_id),
        Some(&admin),
        None,
    )
    .await;
    let r = app.client_credentials(&shop).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
