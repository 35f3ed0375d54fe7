//! End-user password login: `POST /cis/v1/auth/password/authenticate`, the token
//! endpoint's password grant, temporary and expired passwords with their reset, lockout,
//! and what a user token may do.

use crate::common::{jwt_claims, Response};
use crate::users::{text, Ctx, USERS};
use axum::http::StatusCode;
use serde_json::{json, Value};

const STRONG: &str = "Str0ng!Passw0rd-x";
const STRONG_2: &str = "An0ther!Passw0rd-y";
const AUTHENTICATE: &str = "/cis/v1/auth/password/authenticate";
const RESET: &str = "/cis/v1/auth/password/reset";
const DAY_MS: i64 = 24 * 3_600_000;

/// A Shop user `jo` (email jo@example.com, phone +15550001111) with `password`.
async fn user_with(ctx: &Ctx, password: &str, force_replace: bool) -> String {
    let created = ctx
        .create(
            &ctx.shop_token,
            json!({"email": "jo@example.com", "phone_number": "+15550001111", "username": "jo",
                   "credentials": {"password": password, "force_replace": force_replace}}),
        )
        .await;
    created["user_id"].as_str().unwrap().to_owned()
}

async fn authenticate(ctx: &Ctx, username: &str, kind: &str, password: &str) -> Response {
    ctx.post(
        &ctx.shop_token,
        AUTHENTICATE,
        json!({"username": username, "username_type": kind, "password": password}),
    )
    .await
}

fn assert_refused(r: &Response) {
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", text(r));
    assert_eq!(
        r.json(),
        json!({"message": "Invalid username or password", "error_code": 401})
    );
}

#[tokio::test]
async fn a_temporary_password_is_reset_then_logs_in() {
    let ctx = Ctx::new().await;
    let user = ctx.shop_user(json!({"email": "jo@example.com"})).await;
    let r = ctx
        .post(
            &ctx.shop_token,
            &format!("{USERS}/{user}/password"),
            json!({"password": STRONG}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));

    let r = authenticate(&ctx, "jo@example.com", "email", STRONG).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", text(&r));
    let body = r.json();
    assert_eq!(
        (body["message"].clone(), body["error_code"].clone()),
        (json!("temporary_password"), json!(403))
    );
    let reset_token = body["reset_token"].as_str().unwrap().to_owned();

    // The reset applies the policy, then the new password logs in.
    let weak = ctx
        .post(
            &ctx.shop_token,
            RESET,
            json!({"reset_token": reset_token, "new_password": "weak"}),
        )
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST, "{}", text(&weak));
    assert_eq!(weak.json()["error_code"], "auth_password_weak");
    let same = ctx
        .post(
            &ctx.shop_token,
            RESET,
            json!({"reset_token": reset_token, "new_password": STRONG}),
        )
        .await;
    assert_eq!(
        same.json()["error_code"],
        "auth_password_recently_used",
        "{}",
        text(&same)
    );
    let r = ctx
        .post(
            &ctx.shop_token,
            RESET,
            json!({"reset_token": reset_token, "new_password": STRONG_2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    assert_eq!(r.json()["message"], "Password changed successfully");
    // A reset token works once.
    let again = ctx
        .post(
            &ctx.shop_token,
            RESET,
            json!({"reset_token": reset_token, "new_password": "Th1rd!Passw0rd-zz"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::FORBIDDEN, "{}", text(&again));

    let r = authenticate(&ctx, "jo@example.com", "email", STRONG_2).await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    let tokens = r.json();
    for field in ["access_token", "id_token", "session_id"] {
        assert!(
            tokens[field].as_str().is_some_and(|v| !v.is_empty()),
            "{field}: {tokens}"
        );
    }
    assert_eq!(
        (tokens["token_type"].clone(), tokens["expires_in"].clone()),
        (json!("Bearer"), json!(3600))
    );
    let claims = jwt_claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], user.as_str());
    assert_eq!(claims["app_id"], ctx.shop.app_id.as_str());
    assert_eq!(
        jwt_claims(tokens["id_token"].as_str().unwrap())["aud"],
        ctx.shop.client_id.as_str()
    );

    // The login moved the user to Active, set last_auth and recorded the identity.
    let seen = ctx.read(&ctx.shop_token, &user).await;
    assert_eq!(seen["status"], "Active", "{seen}");
    assert!(seen["last_auth"].is_string(), "{seen}");
    assert_eq!(seen["identities"][0]["auth_type"], "password", "{seen}");
    assert_eq!(seen["password_information"]["temporary"], false, "{seen}");

    // A user token is not a client token: the Users API refuses it.
    let user_token = tokens["access_token"].as_str().unwrap();
    let r = ctx.get(user_token, &format!("{USERS}/{user}")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", text(&r));
    let r = ctx.get(user_token, "/cis/v1/applications").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", text(&r));
}

#[tokio::test]
async fn every_login_name_works_and_every_refusal_looks_the_same() {
    let ctx = Ctx::new().await;
    let user = user_with(&ctx, STRONG, false).await;
    for (name, kind) in [
        ("jo", "username"),
        ("JO", "username"),
        ("Jo@Example.com", "email"),
        ("+15550001111", "phone_number"),
        (user.as_str(), "user_id"),
    ] {
        let r = authenticate(&ctx, name, kind, STRONG).await;
        assert_eq!(r.status, StatusCode::OK, "{name} as {kind}: {}", text(&r));
    }
    let r = ctx
        .post(
            &ctx.shop_token,
            AUTHENTICATE,
            json!({"username": "jo", "password": STRONG}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "username_type defaults to username: {}",
        text(&r)
    );
    assert_refused(&authenticate(&ctx, "jo", "username", "Wrong!Passw0rd-x").await);
    assert_refused(&authenticate(&ctx, "nobody", "username", STRONG).await);
    assert_refused(&authenticate(&ctx, "jo", "email", STRONG).await);
    // Another app's client cannot log this app's user in.
    let (_, blog) = ctx.another_app("Blog").await;
    let r = ctx
        .post(
            &blog,
            AUTHENTICATE,
            json!({"username": "jo", "password": STRONG}),
        )
        .await;
    assert_refused(&r);
    // A disabled user cannot log in.
    ctx.update(&ctx.shop_token, &user, json!({"status": "Disabled"}))
        .await;
    assert_refused(&authenticate(&ctx, "jo", "username", STRONG).await);
}

#[tokio::test]
async fn repeated_failures_lock_the_password_until_the_suspension_ends() {
    let ctx = Ctx::new().await;
    let r = ctx
        .put(
            &ctx.admin,
            &format!("/cis/v1/applications/{}", ctx.shop.app_id),
            json!({"password_configuration": {"maxPasswordFailures": 3, "passwordSuspensionDuration": 15}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    user_with(&ctx, STRONG, false).await;
    for _ in 0..3 {
        assert_refused(&authenticate(&ctx, "jo", "username", "Wrong!Passw0rd-x").await);
    }
    // Locked: even the right password is refused, with the same answer.
    assert_refused(&authenticate(&ctx, "jo", "username", STRONG).await);
    ctx.app.clock.advance(14 * 60_000);
    assert_refused(&authenticate(&ctx, "jo", "username", STRONG).await);
    ctx.app.clock.advance(2 * 60_000);
    let r = authenticate(&ctx, "jo", "username", STRONG).await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    // A success starts the count over.
    for _ in 0..2 {
        assert_refused(&authenticate(&ctx, "jo", "username", "Wrong!Passw0rd-x").await);
    }
    assert_eq!(
        authenticate(&ctx, "jo", "username", STRONG).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_expired_password_must_be_reset() {
    let ctx = Ctx::new().await;
    user_with(&ctx, STRONG, false).await;
    assert_eq!(
        authenticate(&ctx, "jo", "username", STRONG).await.status,
        StatusCode::OK
    );
    // Transmit's default: passwords expire after 90 days.
    ctx.app.clock.advance(91 * DAY_MS);
    let r = authenticate(&ctx, "jo", "username", STRONG).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", text(&r));
    assert_eq!(r.json()["message"], "password_expired");
}

async fn token_form(ctx: &Ctx, form: &[(&str, &str)]) -> Response {
    ctx.app.token_request(form).await
}

#[tokio::test]
async fn the_token_endpoint_takes_the_password_grant() {
    let ctx = Ctx::new().await;
    let user = user_with(&ctx, STRONG, false).await;
    let creds = [
        ("grant_type", "password"),
        ("client_id", ctx.shop.client_id.as_str()),
        ("client_secret", ctx.shop.client_secret.as_str()),
    ];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        creds.iter().copied().chain(extra.iter().copied()).collect()
    };
    let r = token_form(&ctx, &with(&[("username", "jo"), ("password", STRONG)])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    let body: Value = r.json();
    assert_eq!(
        jwt_claims(body["access_token"].as_str().unwrap())["sub"],
        user.as_str()
    );
    assert!(body["id_token"].is_string(), "{body}");

    let r = token_form(
        &ctx,
        &with(&[
            ("username", "jo@example.com"),
            ("username_type", "email"),
            ("password", "Wrong!Passw0rd-x"),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", text(&r));
    assert_eq!(r.json()["error"], "invalid_grant");
    let r = token_form(&ctx, &with(&[("username", "jo")])).await;
    assert_eq!(r.json()["error"], "invalid_request", "{}", text(&r));
    let r = token_form(
        &ctx,
        &with(&[
            ("username", "jo"),
            ("password", STRONG),
            ("username_type", "nickname"),
        ]),
    )
    .await;
    assert_eq!(r.json()["error"], "invalid_request", "{}", text(&r));
    // The client must still authenticate.
    let r = token_form(
        &ctx,
        &[
            ("grant_type", "password"),
            ("client_id", ctx.shop.client_id.as_str()),
            ("client_secret", "wrong-secret"),
            ("username", "jo"),
            ("password", STRONG),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", text(&r));
}

/// Logs `jo` in through the Shop client; returns the token answer.
async fn logged_in(ctx: &Ctx) -> Value {
    let r = authenticate(ctx, "jo", "username", STRONG).await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    r.json()
}

async fn refresh_with(ctx: &Ctx, refresh_token: &str) -> Response {
    token_form(
        ctx,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", ctx.shop.client_id.as_str()),
            ("client_secret", ctx.shop.client_secret.as_str()),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_family() {
    let ctx = Ctx::new().await;
    let user = user_with(&ctx, STRONG, false).await;
    let first = logged_in(&ctx).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = refresh_with(&ctx, &first).await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    let body = r.json();
    assert_eq!(
        jwt_claims(body["access_token"].as_str().unwrap())["sub"],
        user.as_str()
    );
    let second = body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);

    // The first token again: refused, and its whole family with it.
    let replay = refresh_with(&ctx, &first).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST, "{}", text(&replay));
    assert_eq!(replay.json()["error"], "invalid_grant");
    assert_eq!(
        refresh_with(&ctx, &second).await.json()["error"],
        "invalid_grant"
    );

    // Another login is another family, unaffected.
    let other = logged_in(&ctx).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(refresh_with(&ctx, &other).await.status, StatusCode::OK);
}

#[tokio::test]
async fn refresh_tokens_end_with_their_client_their_user_and_their_time() {
    let ctx = Ctx::new().await;
    let user = user_with(&ctx, STRONG, false).await;
    assert_eq!(
        refresh_with(&ctx, "rrt_unknown").await.json()["error"],
        "invalid_grant"
    );

    // Another client of the tenant cannot use it.
    let token = logged_in(&ctx).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (blog, _) = ctx.another_app("Blog").await;
    let r = token_form(
        &ctx,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", blog.client_id.as_str()),
            ("client_secret", blog.client_secret.as_str()),
            ("refresh_token", token.as_str()),
        ],
    )
    .await;
    assert_eq!(r.json()["error"], "invalid_grant", "{}", text(&r));

    // A disabled user's sessions stop.
    ctx.update(&ctx.shop_token, &user, json!({"status": "Disabled"}))
        .await;
    assert_eq!(
        refresh_with(&ctx, &token).await.json()["error"],
        "invalid_grant"
    );
    ctx.update(&ctx.shop_token, &user, json!({"status": "Active"}))
        .await;

    // Fourteen days, then nothing.
    let token = logged_in(&ctx).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    ctx.app.clock.advance(15 * DAY_MS);
    assert_eq!(
        refresh_with(&ctx, &token).await.json()["error"],
        "invalid_grant"
    );

    // Leaving the app ends the sessions in it.
    ctx.app.clock.advance(-15 * DAY_MS);
    let token = logged_in(&ctx).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = ctx
        .delete(&ctx.shop_token, &format!("{USERS}/{user}/apps"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        refresh_with(&ctx, &token).await.json()["error"],
        "invalid_grant"
    );
}

/// A user token for `user` of the Shop app, as a login by another method would give.
pub(crate) fn user_token(ctx: &Ctx, user: &str) -> String {
    let user = roster_core::UserId::from_string(user);
    ctx.app
        .keys
        .issue(&roster_api::tokens::Grant {
            tenant_id: &ctx.app.tenant,
            app_id: &roster_core::AppId::from_string(ctx.shop.app_id.clone()),
            app_name: "Shop",
            client_id: &roster_core::ClientId::from_string(ctx.shop.client_id.clone()),
            is_admin: false,
            audience: "userid-api",
            scope: "",
            user: Some(&user),
        })
        .unwrap()
}

#[tokio::test]
async fn a_logged_in_user_adds_a_first_password_to_themselves() {
    const ME: &str = "/cis/v1/users/me/password-credentials";
    let ctx = Ctx::new().await;
    let user = ctx.shop_user(json!({"email": "jo@example.com"})).await;
    let token = user_token(&ctx, &user);
    // Client and admin tokens are not the user's.
    for other in [ctx.shop_token.as_str(), ctx.admin.as_str()] {
        let r = ctx.post(other, ME, json!({"password": STRONG})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", text(&r));
    }
    let weak = ctx.post(&token, ME, json!({"password": "weak"})).await;
    assert_eq!(
        weak.json()["error_code"],
        "auth_password_weak",
        "{}",
        text(&weak)
    );
    let r = ctx
        .post(&token, ME, json!({"password": STRONG, "username": "jo"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    assert_eq!(
        r.json(),
        json!({"result": {"message": "Password registered"}})
    );
    let seen = ctx.read(&ctx.shop_token, &user).await;
    assert_eq!(
        (
            seen["username"].clone(),
            seen["password_information"]["temporary"].clone()
        ),
        (json!("jo"), json!(false))
    );
    assert_eq!(
        authenticate(&ctx, "jo", "username", STRONG).await.status,
        StatusCode::OK
    );
    let again = ctx.post(&token, ME, json!({"password": STRONG_2})).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN, "{}", text(&again));
}
