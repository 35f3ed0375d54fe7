//! Users API: create validation and normalisation.

use crate::users::{assert_bad_request, assert_conflict, text, Ctx, USERS};
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn create_needs_email_phone_or_username() {
    let ctx = Ctx::new().await;
    for body in [
        json!({}),
        json!({"name": {"first_name": "Jo"}}),
        json!({"custom_data": {"k": 1}, "external_user_id": "x"}),
    ] {
        let r = ctx.post(&ctx.shop_token, USERS, body.clone()).await;
        assert_bad_request(&r, "one of email, phone_number or username is required");
    }
    // Each one alone is enough.
    for body in [
        json!({"email": "only@example.com"}),
        json!({"phone_number": "+16502530000"}),
        json!({"username": "only"}),
    ] {
        ctx.create(&ctx.shop_token, body).await;
    }
}

#[tokio::test]
async fn create_validation_names_the_field() {
    let ctx = Ctx::new().await;
    let long = |n: usize| "x".repeat(n);
    let cases = [
        (json!({"email": "nope"}), "email"),
        (json!({"email": "a@b"}), "email"),
        (json!({"email": ""}), "email"),
        (json!({"phone_number": "6502530000"}), "phone_number"),
        (json!({"phone_number": "+1 555 0100"}), "phone_number"),
        (json!({"phone_number": "+1555555012"}), "phone_number"),
        (json!({"username": " "}), "username"),
        (
            json!({"email": "a@example.com", "secondary_emails": ["ok@example.com", "bad"]}),
            "secondary_emails[1]",
        ),
        (
            json!({"email": "a@example.com", "secondary_phone_numbers": ["+1"]}),
            "secondary_phone_numbers[0]",
        ),
        (
            json!({"email": "a@example.com", "name": {"first_name": long(31)}}),
            "name.first_name",
        ),
        (
            json!({"email": "a@example.com", "name": {"last_name": long(31)}}),
            "name.last_name",
        ),
        (
            json!({"email": "a@example.com", "name": {"middle_name": long(31)}}),
            "name.middle_name",
        ),
        (
            json!({"email": "a@example.com", "name": {"title": long(31)}}),
            "name.title",
        ),
        (
            json!({"email": "a@example.com", "address": {"country": long(31)}}),
            "address.country",
        ),
        (
            json!({"email": "a@example.com", "address": {"state": long(31)}}),
            "address.state",
        ),
        (
            json!({"email": "a@example.com", "address": {"city": long(31)}}),
            "address.city",
        ),
        (
            json!({"email": "a@example.com", "address": {"postal_code": long(31)}}),
            "address.postal_code",
        ),
        (
            json!({"email": "a@example.com", "address": {"street_address": long(151)}}),
            "address.street_address",
        ),
        (
            json!({"email": "a@example.com", "address": {"type": "castle"}}),
            "address.type",
        ),
        (
            json!({"email": "a@example.com", "birthday": "yesterday"}),
            "birthday",
        ),
        (
            json!({"email": "a@example.com", "birthday": "1990-02-30"}),
            "birthday",
        ),
        (
            json!({"email": "a@example.com", "birthday": "2999-01-01"}),
            "birthday",
        ),
        (
            json!({"email": "a@example.com", "custom_data": [1, 2]}),
            "custom_data",
        ),
        (
            json!({"email": "a@example.com", "custom_data": "text"}),
            "custom_data",
        ),
        (
            json!({"email": "a@example.com", "custom_app_data": 5}),
            "custom_app_data",
        ),
        (
            json!({"email": "a@example.com", "external_user_id": ""}),
            "external_user_id",
        ),
        (json!({"email": 42}), "email"),
        (json!({"email": "a@example.com", "name": "Jo"}), "name"),
        (
            json!({"email": "a@example.com", "secondary_emails": "b@example.com"}),
            "secondary_emails",
        ),
        (
            json!({"email": "a@example.com", "delegated_access": {"actor_id": "nobody", "permissions": []}}),
            "delegated_access.actor_id",
        ),
    ];
    for (body, field) in cases {
        let r = ctx.post(&ctx.shop_token, USERS, body.clone()).await;
        assert_bad_request(&r, field);
    }
    // Several problems are all reported.
    let r = ctx
        .post(
            &ctx.shop_token,
            USERS,
            json!({"email": "nope", "phone_number": "12", "name": {"first_name": long(31)}}),
        )
        .await;
    for field in ["email", "phone_number", "name.first_name"] {
        assert_bad_request(&r, field);
    }
    assert_eq!(ctx.count(&ctx.admin, "").await, 0, "nothing was stored");
    // The limits themselves are allowed.
    ctx.create(
        &ctx.shop_token,
        json!({
            "email": "limits@example.com",
            "name": {"first_name": long(30), "last_name": long(30), "middle_name": long(30), "title": long(30)},
            "address": {"country": long(30), "state": long(30), "city": long(30),
                        "postal_code": long(30), "street_address": long(150)},
        }),
    )
    .await;
}

#[tokio::test]
async fn phone_numbers_are_normalised_to_e164() {
    let ctx = Ctx::new().await;
    for (given, stored) in [
        ("+1 650 253 0000", "+16502530000"),
        ("+1 (212) 736-5000", "+12127365000"),
        ("+44 7911 123456", "+447911123456"),
        ("+33612345678", "+33612345678"),
    ] {
        let u = ctx
            .create(&ctx.shop_token, json!({"phone_number": given}))
            .await;
        assert_eq!(u["phone_number"]["value"], stored, "{given}");
    }
    // A differently written form of a stored number is the same number.
    let r = ctx
        .post(
            &ctx.shop_token,
            USERS,
            json!({"phone_number": "+16502530000"}),
        )
        .await;
    assert_conflict(&r, "USER_ALREADY_EXISTS");
}

#[tokio::test]
async fn birthday_is_returned_as_midnight_utc() {
    let ctx = Ctx::new().await;
    for (i, (given, returned)) in [
        ("1990-05-17", "1990-05-17T00:00:00.000Z"),
        ("1990-05-17T10:11:12Z", "1990-05-17T00:00:00.000Z"),
        ("1990-05-17T10:11:12.345Z", "1990-05-17T00:00:00.000Z"),
        ("1990-05-17T23:30:00-05:00", "1990-05-18T00:00:00.000Z"),
        ("1990-05-17T00:00:00", "1990-05-17T00:00:00.000Z"),
    ]
    .into_iter()
    .enumerate()
    {
        let u = ctx
            .create(
                &ctx.shop_token,
                json!({"email": format!("b{i}@example.com"), "birthday": given}),
            )
            .await;
        assert_eq!(u["birthday"], returned, "{given}");
    }
}

#[tokio::test]
async fn address_type_accepts_any_case() {
    let ctx = Ctx::new().await;
    for (i, (given, returned)) in [
        ("home", "Home"),
        ("HOME", "Home"),
        ("Work", "Work"),
        ("wOrK", "Work"),
        ("other", "Other"),
    ]
    .into_iter()
    .enumerate()
    {
        let u = ctx
            .create(
                &ctx.shop_token,
                json!({"email": format!("a{i}@example.com"), "address": {"type": given}}),
            )
            .await;
        assert_eq!(u["address"]["type"], returned, "{given}");
    }
}

#[tokio::test]
async fn custom_data_is_capped_at_500_kb() {
    let ctx = Ctx::new().await;
    // `{"k":"…"}` is the string plus 8 bytes.
    let at_limit = "x".repeat(512_000 - 8);
    let over = "x".repeat(512_000 - 7);
    for field in ["custom_data", "custom_app_data"] {
        let u = ctx
            .create(
                &ctx.shop_token,
                json!({"email": format!("{field}@example.com"), field: {"k": at_limit}}),
            )
            .await;
        assert_eq!(u[field]["k"].as_str().unwrap().len(), at_limit.len());
        let r = ctx
            .post(
                &ctx.shop_token,
                USERS,
                json!({"email": format!("{field}-over@example.com"), field: {"k": over}}),
            )
            .await;
        assert_bad_request(&r, &format!("{field} must be at most 500 KB"));
    }
}

#[tokio::test]
async fn malformed_bodies_are_400() {
    let ctx = Ctx::new().await;
    let r = ctx
        .app
        .send(
            axum::http::Request::post(USERS)
                .header("authorization", format!("Bearer {}", ctx.shop_token))
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{\"email\": "))
                .unwrap(),
        )
        .await;
    assert_bad_request(&r, "request body is not valid JSON");
    for body in [
        json!("jo@example.com"),
        json!(null),
        json!(["jo@example.com"]),
    ] {
        let r = ctx.post(&ctx.shop_token, USERS, body.clone()).await;
        assert_bad_request(&r, "request body");
    }
    // Never read by position: an array is not an object with its fields in order.
    let r = ctx.post(&ctx.shop_token, USERS, json!([1])).await;
    assert_bad_request(
        &r,
        "request body: invalid type: sequence, expected an object",
    );
    let r = ctx
        .post(
            &ctx.shop_token,
            USERS,
            json!({"email": "a@example.com", "name": ["Dr", "Jo"]}),
        )
        .await;
    assert_bad_request(&r, "name");
    assert_eq!(ctx.count(&ctx.admin, "").await, 0);
}

/// Real provisioning tools create users with fictional `+1555…` numbers (`DECISIONS.md`:
/// E.164 and a possible length, not a "valid" number).
#[tokio::test]
async fn fictional_phone_numbers_are_accepted_and_found() {
    let ctx = Ctx::new().await;
    let r = ctx
        .post(
            &ctx.shop_token,
            USERS,
            json!({"phone_number": "+1 555 000 1111", "secondary_phone_numbers": ["+15550109999"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
    assert_eq!(r.json()["result"]["phone_number"]["value"], "+15550001111");
    let found = ctx
        .get(&ctx.shop_token, "/cis/v1/users/phone-number/%2B15550001111")
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", text(&found));
}
