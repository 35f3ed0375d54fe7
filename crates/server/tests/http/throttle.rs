//! Token-endpoint throttling: failed client authentications cool a client_id down.

use crate::common::TestApp;
use axum::http::StatusCode;
use std::time::Duration;

fn wrong(client_id: &str) -> [(&str, &str); 3] {
    [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", "rsec_a-wrong-guess"),
    ]
}

#[tokio::test]
async fn failed_authentications_cool_the_client_down_and_the_right_secret_works_after() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let other = app.create_app(&admin, "bystander").await;
    let id = app.admin.client_id.clone();
    // The quota (20 a minute) is answered as ordinary failures.
    for _ in 0..20 {
        assert_eq!(
            app.token_request(&wrong(&id)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let refused = app.token_request(&wrong(&id)).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.json()["error"], "temporarily_unavailable");
    let retry_after: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3).contains(&retry_after), "Retry-After {retry_after}");
    // While it cools down even the right secret is refused: a guess made now teaches nothing.
    let right = [
        ("grant_type", "client_credentials"),
        ("client_id", id.as_str()),
        ("client_secret", app.admin.client_secret.as_str()),
    ];
    assert_eq!(
        app.token_request(&right).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Other clients, and client_ids that do not exist, are not affected.
    app.token_for(&other).await;
    for _ in 0..25 {
        let unknown = app.token_request(&wrong("no-such-client")).await;
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    }
    // After the cool-down the real client gets its token.
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    let after = app.token_request(&right).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.json());
}
