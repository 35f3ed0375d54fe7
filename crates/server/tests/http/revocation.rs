//! Tokens of deleted clients and apps are refused at once on the node that deleted them
//! (other nodes: `process::hostile`).

use crate::common::TestApp;
use axum::http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_deleted_clients_token_is_refused_and_its_apps_other_clients_still_work() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let shop = app.create_app(&admin, "shop").await;
    let second = app
        .call(
            Method::POST,
            &format!("/cis/v1/applications/{}/clients", shop.app_id),
            Some(&admin),
            Some(json!({ "name": "second" })),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.json());
    let second_id = second.json()["client_id"].as_str().unwrap().to_owned();
    let doomed = app.token_for(&shop).await;
    let kept = {
        let r = app
            .token_request(&[
                ("grant_type", "client_credentials"),
                ("client_id", &second_id),
                (
                    "client_secret",
                    second.json()["client_secret"].as_str().unwrap(),
                ),
            ])
            .await;
        r.json()["access_token"].as_str().unwrap().to_owned()
    };
    assert_eq!(list(&app, &doomed).await, StatusCode::OK);
    let deleted = app
        .call(
            Method::DELETE,
            &format!(
                "/cis/v1/applications/{}/clients/{}",
                shop.app_id, shop.client_id
            ),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let refused = app
        .call(Method::GET, "/cis/v1/users", Some(&doomed), None)
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.json(),
        json!({"message": "Invalid token", "error_code": 401})
    );
    assert_eq!(list(&app, &kept).await, StatusCode::OK);

    // Deleting the app takes every token of its clients with it.
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/cis/v1/applications/{}", shop.app_id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(list(&app, &kept).await, StatusCode::UNAUTHORIZED);
    assert_eq!(list(&app, &admin).await, StatusCode::OK);
}

async fn list(app: &TestApp, token: &str) -> StatusCode {
    app.call(Method::GET, "/cis/v1/users", Some(token), None)
        .await
        .status
}
