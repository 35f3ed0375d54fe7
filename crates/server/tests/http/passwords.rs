//! Setting passwords: `POST` and `PUT /v1/users/{user_id}/password`, their string error
//! codes, the app's policy, history, and `password_information` on the user.

use crate::common::Response;
use crate::users::{text, Ctx, USERS};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};

/// Meets Transmit's default policy: 14 characters, all four classes.
const STRONG: &str = "Str0ng!Passw0rd-x";
const STRONG_2: &str = "An0ther!Passw0rd-y";
const STRONG_3: &str = "Th1rd!Passw0rd-zz";

fn password_uri(user_id: &str) -> String {
    format!("{USERS}/{user_id}/password")
}

/// A string-coded error of the password operations.
fn assert_code(r: &Response, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", text(r));
    let body = r.json();
    assert_eq!(body["error_code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

async fn set_policy(ctx: &Ctx, policy: Value) {
    let r = ctx
        .put(
            &ctx.admin,
            &format!("/cis/v1/applications/{}", ctx.shop.app_id),
            json!({ "password_configuration": policy }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
}

#[tokio::test]
async fn a_provisioning_tool_sets_then_replaces_a_password() {
    let ctx = Ctx::new().await;
    let user = ctx.shop_user(json!({"email": "jo@example.com"})).await;
    assert!(ctx.read(&ctx.shop_token, &user).await["password_information"].is_null());

    let r = ctx
        .post(
            &ctx.shop_token,
            &password_uri(&user),
            json!({"password": STRONG}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
    assert_eq!(
        r.json(),
        json!({"result": {"message": "Password registered"}})
    );
    let info = ctx.read(&ctx.shop_token, &user).await["password_information"].clone();
    assert_eq!(info["temporary"], true, "{info}");
    assert_eq!(info["expired"], false, "{info}");
    assert!(
        info["updated_at"].as_i64().is_some() && info["expires_in"].is_string(),
        "{info}"
    );

    let again = ctx
        .post(
            &ctx.shop_token,
            &password_uri(&user),
            json!({"password": STRONG_2}),
        )
        .await;
    assert_code(
        &again,
        StatusCode::CONFLICT,
        "auth_password_already_configured",
    );

    let r = ctx
        .put(
            &ctx.shop_token,
            &password_uri(&user),
            json!({"password": STRONG_2, "force_replace": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    assert_eq!(r.json()["result"]["message"], "Password registered");
    let info = ctx.read(&ctx.shop_token, &user).await["password_information"].clone();
    assert_eq!(info["temporary"], false, "{info}");
    // Another app of the tenant does not see this app's password.
    let (_, blog) = ctx.another_app("Blog").await;
    ctx.create(&blog, json!({"email": "jo@example.com"})).await;
    assert!(ctx.read(&blog, &user).await["password_information"].is_null());
}

#[tokio::test]
async fn users_the_caller_cannot_reach_are_user_not_found() {
    let ctx = Ctx::new().await;
    let (_, blog) = ctx.another_app("Blog").await;
    let theirs = id_of(&ctx.create(&blog, json!({"email": "b@example.com"})).await);
    for user in ["no-such-user", theirs.as_str()] {
        let r = ctx
            .post(
                &ctx.shop_token,
                &password_uri(user),
                json!({"password": STRONG}),
            )
            .await;
        assert_code(&r, StatusCode::NOT_FOUND, "user_not_found");
        let r = ctx
            .put(
                &ctx.shop_token,
                &password_uri(user),
                json!({"password": STRONG}),
            )
            .await;
        assert_code(&r, StatusCode::NOT_FOUND, "user_not_found");
    }
    // Another tenant's admin, even naming the app.
    let (_, other) = ctx.app.another_tenant().await;
    let other_admin = ctx.app.token_for(&other).await;
    let uri = format!("{}?app_id={}", password_uri(&theirs), ctx.shop.app_id);
    let r = ctx
        .post(&other_admin, &uri, json!({"password": STRONG}))
        .await;
    assert_code(&r, StatusCode::NOT_FOUND, "user_not_found");
}

fn id_of(user: &Value) -> String {
    user["user_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_apps_policy_is_enforced_with_the_specs_codes() {
    let ctx = Ctx::new().await;
    let user = ctx.shop_user(json!({"email": "jo.doe@example.com"})).await;
    let uri = password_uri(&user);
    for (password, rule) in [
        ("Sh0rt!pw", "at least 14 characters"),
        ("alllowercase-but-long", "all four of"),
        ("Jo.Doe!1234567890", "must not contain the email"),
    ] {
        let r = ctx
            .post(&ctx.shop_token, &uri, json!({"password": password}))
            .await;
        assert_code(&r, StatusCode::BAD_REQUEST, "auth_password_weak");
        assert!(
            r.json()["message"].as_str().unwrap().contains(rule),
            "{}",
            text(&r)
        );
    }
    // enforce_complexity: false keeps only the minimum length.
    let r = ctx
        .post(
            &ctx.shop_token,
            &uri,
            json!({"password": "all lower case long", "enforce_complexity": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));

    // The common-password check, when the app turns it on.
    set_policy(
        &ctx,
        json!({"passwordMinLength": 8, "passwordComplexity": 1, "checkDictionary": true}),
    )
    .await;
    let other = ctx.shop_user(json!({"email": "two@example.com"})).await;
    let r = ctx
        .post(
            &ctx.shop_token,
            &password_uri(&other),
            json!({"password": "iloveyou"}),
        )
        .await;
    assert_code(&r, StatusCode::BAD_REQUEST, "auth_password_breached");
    let r = ctx
        .post(
            &ctx.shop_token,
            &password_uri(&other),
            json!({"password": "vivid-otter-lantern"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
}

#[tokio::test]
async fn previous_passwords_are_refused_as_the_app_says() {
    let ctx = Ctx::new().await;
    set_policy(&ctx, json!({"blockPreviousPasswords": 2})).await;
    let user = ctx.shop_user(json!({"email": "jo@example.com"})).await;
    let uri = password_uri(&user);
    let set = |password: &'static str| {
        let (ctx, uri) = (&ctx, &uri);
        async move {
            ctx.put(&ctx.shop_token, uri, json!({"password": password}))
                .await
        }
    };
    let r = ctx
        .post(&ctx.shop_token, &uri, json!({"password": STRONG}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
    assert_code(
        &set(STRONG).await,
        StatusCode::BAD_REQUEST,
        "auth_password_recently_used",
    );
    assert_eq!(set(STRONG_2).await.status, StatusCode::OK);
    assert_code(
        &set(STRONG).await,
        StatusCode::BAD_REQUEST,
        "auth_password_recently_used",
    );
    assert_eq!(set(STRONG_3).await.status, StatusCode::OK);
    // Two back now: the first one is free again.
    assert_eq!(set(STRONG).await.status, StatusCode::OK);
}

#[tokio::test]
async fn malformed_requests_are_system_invalid_input() {
    let ctx = Ctx::new().await;
    let user = ctx.shop_user(json!({"email": "jo@example.com"})).await;
    let uri = password_uri(&user);
    let r = ctx
        .put(&ctx.shop_token, &uri, json!({"password": STRONG}))
        .await;
    assert_code(&r, StatusCode::CONFLICT, "auth_password_already_configured");
    for body in [
        json!({}),
        json!({"password": 7}),
        json!({"password": STRONG, "username": " "}),
    ] {
        let r = ctx.post(&ctx.shop_token, &uri, body.clone()).await;
        assert_code(&r, StatusCode::BAD_REQUEST, "system_invalid_input");
    }
    let r = ctx
        .put(&ctx.shop_token, &uri, json!({"force_replace": false}))
        .await;
    assert_code(&r, StatusCode::BAD_REQUEST, "system_invalid_input");
    for (content_type, body) in [("application/json", "{not json"), ("text/plain", "{}")] {
        let r = ctx
            .app
            .send(
                Request::post(&uri)
                    .header("authorization", format!("Bearer {}", ctx.shop_token))
                    .header("content-type", content_type)
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_code(&r, StatusCode::BAD_REQUEST, "system_invalid_input");
    }
    // An admin token must name the app the password belongs to.
    let r = ctx
        .post(&ctx.admin, &uri, json!({"password": STRONG}))
        .await;
    assert_code(&r, StatusCode::BAD_REQUEST, "system_invalid_input");
    let admin_uri = format!("{uri}?app_id={}", ctx.shop.app_id);
    let r = ctx
        .post(&ctx.admin, &admin_uri, json!({"password": STRONG}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
}

#[tokio::test]
async fn a_username_is_stored_in_the_app_and_unique_there() {
    let ctx = Ctx::new().await;
    let a = ctx.shop_user(json!({"email": "a@example.com"})).await;
    let b = ctx.shop_user(json!({"email": "b@example.com"})).await;
    let r = ctx
        .post(
            &ctx.shop_token,
            &password_uri(&a),
            json!({"password": STRONG, "username": "Ann"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
    assert_eq!(ctx.read(&ctx.shop_token, &a).await["username"], "Ann");
    let r = ctx
        .post(
            &ctx.shop_token,
            &password_uri(&b),
            json!({"password": STRONG, "username": "ANN"}),
        )
        .await;
    assert_code(&r, StatusCode::BAD_REQUEST, "system_invalid_input");
    // Nothing was stored for b: the request failed whole.
    assert!(ctx.read(&ctx.shop_token, &b).await["password_information"].is_null());
    // The level-5 rule keeps the username out of the password.
    let r = ctx
        .post(
            &ctx.shop_token,
            &password_uri(&b),
            json!({"password": "Bobby-Bob!12345", "username": "bobby"}),
        )
        .await;
    assert_code(&r, StatusCode::BAD_REQUEST, "auth_password_weak");
}

#[tokio::test]
async fn leaving_the_app_drops_the_password() {
    let ctx = Ctx::new().await;
    let user = ctx.shop_user(json!({"email": "jo@example.com"})).await;
    let r = ctx
        .post(
            &ctx.shop_token,
            &password_uri(&user),
            json!({"password": STRONG}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = ctx
        .delete(&ctx.shop_token, &format!("{USERS}/{user}/apps"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", text(&r));
    ctx.create(&ctx.shop_token, json!({"email": "jo@example.com"}))
        .await;
    assert!(ctx.read(&ctx.shop_token, &user).await["password_information"].is_null());
    let r = ctx
        .post(
            &ctx.shop_token,
            &password_uri(&user),
            json!({"password": STRONG}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
}

/// Transmit's sample backends sign users up with a username and a password in one call.
#[tokio::test]
async fn a_create_can_carry_the_password() {
    let ctx = Ctx::new().await;
    let body =
        json!({"username": "jo", "credentials": {"password": STRONG, "force_replace": false}});
    let created = ctx.create(&ctx.shop_token, body.clone()).await;
    assert_eq!(created["username"], "jo");
    assert_eq!(
        created["password_information"]["temporary"], false,
        "{created}"
    );
    let user = id_of(&created);
    assert_eq!(
        ctx.read(&ctx.shop_token, &user).await["password_information"]["temporary"],
        false
    );
    let again = ctx.post(&ctx.shop_token, USERS, body).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", text(&again));
    // The password counts as set: a POST of another one is 409.
    let r = ctx
        .post(
            &ctx.shop_token,
            &password_uri(&user),
            json!({"password": STRONG_2}),
        )
        .await;
    assert_code(&r, StatusCode::CONFLICT, "auth_password_already_configured");

    // A user of another app is linked with the password in this app only.
    let (_, blog) = ctx.another_app("Blog").await;
    let theirs = ctx
        .create(
            &blog,
            json!({"email": "b@example.com", "credentials": {"password": STRONG}}),
        )
        .await;
    assert_eq!(
        theirs["password_information"]["temporary"], true,
        "{theirs}"
    );
    let linked = ctx
        .create(
            &ctx.shop_token,
            json!({"email": "b@example.com", "credentials": {"password": STRONG_2}}),
        )
        .await;
    assert_eq!(linked["user_id"], theirs["user_id"]);
    assert_eq!(
        linked["password_information"]["temporary"], true,
        "{linked}"
    );
}

#[tokio::test]
async fn a_create_with_a_bad_password_creates_nothing() {
    let ctx = Ctx::new().await;
    let before = ctx.count(&ctx.shop_token, "").await;
    for (body, field) in [
        (
            json!({"email": "a@example.com", "credentials": {"password": "short"}}),
            "credentials.password",
        ),
        (
            json!({"email": "a@example.com", "credentials": {"password": ""}}),
            "credentials.password",
        ),
        (
            json!({"email": "a@example.com", "credentials": {}}),
            "credentials",
        ),
    ] {
        let r = ctx.post(&ctx.shop_token, USERS, body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", text(&r));
        let messages = r.json()["message"].clone();
        assert!(
            messages[0].as_str().unwrap().starts_with(field),
            "{messages}"
        );
    }
    assert_eq!(ctx.count(&ctx.shop_token, "").await, before);
    // An admin token must name the app the password belongs to.
    let r = ctx
        .post(
            &ctx.admin,
            USERS,
            json!({"email": "b@example.com", "credentials": {"password": STRONG}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", text(&r));
    // In bulk, the bad item fails alone.
    let r = ctx
        .post(
            &ctx.shop_token,
            &format!("{USERS}/bulk"),
            json!([
                {"email": "ok@example.com", "credentials": {"password": STRONG}},
                {"email": "weak@example.com", "credentials": {"password": "weak"}},
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
    let result = r.json()["result"].clone();
    assert_eq!(
        (result["created"].as_u64(), result["failed"].as_u64()),
        (Some(1), Some(1)),
        "{result}"
    );
    assert_eq!(result["errors"][0]["index"], 1);
    assert_eq!(
        result["users"][0]["password_information"]["temporary"], true,
        "{result}"
    );
}

#[tokio::test]
async fn the_policy_is_read_and_set_as_login_preferences() {
    let ctx = Ctx::new().await;
    let r = ctx
        .post(
            &ctx.admin,
            "/cis/v1/applications",
            json!({"app_name": "Kiosk", "login_preferences": {"auth_methods": {
                "password": {"passwordMinLength": 8, "passwordComplexity": 2},
                "email_otp": {"enabled": true}}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
    let app = r.json()["result"].clone();
    let policy = &app["login_preferences"]["auth_methods"]["password"];
    assert_eq!(
        (
            policy["passwordMinLength"].clone(),
            policy["passwordComplexity"].clone()
        ),
        (json!(8), json!(2))
    );
    assert_eq!(app["password_configuration"], *policy);
    let uri = format!("/cis/v1/applications/{}", app["app_id"].as_str().unwrap());
    let r = ctx
        .put(
            &ctx.admin,
            &uri,
            json!({"login_preferences": {"auth_methods": {"password": {"passwordMinLength": 10}}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    assert_eq!(
        r.json()["result"]["login_preferences"]["auth_methods"]["password"]["passwordMinLength"],
        10
    );
    for body in [
        json!({"login_preferences": {"auth_methods": {"password": {"passwordComplexity": 9}}}}),
        json!({"password_configuration": {"passwordMinLength": 0}}),
        json!({"password_configuration": {}, "login_preferences": {"auth_methods": {"password": {}}}}),
    ] {
        let r = ctx.put(&ctx.admin, &uri, body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", text(&r));
    }
}
