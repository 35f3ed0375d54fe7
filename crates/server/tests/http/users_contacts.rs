//! Users API: verifying and removing emails and phone numbers.

use crate::users::{assert_bad_request, assert_user_not_found, text, Ctx, USERS};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{json, Value};

async fn user(ctx: &Ctx) -> String {
    ctx.shop_user(json!({
        "email": "jo@example.com",
        "secondary_emails": ["Second@Example.com", "third@example.com"],
        "phone_number": "+16502530000",
        "secondary_phone_numbers": ["+447911123456"],
    }))
    .await
}

fn is_iso(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() >= 20 && s.ends_with('Z'))
}

/// `POST .../verify` with an optional JSON body; must answer 202 with no body.
async fn verify(ctx: &Ctx, token: &str, uri: &str, body: Option<Value>) {
    let r = ctx.app.call(Method::POST, uri, Some(token), body).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{uri}: {}", text(&r));
    assert!(r.body.is_empty(), "202 has no body");
}

#[tokio::test]
async fn verify_email_marks_it_verified() {
    let ctx = Ctx::new().await;
    let user_id = user(&ctx).await;
    let u = format!("{USERS}/{user_id}");
    // No body at all, an empty object, and change_to_primary on the primary.
    verify(
        &ctx,
        &ctx.shop_token,
        &format!("{u}/emails/jo%40example.com/verify"),
        None,
    )
    .await;
    let after = ctx.read(&ctx.shop_token, &user_id).await;
    assert_eq!(after["email"]["value"], "jo@example.com");
    assert_eq!(after["email"]["email_verified"], true);
    assert!(is_iso(&after["email"]["verified_at"]), "{after}");
    // Verifying again keeps the first date.
    verify(
        &ctx,
        &ctx.shop_token,
        &format!("{u}/emails/JO@EXAMPLE.COM/verify"),
        Some(json!({"change_to_primary": true})),
    )
    .await;
    let again = ctx.read(&ctx.shop_token, &user_id).await;
    assert_eq!(again["email"], after["email"]);
    // A secondary one, without changing the primary.
    verify(
        &ctx,
        &ctx.shop_token,
        &format!("{u}/emails/second%40example.com/verify"),
        Some(json!({})),
    )
    .await;
    let after = ctx.read(&ctx.shop_token, &user_id).await;
    assert_eq!(after["email"]["value"], "jo@example.com");
    let second = &after["secondary_emails"][0];
    assert_eq!(second["value"], "Second@Example.com");
    assert_eq!(second["email_verified"], true);
    assert!(is_iso(&second["verified_at"]));
    assert_eq!(after["secondary_emails"][1]["email_verified"], false);
    verify(
        &ctx,
        &ctx.shop_token,
        &format!("{u}/emails/third%40example.com/verify"),
        Some(json!({"change_to_primary": false})),
    )
    .await;
    let after = ctx.read(&ctx.shop_token, &user_id).await;
    assert_eq!(after["email"]["value"], "jo@example.com");
    assert_eq!(after["secondary_emails"][1]["email_verified"], true);
}

#[tokio::test]
async fn verify_with_change_to_primary_swaps_the_emails() {
    let ctx = Ctx::new().await;
    let user_id = user(&ctx).await;
    let u = format!("{USERS}/{user_id}");
    verify(
        &ctx,
        &ctx.shop_token,
        &format!("{u}/emails/jo%40example.com/verify"),
        None,
    )
    .await;
    let old = ctx.read(&ctx.shop_token, &user_id).await["email"].clone();
    verify(
        &ctx,
        &ctx.shop_token,
        &format!("{u}/emails/second%40example.com/verify"),
        Some(json!({"change_to_primary": true})),
    )
    .await;
    let after = ctx.read(&ctx.shop_token, &user_id).await;
    assert_eq!(after["email"]["value"], "Second@Example.com");
    assert_eq!(after["email"]["email_verified"], true);
    // The old primary is a secondary now, with its verification state.
    let secondaries = after["secondary_emails"].as_array().unwrap();
    assert!(secondaries.contains(&old), "{after}");
    assert!(
        secondaries
            .iter()
            .all(|e| e["value"] != "Second@Example.com"),
        "{after}"
    );
    assert_eq!(secondaries.len(), 2);
    // Lookups follow the primary.
    let r = ctx
        .get(
            &ctx.shop_token,
            &format!("{USERS}/email/second%40example.com"),
        )
        .await;
    assert_eq!(r.json()["result"]["user_id"], user_id.as_str());
    assert_user_not_found(
        &ctx.get(&ctx.shop_token, &format!("{USERS}/email/jo%40example.com"))
            .await,
    );
    // An unverified old primary stays unverified.
    let other = ctx
        .shop_user(json!({"email": "p@example.com", "secondary_emails": ["q@example.com"]}))
        .await;
    verify(
        &ctx,
        &ctx.shop_token,
        &format!("{USERS}/{other}/emails/q%40example.com/verify"),
        Some(json!({"change_to_primary": true})),
    )
    .await;
    let after = ctx.read(&ctx.shop_token, &other).await;
    assert_eq!(after["email"]["value"], "q@example.com");
    assert_eq!(
        after["secondary_emails"],
        json!([{"value": "p@example.com", "email_verified": false}])
    );
}

#[tokio::test]
async fn verify_phone_and_change_to_primary() {
    let ctx = Ctx::new().await;
    let user_id = user(&ctx).await;
    let u = format!("{USERS}/{user_id}");
    // A raw `+` in the path is a plus.
    verify(
        &ctx,
        &ctx.shop_token,
        &format!("{u}/phone-numbers/+16502530000/verify"),
        None,
    )
    .await;
    let after = ctx.read(&ctx.shop_token, &user_id).await;
    assert_eq!(after["phone_number"]["phone_number_verified"], true);
    assert!(is_iso(&after["phone_number"]["verified_at"]));
    let old = after["phone_number"].clone();
    verify(
        &ctx,
        &ctx.shop_token,
        &format!("{u}/phone-numbers/%2B447911123456/verify"),
        Some(json!({"change_to_primary": true})),
    )
    .await;
    let after = ctx.read(&ctx.shop_token, &user_id).await;
    assert_eq!(after["phone_number"]["value"], "+447911123456");
    assert_eq!(after["phone_number"]["phone_number_verified"], true);
    assert_eq!(after["secondary_phone_numbers"], json!([old]));
    let r = ctx
        .get(
            &ctx.shop_token,
            &format!("{USERS}/phone-number/%2B447911123456"),
        )
        .await;
    assert_eq!(r.json()["result"]["user_id"], user_id.as_str());
}

#[tokio::test]
async fn verify_accepts_an_empty_body_with_a_json_content_type() {
    let ctx = Ctx::new().await;
    let user_id = user(&ctx).await;
    let r = ctx
        .app
        .send(
            Request::post(format!(
                "{USERS}/{user_id}/phone-numbers/%2B16502530000/verify"
            ))
            .header("authorization", format!("Bearer {}", ctx.shop_token))
            .header("content-type", "application/json")
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", text(&r));
    let after = ctx.read(&ctx.shop_token, &user_id).await;
    assert_eq!(after["phone_number"]["phone_number_verified"], true);
}

#[tokio::test]
async fn verify_errors() {
    let ctx = Ctx::new().await;
    let user_id = user(&ctx).await;
    let u = format!("{USERS}/{user_id}");
    for path in [
        "emails/nobody%40example.com/verify",
        "phone-numbers/%2B33612345678/verify",
    ] {
        let r = ctx
            .post(&ctx.shop_token, &format!("{u}/{path}"), json!({}))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", text(&r));
        assert_eq!(r.json()["error_code"], 404);
        assert!(r.json()["message"].is_string());
    }
    // The verify routes document only 202 and 404: what cannot be an email or phone
    // number matches nothing.
    for path in ["emails/nope/verify", "phone-numbers/12345/verify"] {
        let r = ctx
            .post(&ctx.shop_token, &format!("{u}/{path}"), json!({}))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", text(&r));
    }
    let r = ctx
        .post(
            &ctx.shop_token,
            &format!("{u}/emails/jo%40example.com/verify"),
            json!({"change_to_primary": "yes"}),
        )
        .await;
    assert_bad_request(&r, "change_to_primary");
    // Not JSON at all.
    let r = ctx
        .app
        .send(
            Request::post(format!("{u}/emails/jo%40example.com/verify"))
                .header("authorization", format!("Bearer {}", ctx.shop_token))
                .header("content-type", "application/json")
                .body(Body::from("{"))
                .unwrap(),
        )
        .await;
    assert_bad_request(&r, "request body is not valid JSON");
    for path in [
        "emails/jo%40example.com/verify",
        "phone-numbers/%2B16502530000/verify",
    ] {
        let r = ctx
            .post(
                &ctx.shop_token,
                &format!("{USERS}/abcdefghijklmnopqrstu/{path}"),
                json!({}),
            )
            .await;
        assert_user_not_found(&r);
    }
    let after = ctx.read(&ctx.shop_token, &user_id).await;
    assert_eq!(after["email"]["email_verified"], false);
}

#[tokio::test]
async fn remove_secondary_email_and_phone() {
    let ctx = Ctx::new().await;
    let user_id = user(&ctx).await;
    let u = format!("{USERS}/{user_id}");
    let r = ctx
        .delete(&ctx.shop_token, &format!("{u}/emails/SECOND%40example.com"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", text(&r));
    assert!(r.body.is_empty());
    let r = ctx
        .delete(&ctx.shop_token, &format!("{u}/phone-numbers/+447911123456"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", text(&r));
    let after = ctx.read(&ctx.shop_token, &user_id).await;
    assert_eq!(
        after["secondary_emails"],
        json!([{"value": "third@example.com", "email_verified": false}])
    );
    assert_eq!(after["secondary_phone_numbers"], json!([]));

    // Removing again, or a value the user never had: 404.
    for path in [
        "emails/second%40example.com",
        "emails/nobody%40example.com",
        "phone-numbers/%2B447911123456",
        "phone-numbers/%2B33612345678",
    ] {
        let r = ctx.delete(&ctx.shop_token, &format!("{u}/{path}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", text(&r));
        assert_eq!(r.json()["error_code"], 404);
    }
    // The primary values cannot be removed this way.
    let r = ctx
        .delete(&ctx.shop_token, &format!("{u}/emails/Jo%40Example.com"))
        .await;
    assert_bad_request(&r, "email");
    let r = ctx
        .delete(
            &ctx.shop_token,
            &format!("{u}/phone-numbers/%2B16502530000"),
        )
        .await;
    assert_bad_request(&r, "phone_number");
    // Malformed values.
    let r = ctx
        .delete(&ctx.shop_token, &format!("{u}/emails/nope"))
        .await;
    assert_bad_request(&r, "email");
    let r = ctx
        .delete(&ctx.shop_token, &format!("{u}/phone-numbers/abc"))
        .await;
    assert_bad_request(&r, "phone_number");
    // An unknown user.
    let r = ctx
        .delete(
            &ctx.shop_token,
            &format!("{USERS}/abcdefghijklmnopqrstu/emails/third%40example.com"),
        )
        .await;
    assert_user_not_found(&r);
    // The admin token may do it too.
    let r = ctx
        .delete(&ctx.admin, &format!("{u}/emails/third%40example.com"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", text(&r));
    let after = ctx.read(&ctx.shop_token, &user_id).await;
    assert_eq!(after["secondary_emails"], json!([]));
    assert_eq!(after["email"]["value"], "jo@example.com");
    assert_eq!(after["phone_number"]["value"], "+16502530000");
}

#[tokio::test]
async fn a_secondary_can_become_the_only_primary() {
    let ctx = Ctx::new().await;
    let user_id = ctx
        .shop_user(json!({"username": "jo", "secondary_phone_numbers": ["+33612345678"]}))
        .await;
    let before = ctx.read(&ctx.shop_token, &user_id).await;
    assert!(before.get("phone_number").is_none());
    verify(
        &ctx,
        &ctx.shop_token,
        &format!("{USERS}/{user_id}/phone-numbers/%2B33612345678/verify"),
        Some(json!({"change_to_primary": true})),
    )
    .await;
    let after = ctx.read(&ctx.shop_token, &user_id).await;
    assert_eq!(after["phone_number"]["value"], "+33612345678");
    assert_eq!(after["phone_number"]["phone_number_verified"], true);
    assert_eq!(after["secondary_phone_numbers"], json!([]));
}

#[tokio::test]
async fn promoting_another_users_primary_email_is_a_400_naming_it() {
    let ctx = Ctx::new().await;
    ctx.shop_user(json!({"email": "taken@example.com"})).await;
    // Secondary emails need not be unique, so this one is allowed...
    let user_id = ctx
        .shop_user(json!({"email": "jo@example.com", "secondary_emails": ["taken@example.com"]}))
        .await;
    let before = ctx.read(&ctx.shop_token, &user_id).await;
    // ...but it cannot become a primary while another user has it.
    let r = ctx
        .post(
            &ctx.shop_token,
            &format!("{USERS}/{user_id}/emails/taken%40example.com/verify"),
            json!({"change_to_primary": true}),
        )
        .await;
    crate::users::assert_taken(&r, "EMAIL_TAKEN");
    assert_eq!(ctx.read(&ctx.shop_token, &user_id).await, before);
}

/// `DECISIONS.md`: at most 50 secondary emails and 50 secondary phones per user, not only
/// per request; an update that would pass the cap is 400 and changes nothing.
#[tokio::test]
async fn secondaries_are_capped_per_user_not_only_per_request() {
    let ctx = Ctx::new().await;
    let emails: Vec<String> = (0..50).map(|i| format!("s{i}@example.com")).collect();
    let phones: Vec<String> = (0..50).map(|i| format!("+1650253{i:04}")).collect();
    let user_id = ctx
        .shop_user(json!({
            "username": "capped",
            "secondary_emails": emails,
            "secondary_phone_numbers": phones,
        }))
        .await;
    let uri = format!("{USERS}/{user_id}");
    let before = ctx.read(&ctx.shop_token, &user_id).await;
    for (body, field) in [
        (
            json!({"secondary_emails": ["one-more@example.com"]}),
            "secondary_emails",
        ),
        (
            json!({"secondary_phone_numbers": ["+16502539999"]}),
            "secondary_phone_numbers",
        ),
    ] {
        let r = ctx.put(&ctx.shop_token, &uri, body).await;
        assert_bad_request(&r, field);
    }
    assert_eq!(ctx.read(&ctx.shop_token, &user_id).await, before);
    // Entries already on the user do not count twice.
    let after = ctx
        .update(
            &ctx.shop_token,
            &user_id,
            json!({"secondary_emails": ["S0@example.com"], "secondary_phone_numbers": ["+16502530001"]}),
        )
        .await;
    assert_eq!(after["secondary_emails"].as_array().unwrap().len(), 50);
    assert_eq!(
        after["secondary_phone_numbers"].as_array().unwrap().len(),
        50
    );
}
