//! Users API: leaving an app, and deleting a tenant user.

use crate::users::{assert_bad_request, assert_user_not_found, id, text, Ctx, USERS};
use axum::http::{Method, StatusCode};
use serde_json::json;

const MANAGE: &str = "/cis/v1/manage/users";

#[tokio::test]
async fn remove_from_app_keeps_the_tenant_user() {
    let ctx = Ctx::new().await;
    let (_, blog_token) = ctx.another_app("Blog").await;
    let user_id = ctx
        .shop_user(json!({
            "email": "jo@example.com",
            "phone_number": "+16502530000",
            "external_user_id": "ext",
            "username": "jo",
            "external_account_id": "acct",
            "custom_app_data": {"shop": 1},
            "custom_data": {"tenant": 1},
        }))
        .await;
    ctx.create(&blog_token, json!({"email": "jo@example.com"}))
        .await;
    ctx.shop_user(json!({"email": "stays@example.com"})).await;
    assert_eq!(ctx.count(&ctx.shop_token, "").await, 2);

    let r = ctx
        .delete(&ctx.shop_token, &format!("{USERS}/{user_id}/apps"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", text(&r));
    assert!(r.body.is_empty());

    // Gone from the app: every lookup of the app is 404, the list and count drop.
    for path in [
        user_id.clone(),
        "email/jo%40example.com".into(),
        "phone-number/%2B16502530000".into(),
        "external-user-id/ext".into(),
        "username/jo".into(),
    ] {
        assert_user_not_found(&ctx.get(&ctx.shop_token, &format!("{USERS}/{path}")).await);
    }
    assert_eq!(ctx.count(&ctx.shop_token, "").await, 1);
    let r = ctx.get(&ctx.shop_token, USERS).await;
    assert_eq!(r.json()["total_count"], 1);
    // Leaving twice: the user is not in the app any more.
    assert_user_not_found(
        &ctx.delete(&ctx.shop_token, &format!("{USERS}/{user_id}/apps"))
            .await,
    );
    // The tenant user and the other app's membership remain.
    let u = ctx.read(&blog_token, &user_id).await;
    assert_eq!(u["custom_data"], json!({"tenant": 1}));
    assert_eq!(ctx.count(&ctx.admin, "").await, 2);
    let u = ctx.read(&ctx.admin, &user_id).await;
    assert!(
        u.get("app_name").is_none(),
        "no app data without app_id: {u}"
    );
    // An admin naming Shop sees what Shop's client sees: the user is gone from it.
    assert_user_not_found(
        &ctx.get(
            &ctx.admin,
            &format!("{USERS}/{user_id}?app_id={}", ctx.shop.app_id),
        )
        .await,
    );

    // A create with the same email links the user again, without the old app data.
    let again = ctx
        .create(&ctx.shop_token, json!({"email": "JO@example.com"}))
        .await;
    assert_eq!(id(&again), user_id);
    assert!(again.get("username").is_none(), "{again}");
    assert!(again.get("external_account_id").is_none(), "{again}");
    assert_eq!(again["custom_app_data"], json!({}));
    assert_eq!(again["custom_data"], json!({"tenant": 1}));
    assert_eq!(ctx.count(&ctx.shop_token, "").await, 2);
    // The username it had is free again in the app.
    ctx.shop_user(json!({"username": "jo"})).await;
}

#[tokio::test]
async fn admin_removes_from_an_app_with_app_id() {
    let ctx = Ctx::new().await;
    let user_id = ctx.shop_user(json!({"email": "jo@example.com"})).await;
    let uri = format!("{USERS}/{user_id}/apps");
    let r = ctx.delete(&ctx.admin, &uri).await;
    assert_bad_request(&r, "app_id");
    let r = ctx
        .delete(&ctx.admin, &format!("{uri}?app_id={}", ctx.shop.app_id))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", text(&r));
    assert_eq!(ctx.count(&ctx.shop_token, "").await, 0);
    assert_eq!(ctx.count(&ctx.admin, "").await, 1);
    // Unknown users.
    assert_user_not_found(
        &ctx.delete(
            &ctx.shop_token,
            &format!("{USERS}/abcdefghijklmnopqrstu/apps"),
        )
        .await,
    );
}

#[tokio::test]
async fn delete_needs_an_admin_token() {
    let ctx = Ctx::new().await;
    let user_id = ctx.shop_user(json!({"email": "jo@example.com"})).await;
    let r = ctx
        .delete(&ctx.shop_token, &format!("{MANAGE}/{user_id}"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", text(&r));
    let body = r.json();
    assert_eq!(body["error_code"], 403);
    assert!(body["message"].is_string(), "{body}");
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    assert_eq!(
        ctx.read(&ctx.shop_token, &user_id).await["user_id"],
        user_id.as_str()
    );
}

#[tokio::test]
async fn delete_removes_the_user_everywhere() {
    let ctx = Ctx::new().await;
    let (_, blog_token) = ctx.another_app("Blog").await;
    let user_id = ctx
        .shop_user(json!({
            "email": "jo@example.com",
            "phone_number": "+16502530000",
            "secondary_emails": ["b@example.com"],
            "external_user_id": "ext",
            "username": "jo",
        }))
        .await;
    ctx.create(&blog_token, json!({"email": "jo@example.com"}))
        .await;
    let keep = ctx.shop_user(json!({"email": "keep@example.com"})).await;

    let r = ctx.delete(&ctx.admin, &format!("{MANAGE}/{user_id}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", text(&r));
    assert!(r.body.is_empty());

    let u = format!("{USERS}/{user_id}");
    for token in [&ctx.shop_token, &blog_token, &ctx.admin] {
        for path in [
            user_id.as_str(),
            "email/jo%40example.com",
            "phone-number/%2B16502530000",
            "external-user-id/ext",
            "username/jo",
        ] {
            assert_user_not_found(&ctx.get(token, &format!("{USERS}/{path}")).await);
        }
        assert_user_not_found(&ctx.put(token, &u, json!({"language": "de"})).await);
        assert_user_not_found(
            &ctx.app
                .call(
                    Method::POST,
                    &format!("{u}/emails/jo%40example.com/verify"),
                    Some(token),
                    None,
                )
                .await,
        );
        assert_user_not_found(
            &ctx.delete(token, &format!("{u}/emails/b%40example.com"))
                .await,
        );
    }
    assert_user_not_found(&ctx.delete(&ctx.shop_token, &format!("{u}/apps")).await);
    assert_user_not_found(&ctx.delete(&ctx.admin, &format!("{MANAGE}/{user_id}")).await);
    assert_eq!(ctx.count(&ctx.admin, "").await, 1);
    assert_eq!(ctx.count(&ctx.shop_token, "").await, 1);
    assert_eq!(ctx.count(&blog_token, "").await, 0);
    assert_eq!(
        ctx.read(&ctx.shop_token, &keep).await["user_id"],
        keep.as_str()
    );

    // Every identifier is free again: a create makes a new user.
    let again = ctx
        .create(
            &ctx.shop_token,
            json!({"email": "jo@example.com", "phone_number": "+16502530000",
                   "external_user_id": "ext", "username": "jo"}),
        )
        .await;
    assert_ne!(id(&again), user_id);
}
