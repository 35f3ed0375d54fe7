//! Device keys over HTTP: register, list, read, update, block and unblock, delete; the
//! key checks; `me` with a user token; isolation between apps and tenants.

use crate::login::user_token;
use crate::users::{assert_bad_request, assert_conflict, assert_user_not_found, text, Ctx, USERS};
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

// Made with `openssl genpkey` and `openssl pkey -pubout -outform DER | base64`.
const EC_P256: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENbKM5awBvSXyQ8WronsH3IoQB13LTk8x3SqNP2qZQ/mKaV+xtg/eZMH0O3gBMnDJw+oLvrTuDMZndUnh1JQ3Hg==";
const RSA_1024: &str = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCqXm6q6ly6HqoE2U/RTNM9YnOWru9WuT3NmkpeBukcvmwSN0ObqCUyPoUWZIn3Il8FPsQSXLhewZVaiR9tMWyhr+U0Kz1lnt0VI+yhurL0QdU38Z83wPJcYX41t/zt3uP8irvnj7jbZA2T6NVgTIKsZ6jBIDRcbjpl891ddN+VpwIDAQAB";
const ME: &str = "/cis/v1/users/me/device-keys";

fn token_64() -> String {
    "f".repeat(64)
}

fn assert_key_not_found(r: &crate::common::Response) {
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", text(r));
    assert_eq!(
        r.json(),
        json!({"message": "Device key not found", "error_code": 404})
    );
}

#[tokio::test]
async fn a_key_is_registered_listed_updated_blocked_and_deleted() {
    let ctx = Ctx::new().await;
    let t = &ctx.shop_token;
    let user = ctx.shop_user(json!({"email": "jo@example.com"})).await;
    let keys = format!("{USERS}/{user}/device-keys");
    let body = json!({"key_id": "k1", "public_key": EC_P256, "display_name": "Phone",
        "custom_data": {"os": "ios"}, "push_config": {"device_token": token_64(), "type": "APN", "bundle_id": "com.shop"}});
    let r = ctx.post(t, &keys, body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
    assert!(r.body.is_empty());
    assert_conflict(&ctx.post(t, &keys, body).await, "DEVICE_KEY_ID_TAKEN");

    let list = ctx.get(t, &keys).await;
    assert_eq!(list.status, StatusCode::OK, "{}", text(&list));
    let k = list.json()["result"][0].clone();
    assert_eq!(
        (
            k["key_id"].clone(),
            k["status"].clone(),
            k["display_name"].clone()
        ),
        (json!("k1"), json!("Active"), json!("Phone"))
    );
    assert_eq!(
        k["push_config"],
        json!({"device_token": token_64(), "type": "APN", "bundle_id": "com.shop"})
    );
    assert!(k["created_at"].as_str().unwrap().ends_with('Z'), "{k}");
    assert!(k.get("public_key").is_none(), "{k}");

    let one = format!("{keys}/k1");
    assert_eq!(ctx.get(t, &one).await.json()["result"], k);
    let r = ctx
        .put(
            t,
            &one,
            json!({"display_name": "Old phone", "custom_data": {"v": 2}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    let updated = r.json()["result"].clone();
    assert_eq!(
        (
            updated["display_name"].clone(),
            updated["custom_data"].clone()
        ),
        (json!("Old phone"), json!({"v": 2}))
    );
    assert_bad_request(
        &ctx.put(t, &one, json!({"public_key": EC_P256})).await,
        "key_id and public_key cannot be changed",
    );

    let r = ctx
        .app
        .call(Method::PUT, &format!("{one}/block"), Some(t), None)
        .await;
    assert_eq!(r.json()["result"]["status"], "Blocked", "{}", text(&r));
    let r = ctx
        .app
        .call(Method::PUT, &format!("{one}/unblock"), Some(t), None)
        .await;
    assert_eq!(r.json()["result"]["status"], "Active", "{}", text(&r));

    assert_eq!(ctx.delete(t, &one).await.status, StatusCode::NO_CONTENT);
    assert_key_not_found(&ctx.get(t, &one).await);
    assert_key_not_found(&ctx.delete(t, &one).await);
    assert_eq!(ctx.get(t, &keys).await.json()["result"], json!([]));
}

#[tokio::test]
async fn bad_keys_and_bodies_are_400s_naming_the_field() {
    let ctx = Ctx::new().await;
    let t = &ctx.shop_token;
    let user = ctx.shop_user(json!({"email": "jo@example.com"})).await;
    let keys = format!("{USERS}/{user}/device-keys");
    for (body, message) in [
        (json!({"public_key": EC_P256}), "key_id is required"),
        (json!({"key_id": "k"}), "public_key is required"),
        (
            json!({"key_id": "k", "public_key": RSA_1024}),
            "public_key: an RSA key needs at least 2048 bits",
        ),
        (
            json!({"key_id": "k", "public_key": "bm90IGEga2V5"}),
            "public_key is not a DER",
        ),
        (
            json!({"key_id": "k", "public_key": "%%%"}),
            "public_key must be base64",
        ),
        (
            json!({"key_id": "k", "public_key": EC_P256, "push_config": {"device_token": "short", "type": "FCM"}}),
            "push_config.device_token must be 32",
        ),
        (
            json!({"key_id": "k", "public_key": EC_P256, "push_config": {"device_token": token_64(), "type": "SMS"}}),
            "push_config must be",
        ),
        (
            json!({"key_id": "k", "public_key": EC_P256, "custom_data": "x"}),
            "custom_data must be a JSON object",
        ),
    ] {
        assert_bad_request(&ctx.post(t, &keys, body.clone()).await, message);
    }
    assert_eq!(ctx.get(t, &keys).await.json()["result"], json!([]));
    // An admin must name the app the keys belong to.
    assert_bad_request(&ctx.get(&ctx.admin, &keys).await, "app_id is required");
    let r = ctx
        .get(&ctx.admin, &format!("{keys}?app_id={}", ctx.shop.app_id))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
}

#[tokio::test]
async fn keys_stay_in_their_app_and_tenant() {
    let ctx = Ctx::new().await;
    let user = ctx.shop_user(json!({"email": "jo@example.com"})).await;
    let keys = format!("{USERS}/{user}/device-keys");
    let r = ctx
        .post(
            &ctx.shop_token,
            &keys,
            json!({"key_id": "k1", "public_key": EC_P256}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
    // Another app of the tenant does not see the user (not its member), nor the key.
    let (_, other) = ctx.another_app("Other").await;
    assert_user_not_found(&ctx.get(&other, &keys).await);
    assert_user_not_found(
        &ctx.post(
            &other,
            &keys,
            json!({"key_id": "k2", "public_key": EC_P256}),
        )
        .await,
    );
    assert_user_not_found(&ctx.get(&other, &format!("{keys}/k1")).await);
    // Once the user is linked to that app, it has no keys there; the same key_id is free.
    ctx.create(&other, json!({"email": "jo@example.com"})).await;
    assert_eq!(ctx.get(&other, &keys).await.json()["result"], json!([]));
    let r = ctx
        .post(
            &other,
            &keys,
            json!({"key_id": "k1", "public_key": EC_P256}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
    // Another tenant: 404.
    let stranger = Ctx::new().await;
    assert_user_not_found(&stranger.get(&stranger.shop_token, &keys).await);
    // Removing the user from the app removes its keys there.
    assert_eq!(
        ctx.delete(&ctx.shop_token, &format!("{USERS}/{user}/apps"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    ctx.create(&ctx.shop_token, json!({"email": "jo@example.com"}))
        .await;
    assert_eq!(
        ctx.get(&ctx.shop_token, &keys).await.json()["result"],
        json!([])
    );
}

#[tokio::test]
async fn me_lists_the_token_users_keys_in_its_app() {
    let ctx = Ctx::new().await;
    let user = ctx.shop_user(json!({"email": "jo@example.com"})).await;
    let keys = format!("{USERS}/{user}/device-keys");
    for id in ["a", "b"] {
        let r = ctx
            .post(
                &ctx.shop_token,
                &keys,
                json!({"key_id": id, "public_key": EC_P256}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
    }
    let token = user_token(&ctx, &user);
    let r = ctx.get(&token, ME).await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    let ids: Vec<Value> = r.json()["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["key_id"].clone())
        .collect();
    assert_eq!(ids, [json!("a"), json!("b")]);
    // Client and admin tokens are not a user's; a user token has no devices permission.
    for other in [ctx.shop_token.as_str(), ctx.admin.as_str()] {
        assert_eq!(ctx.get(other, ME).await.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(ctx.get(&token, &keys).await.status, StatusCode::FORBIDDEN);
    // A deleted user's token finds nothing.
    assert_eq!(
        ctx.delete(&ctx.admin, &format!("/cis/v1/manage/users/{user}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(ctx.get(&token, ME).await.status, StatusCode::NOT_FOUND);
}
