//! Limits of the password routes: the identifier rules for `username`, and the longest
//! password, as on user creates.

use crate::users::{text, Ctx, USERS};
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn password_routes_refuse_look_alike_usernames_and_overlong_passwords() {
    let ctx = Ctx::new().await;
    let user = ctx.shop_user(json!({"email": "limits@example.com"})).await;
    let uri = format!("{USERS}/{user}/password");
    for (username, word) in [
        ("admin\u{202e}nimda", "invisible"),
        ("zero\u{200b}width", "invisible"),
        ("line\nbreak", "control"),
    ] {
        let r = ctx
            .post(
                &ctx.shop_token,
                &uri,
                json!({"password": "Str0ng!Passw0rd-x", "username": username}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", text(&r));
        let body = r.json();
        assert_eq!(body["error_code"], "system_invalid_input", "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains("username") && message.contains(word),
            "{body}"
        );
    }
    let long = format!("Aa1!{}", "x".repeat(1021));
    let r = ctx
        .post(&ctx.shop_token, &uri, json!({"password": long}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", text(&r));
    assert_eq!(r.json()["error_code"], "auth_password_weak");
    assert!(r.json()["message"].as_str().unwrap().contains("1024"));
    // Nothing was stored by the refused requests.
    assert!(ctx.read(&ctx.shop_token, &user).await["password_information"].is_null());
}
