//! Users API: create-or-link and the uniqueness of identifiers.

use crate::users::{assert_bad_request, assert_conflict, id, text, Ctx, USERS};
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn create_links_a_tenant_user_of_another_app() {
    let ctx = Ctx::new().await;
    let (blog, blog_token) = ctx.another_app("Blog").await;
    let original = ctx
        .create(
            &ctx.shop_token,
            json!({
                "email": "jo@example.com",
                "name": {"first_name": "Jo"},
                "custom_data": {"from": "shop"},
                "username": "jo-shop",
                "custom_app_data": {"shop": true},
            }),
        )
        .await;
    let user_id = id(&original);
    let r = ctx
        .post(
            &blog_token,
            USERS,
            json!({
                "email": "JO@Example.COM",
                "phone_number": "+16502530000",
                "name": {"first_name": "Other"},
                "custom_data": {"from": "blog"},
                "username": "jo-blog",
                "external_account_id": "blog-1",
                "custom_app_data": {"blog": true},
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
    let linked = r.json()["result"].clone();
    assert_eq!(id(&linked), user_id, "the same tenant user");
    // Tenant-level fields are those of the existing user.
    assert_eq!(linked["email"]["value"], "jo@example.com");
    assert!(linked.get("phone_number").is_none(), "{linked}");
    assert_eq!(linked["name"], json!({"first_name": "Jo"}));
    assert_eq!(linked["custom_data"], json!({"from": "shop"}));
    assert_eq!(linked["created_at"], original["created_at"]);
    // App-level fields are the request's, for the calling app.
    assert_eq!(linked["app_name"], "Blog");
    assert_eq!(linked["username"], "jo-blog");
    assert_eq!(linked["external_account_id"], "blog-1");
    assert_eq!(linked["custom_app_data"], json!({"blog": true}));
    assert_eq!(ctx.read(&blog_token, &user_id).await, linked);
    // Each app still sees its own app-level data.
    let in_shop = ctx.read(&ctx.shop_token, &user_id).await;
    assert_eq!(in_shop["username"], "jo-shop");
    assert_eq!(in_shop["custom_app_data"], json!({"shop": true}));
    assert_eq!(ctx.count(&ctx.admin, "").await, 1);
    assert_eq!(ctx.count(&blog_token, "").await, 1);
    let _ = blog;

    // Linking again is a conflict: the user is now in the app.
    let r = ctx
        .post(&blog_token, USERS, json!({"email": "jo@example.com"}))
        .await;
    assert_conflict(&r, "USER_ALREADY_EXISTS");
}

#[tokio::test]
async fn create_links_by_phone_and_by_external_user_id() {
    let ctx = Ctx::new().await;
    let (_, blog_token) = ctx.another_app("Blog").await;
    let by_phone = ctx
        .shop_user(json!({"phone_number": "+447911123456"}))
        .await;
    let by_external = ctx
        .shop_user(json!({"username": "x", "external_user_id": "ext-7"}))
        .await;
    let u = ctx
        .create(&blog_token, json!({"phone_number": "+44 7911 123456"}))
        .await;
    assert_eq!(id(&u), by_phone);
    let u = ctx
        .create(
            &blog_token,
            json!({"username": "y", "external_user_id": "ext-7"}),
        )
        .await;
    assert_eq!(id(&u), by_external);
    assert_eq!(u["username"], "y", "the blog's own username");
    assert_eq!(ctx.count(&ctx.admin, "").await, 2);
    assert_eq!(ctx.count(&blog_token, "").await, 2);
}

#[tokio::test]
async fn a_username_alone_never_links() {
    let ctx = Ctx::new().await;
    let (_, blog_token) = ctx.another_app("Blog").await;
    let a = ctx.shop_user(json!({"username": "same"})).await;
    let b = id(&ctx.create(&blog_token, json!({"username": "same"})).await);
    assert_ne!(a, b, "usernames are per app");
    assert_eq!(ctx.count(&ctx.admin, "").await, 2);
}

#[tokio::test]
async fn a_user_already_in_the_app_is_409() {
    let ctx = Ctx::new().await;
    ctx.shop_user(json!({"email": "jo@example.com", "phone_number": "+16502530000", "external_user_id": "e1"}))
        .await;
    for body in [
        json!({"email": "jo@example.com"}),
        json!({"email": "JO@EXAMPLE.COM"}),
        json!({"phone_number": "+1 650-253-0000"}),
        json!({"username": "z", "external_user_id": "e1"}),
        json!({"email": "jo@example.com", "phone_number": "+16502530000", "external_user_id": "e1"}),
    ] {
        let r = ctx.post(&ctx.shop_token, USERS, body.clone()).await;
        assert_conflict(&r, "USER_ALREADY_EXISTS");
    }
    assert_eq!(ctx.count(&ctx.admin, "").await, 1);
}

#[tokio::test]
async fn identifiers_of_two_different_users_are_409() {
    let ctx = Ctx::new().await;
    let (_, blog_token) = ctx.another_app("Blog").await;
    ctx.shop_user(json!({"email": "a@example.com"})).await;
    ctx.shop_user(json!({"phone_number": "+16502530000"})).await;
    ctx.shop_user(json!({"email": "c@example.com", "external_user_id": "ext-c"}))
        .await;
    let cases = [
        (
            json!({"email": "a@example.com", "phone_number": "+16502530000"}),
            "PHONE_NUMBER_TAKEN",
        ),
        (
            json!({"email": "a@example.com", "external_user_id": "ext-c"}),
            "EXTERNAL_USER_ID_TAKEN",
        ),
        (
            json!({"phone_number": "+16502530000", "email": "c@example.com"}),
            "PHONE_NUMBER_TAKEN",
        ),
    ];
    for (body, code) in cases {
        // The same answer whether or not the caller's app holds the users.
        for token in [&ctx.shop_token, &blog_token] {
            let r = ctx.post(token, USERS, body.clone()).await;
            assert_conflict(&r, code);
        }
    }
    assert_eq!(ctx.count(&ctx.admin, "").await, 3);
    assert_eq!(ctx.count(&blog_token, "").await, 0, "nothing was linked");
}

#[tokio::test]
async fn usernames_are_unique_per_app_in_any_case() {
    let ctx = Ctx::new().await;
    let (_, blog_token) = ctx.another_app("Blog").await;
    ctx.shop_user(json!({"username": "Jo.Doe"})).await;
    for name in ["Jo.Doe", "jo.doe", "JO.DOE"] {
        let r = ctx
            .post(&ctx.shop_token, USERS, json!({"username": name}))
            .await;
        assert_conflict(&r, "USERNAME_TAKEN");
        // Also when the request would otherwise make a new user with an email.
        let r = ctx
            .post(
                &ctx.shop_token,
                USERS,
                json!({"email": "new@example.com", "username": name}),
            )
            .await;
        assert_conflict(&r, "USERNAME_TAKEN");
    }
    // Another app may use it.
    ctx.create(&blog_token, json!({"username": "jo.doe"})).await;
    // A link that brings a taken username is refused, and links nothing.
    let other = ctx
        .create(&blog_token, json!({"email": "other@example.com"}))
        .await;
    let r = ctx
        .post(
            &ctx.shop_token,
            USERS,
            json!({"email": "other@example.com", "username": "JO.doe"}),
        )
        .await;
    assert_conflict(&r, "USERNAME_TAKEN");
    let r = ctx
        .get(&ctx.shop_token, &format!("{USERS}/{}", id(&other)))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(ctx.count(&ctx.shop_token, "").await, 1);
}

#[tokio::test]
async fn external_account_ids_are_unique_per_app() {
    let ctx = Ctx::new().await;
    let (_, blog_token) = ctx.another_app("Blog").await;
    ctx.shop_user(json!({"email": "a@example.com", "external_account_id": "acct"}))
        .await;
    let r = ctx
        .post(
            &ctx.shop_token,
            USERS,
            json!({"email": "b@example.com", "external_account_id": "acct"}),
        )
        .await;
    assert_conflict(&r, "EXTERNAL_ACCOUNT_ID_TAKEN");
    ctx.create(
        &blog_token,
        json!({"email": "b@example.com", "external_account_id": "acct"}),
    )
    .await;
    assert_eq!(ctx.count(&ctx.admin, "").await, 2);
}

#[tokio::test]
async fn another_tenant_may_reuse_the_identifiers() {
    let ctx = Ctx::new().await;
    ctx.shop_user(json!({"email": "a@example.com", "external_user_id": "ext"}))
        .await;
    // Another tenant is free to use the same identifiers.
    let (_, other_admin) = ctx.app.another_tenant().await;
    let other_admin = ctx.app.token_for(&other_admin).await;
    let u = ctx
        .create(
            &other_admin,
            json!({"email": "a@example.com", "external_user_id": "ext"}),
        )
        .await;
    assert_eq!(u["external_user_id"], "ext");
    assert_eq!(ctx.count(&ctx.admin, "").await, 1);
}

#[tokio::test]
async fn admin_without_app_id_never_links() {
    let ctx = Ctx::new().await;
    let user_id = ctx.shop_user(json!({"email": "jo@example.com"})).await;
    let r = ctx
        .post(&ctx.admin, USERS, json!({"email": "Jo@example.com"}))
        .await;
    assert_conflict(&r, "EMAIL_TAKEN");
    ctx.shop_user(json!({"phone_number": "+16502530000"})).await;
    let r = ctx
        .post(&ctx.admin, USERS, json!({"phone_number": "+16502530000"}))
        .await;
    assert_conflict(&r, "PHONE_NUMBER_TAKEN");
    let r = ctx.post(&ctx.admin, USERS, json!({"username": "jo"})).await;
    assert_bad_request(&r, "username");

    // With app_id it links like the app's client would.
    let (blog, blog_token) = ctx.another_app("Blog").await;
    let r = ctx
        .post(
            &ctx.admin,
            &format!("{USERS}?app_id={}", blog.app_id),
            json!({"email": "jo@example.com", "username": "jo"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
    assert_eq!(id(&r.json()["result"]), user_id);
    assert_eq!(ctx.read(&blog_token, &user_id).await["username"], "jo");
}
