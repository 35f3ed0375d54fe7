//! Users API: finding one user, and who may see whom.

use crate::users::{assert_bad_request, assert_user_not_found, id, text, Ctx, USERS};
use axum::http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn lookups_find_the_user_by_each_identifier() {
    let ctx = Ctx::new().await;
    let user_id = ctx
        .shop_user(json!({
            "email": "Jo@Example.com",
            "phone_number": "+16502530000",
            "username": "Jo.Doe",
            "external_user_id": "ext/1 a",
        }))
        .await;
    let paths = [
        "email/Jo@Example.com",
        "email/jo%40example.com",
        "email/JO%40EXAMPLE.COM",
        "phone-number/%2B16502530000",
        "phone-number/+16502530000",
        "phone/%2B16502530000",
        "phone/+16502530000",
        "external-user-id/ext%2F1%20a",
        "username/Jo.Doe",
        "username/jo.doe",
        "username/JO.DOE",
        "identifier?identifier_name=email&identifier_value=JO%40example.com",
        "identifier?identifier_name=phoneNumber&identifier_value=%2B16502530000",
        "identifier?identifier_name=externalUserId&identifier_value=ext%2F1%20a",
        "identifier?identifier_name=username&identifier_value=JO.doe",
    ];
    for path in paths {
        let r = ctx.get(&ctx.shop_token, &format!("{USERS}/{path}")).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", text(&r));
        let u = &r.json()["result"];
        assert_eq!(id(u), user_id, "{path}");
        assert_eq!(u["app_name"], "Shop", "{path}");
    }
    // The admin token finds the tenant user too; with app_id, with that app's data.
    for path in paths {
        let r = ctx.get(&ctx.admin, &format!("{USERS}/{path}")).await;
        assert_eq!(r.status, StatusCode::OK, "admin {path}: {}", text(&r));
        assert_eq!(id(&r.json()["result"]), user_id, "admin {path}");
        let sep = if path.contains('?') { '&' } else { '?' };
        let r = ctx
            .get(
                &ctx.admin,
                &format!("{USERS}/{path}{sep}app_id={}", ctx.shop.app_id),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "admin {path}: {}", text(&r));
        assert_eq!(r.json()["result"]["username"], "Jo.Doe", "admin {path}");
    }
}

#[tokio::test]
async fn plus_signs_in_an_email_path_are_kept() {
    let ctx = Ctx::new().await;
    let user_id = ctx.shop_user(json!({"email": "jo+tag@example.com"})).await;
    for path in ["email/jo+tag@example.com", "email/JO%2BTAG%40example.com"] {
        let r = ctx.get(&ctx.shop_token, &format!("{USERS}/{path}")).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", text(&r));
        assert_eq!(id(&r.json()["result"]), user_id);
    }
    let r = ctx
        .delete(
            &ctx.shop_token,
            &format!("{USERS}/{user_id}/emails/jo+tag@example.com"),
        )
        .await;
    assert_bad_request(&r, "email");
}

#[tokio::test]
async fn a_username_of_several_apps_needs_app_id_for_an_admin() {
    let ctx = Ctx::new().await;
    let (blog, blog_token) = ctx.another_app("Blog").await;
    let in_shop = ctx.shop_user(json!({"username": "jo"})).await;
    let in_blog = id(&ctx.create(&blog_token, json!({"username": "JO"})).await);
    let r = ctx.get(&ctx.admin, &format!("{USERS}/username/jo")).await;
    assert_bad_request(&r, "the identifier matches users of several apps");
    for (app_id, expected) in [(&ctx.shop.app_id, &in_shop), (&blog.app_id, &in_blog)] {
        let r = ctx
            .get(&ctx.admin, &format!("{USERS}/username/jo?app_id={app_id}"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
        assert_eq!(&id(&r.json()["result"]), expected);
    }
    // Each client finds its own.
    let r = ctx.get(&blog_token, &format!("{USERS}/username/Jo")).await;
    assert_eq!(id(&r.json()["result"]), in_blog);
}

#[tokio::test]
async fn app_id_does_not_widen_a_clients_scope() {
    let ctx = Ctx::new().await;
    let (blog, blog_token) = ctx.another_app("Blog").await;
    let user_id = ctx
        .shop_user(json!({"email": "jo@example.com", "username": "jo"}))
        .await;
    let q = format!("?app_id={}", ctx.shop.app_id);
    assert_user_not_found(&ctx.get(&blog_token, &format!("{USERS}/{user_id}{q}")).await);
    assert_eq!(ctx.count(&blog_token, &q).await, 0);
    // The shop client passing the blog's id still sees its own app's data.
    let u = ctx
        .read(
            &ctx.shop_token,
            &format!("{user_id}?app_id={}", blog.app_id),
        )
        .await;
    assert_eq!(u["app_name"], "Shop");
    assert_eq!(u["username"], "jo");
}

#[tokio::test]
async fn lookups_match_primary_values_only() {
    let ctx = Ctx::new().await;
    ctx.shop_user(json!({
        "email": "primary@example.com",
        "secondary_emails": ["second@example.com"],
        "phone_number": "+16502530000",
        "secondary_phone_numbers": ["+447911123456"],
    }))
    .await;
    for path in [
        "email/second%40example.com",
        "phone-number/%2B447911123456",
        "phone/%2B447911123456",
    ] {
        assert_user_not_found(&ctx.get(&ctx.shop_token, &format!("{USERS}/{path}")).await);
    }
}

#[tokio::test]
async fn unknown_users_are_404() {
    let ctx = Ctx::new().await;
    ctx.shop_user(json!({"email": "jo@example.com"})).await;
    for path in [
        "abcdefghijklmnopqrstu",
        "email/nobody%40example.com",
        "phone-number/%2B447911123456",
        "phone/%2B447911123456",
        "external-user-id/nobody",
        "username/nobody",
        "identifier?identifier_name=email&identifier_value=nobody%40example.com",
        "identifier?identifier_name=username&identifier_value=nobody",
        "identifier?identifier_name=idpIdentifier&identifier_value=nobody",
    ] {
        for token in [&ctx.shop_token, &ctx.admin] {
            assert_user_not_found(&ctx.get(token, &format!("{USERS}/{path}")).await);
        }
    }
}

#[tokio::test]
async fn malformed_lookup_values_are_400() {
    let ctx = Ctx::new().await;
    for (path, field) in [
        ("email/not-an-email", "email"),
        ("email/a%40b", "email"),
        ("email/%20", "email"),
        ("phone-number/6502530000", "phone_number"),
        ("phone-number/%2B1", "phone_number"),
        ("phone/%2B1555555012", "phone_number"),
        ("phone-number/phone", "phone_number"),
        ("external-user-id/%20", "external_user_id"),
        ("username/%20", "username"),
        ("identifier", "identifier_name"),
        ("identifier?identifier_name=email", "identifier_value"),
        ("identifier?identifier_value=x", "identifier_name"),
        (
            "identifier?identifier_name=email&identifier_value=nope",
            "email",
        ),
        (
            "identifier?identifier_name=phoneNumber&identifier_value=123",
            "identifier_value",
        ),
        (
            "identifier?identifier_name=phone_number&identifier_value=%2B16502530000",
            "identifier_name",
        ),
        (
            "identifier?identifier_name=loyalty&identifier_value=1",
            "identifier_name",
        ),
    ] {
        let r = ctx.get(&ctx.shop_token, &format!("{USERS}/{path}")).await;
        assert_bad_request(&r, field);
    }
}

#[tokio::test]
async fn a_client_sees_only_its_apps_users() {
    let ctx = Ctx::new().await;
    let (_, blog_token) = ctx.another_app("Blog").await;
    let user_id = ctx
        .shop_user(json!({
            "email": "jo@example.com",
            "phone_number": "+16502530000",
            "secondary_emails": ["b@example.com"],
            "secondary_phone_numbers": ["+447911123456"],
            "username": "jo",
            "external_user_id": "ext",
        }))
        .await;
    let u = format!("{USERS}/{user_id}");
    let reads = [
        u.clone(),
        format!("{USERS}/email/jo%40example.com"),
        format!("{USERS}/phone-number/%2B16502530000"),
        format!("{USERS}/phone/%2B16502530000"),
        format!("{USERS}/external-user-id/ext"),
        format!("{USERS}/username/jo"),
        format!("{USERS}/identifier?identifier_name=email&identifier_value=jo%40example.com"),
    ];
    for uri in &reads {
        assert_user_not_found(&ctx.get(&blog_token, uri).await);
    }
    let writes = [
        (Method::PUT, u.clone(), Some(json!({"language": "de"}))),
        (Method::DELETE, format!("{u}/apps"), None),
        (
            Method::POST,
            format!("{u}/emails/jo%40example.com/verify"),
            None,
        ),
        (
            Method::POST,
            format!("{u}/phone-numbers/%2B16502530000/verify"),
            Some(json!({})),
        ),
        (Method::DELETE, format!("{u}/emails/b%40example.com"), None),
        (
            Method::DELETE,
            format!("{u}/phone-numbers/%2B447911123456"),
            None,
        ),
    ];
    for (method, uri, body) in writes {
        let r = ctx
            .app
            .call(method.clone(), &uri, Some(&blog_token), body)
            .await;
        assert_user_not_found(&r);
    }
    assert_eq!(ctx.count(&blog_token, "").await, 0);
    let r = ctx.get(&blog_token, USERS).await;
    assert_eq!(r.json()["result"], json!([]));
    // Nothing changed, and the user is still where it was.
    let seen = ctx.read(&ctx.shop_token, &user_id).await;
    assert!(seen.get("language").is_none());
    assert_eq!(seen["email"]["email_verified"], false);
    assert_eq!(seen["secondary_emails"].as_array().unwrap().len(), 1);
    assert_eq!(seen["secondary_phone_numbers"].as_array().unwrap().len(), 1);
    // The admin token reaches every user of the tenant.
    for uri in &reads {
        let r = ctx.get(&ctx.admin, uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", text(&r));
    }
}

#[tokio::test]
async fn another_tenants_users_are_404_for_everyone() {
    let ctx = Ctx::new().await;
    let user_id = ctx
        .shop_user(json!({"email": "jo@example.com", "secondary_emails": ["b@example.com"]}))
        .await;
    let (_, other_creds) = ctx.app.another_tenant().await;
    let other_admin = ctx.app.token_for(&other_creds).await;
    let other_app = ctx.app.create_app(&other_admin, "Shop").await;
    let other_client = ctx.app.token_for(&other_app).await;
    let u = format!("{USERS}/{user_id}");
    for token in [&other_admin, &other_client] {
        for uri in [u.clone(), format!("{USERS}/email/jo%40example.com")] {
            assert_user_not_found(&ctx.get(token, &uri).await);
        }
        // Another tenant's app is not an app of this tenant.
        let r = ctx
            .get(token, &format!("{u}?app_id={}", ctx.shop.app_id))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", text(&r));
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
        assert_eq!(ctx.count(token, "").await, 0);
    }
    assert_user_not_found(&ctx.delete(&other_client, &format!("{u}/apps")).await);
    assert_user_not_found(
        &ctx.delete(&other_admin, &format!("/cis/v1/manage/users/{user_id}"))
            .await,
    );
    // The user is untouched.
    let seen = ctx.read(&ctx.shop_token, &user_id).await;
    assert!(seen.get("language").is_none());
    assert_eq!(seen["email"]["email_verified"], false);
}

/// `DECISIONS.md`: an admin's `?app_id=` must name an app of the tenant, and then sees
/// exactly what that app's client sees.
#[tokio::test]
async fn an_admins_app_id_is_checked_and_narrows_reads() {
    let ctx = Ctx::new().await;
    ctx.shop_user(json!({"email": "a@example.com"})).await;
    let (_, blog) = ctx.another_app("Blog").await;
    ctx.create(&blog, json!({"email": "b@example.com"})).await;
    assert_eq!(ctx.count(&ctx.admin, "").await, 2);
    assert_eq!(
        ctx.count(&ctx.admin, &format!("?app_id={}", ctx.shop.app_id))
            .await,
        1
    );
    for uri in [
        "/cis/v1/users/count?app_id=bogus",
        "/cis/v1/users?app_id=bogus",
    ] {
        let r = ctx.get(&ctx.admin, uri).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}: {}", text(&r));
    }
    let page = ctx
        .get(&ctx.admin, &format!("{USERS}?app_id={}", ctx.shop.app_id))
        .await
        .json();
    assert_eq!(page["total_count"], 1, "{page}");
    assert_eq!(page["result"][0]["app_name"], "Shop", "{page}");
}
