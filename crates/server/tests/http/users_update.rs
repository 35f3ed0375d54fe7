//! Users API: `PUT /v1/users/{id}` merge rules, validation and conflicts.

use crate::users::{assert_bad_request, assert_taken, assert_user_not_found, text, Ctx, USERS};
use axum::http::StatusCode;
use serde_json::{json, Value};

async fn full_user(ctx: &Ctx) -> (String, Value) {
    let u = ctx
        .create(
            &ctx.shop_token,
            json!({
                "email": "jo@example.com",
                "phone_number": "+16502530000",
                "secondary_emails": ["s1@example.com"],
                "secondary_phone_numbers": ["+447911123456"],
                "birthday": "1990-05-17",
                "name": {"first_name": "Jo", "last_name": "Doe"},
                "address": {"city": "Paris", "country": "FR", "type": "home"},
                "picture": "https://example.com/a.png",
                "language": "fr",
                "custom_data": {"keep": 1, "drop": 2, "over": "old"},
                "external_user_id": "ext-1",
                "username": "jo",
                "external_account_id": "acct-1",
                "custom_app_data": {"a": 1, "b": 2},
            }),
        )
        .await;
    (crate::users::id(&u), u)
}

#[tokio::test]
async fn an_empty_update_changes_nothing_it_was_not_given() {
    let ctx = Ctx::new().await;
    let (user_id, before) = full_user(&ctx).await;
    let after = ctx.update(&ctx.shop_token, &user_id, json!({})).await;
    let mut expected = before.clone();
    expected["updated_at"] = after["updated_at"].clone();
    assert_eq!(after, expected);
    assert!(after["updated_at"].as_i64() >= before["updated_at"].as_i64());
}

#[tokio::test]
async fn update_merges_by_the_rules() {
    let ctx = Ctx::new().await;
    let (user_id, before) = full_user(&ctx).await;
    let after = ctx
        .update(
            &ctx.shop_token,
            &user_id,
            json!({
                "name": {"title": "Dr"},
                "address": {"city": "Lyon"},
                "custom_data": {"drop": null, "over": "new", "added": [1]},
                "custom_app_data": {"a": null, "c": 3},
                "secondary_emails": ["s2@example.com", "S1@example.com", "JO@example.com", "s2@example.com"],
                "secondary_phone_numbers": ["+33 6 12 34 56 78", "+447911123456", "+16502530000"],
                "language": "de",
            }),
        )
        .await;
    // Objects are replaced whole.
    assert_eq!(after["name"], json!({"title": "Dr"}));
    assert_eq!(after["address"]["city"], "Lyon");
    assert!(after["address"].get("country").is_none(), "{after}");
    assert!(after["address"].get("type").is_none(), "{after}");
    // Custom data is shallow-merged; null removes a key.
    assert_eq!(
        after["custom_data"],
        json!({"keep": 1, "over": "new", "added": [1]})
    );
    assert_eq!(after["custom_app_data"], json!({"b": 2, "c": 3}));
    // Secondary contacts are added, duplicates (and the primary) ignored.
    let values = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| c["value"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        values(&after["secondary_emails"]),
        ["s1@example.com", "s2@example.com"]
    );
    assert_eq!(
        values(&after["secondary_phone_numbers"]),
        ["+447911123456", "+33612345678"]
    );
    // Absent fields are untouched.
    for field in [
        "email",
        "phone_number",
        "birthday",
        "picture",
        "external_user_id",
        "username",
        "external_account_id",
        "status",
        "status_changed_at",
        "created_at",
    ] {
        assert_eq!(after[field], before[field], "{field}");
    }
    assert_eq!(after["language"], "de");
    // What PUT answered is what is stored.
    assert_eq!(ctx.read(&ctx.shop_token, &user_id).await, after);
}

#[tokio::test]
async fn every_field_can_be_changed() {
    let ctx = Ctx::new().await;
    let (user_id, _) = full_user(&ctx).await;
    let after = ctx
        .update(
            &ctx.shop_token,
            &user_id,
            json!({
                "email": "New@Example.com",
                "phone_number": "+44 7911 123456",
                "birthday": "2000-01-02T03:04:05Z",
                "picture": "https://example.com/b.png",
                "external_user_id": "ext-2",
                "username": "Joanna",
                "external_account_id": "acct-2",
            }),
        )
        .await;
    assert_eq!(
        after["email"],
        json!({"value": "New@Example.com", "email_verified": false})
    );
    assert_eq!(after["phone_number"]["value"], "+447911123456");
    // A secondary value that became the primary is no longer a secondary.
    assert_eq!(after["secondary_phone_numbers"], json!([]));
    assert_eq!(after["birthday"], "2000-01-02T00:00:00.000Z");
    assert_eq!(after["picture"], "https://example.com/b.png");
    assert_eq!(after["external_user_id"], "ext-2");
    assert_eq!(after["username"], "Joanna");
    assert_eq!(after["external_account_id"], "acct-2");
    // The new values are the ones lookups use.
    for path in [
        "email/new%40example.com",
        "phone-number/%2B447911123456",
        "external-user-id/ext-2",
        "username/joanna",
    ] {
        let r = ctx.get(&ctx.shop_token, &format!("{USERS}/{path}")).await;
        assert_eq!(r.json()["result"]["user_id"], user_id.as_str(), "{path}");
    }
    for path in [
        "email/jo%40example.com",
        "phone-number/%2B16502530000",
        "external-user-id/ext-1",
        "username/jo",
    ] {
        assert_user_not_found(&ctx.get(&ctx.shop_token, &format!("{USERS}/{path}")).await);
    }
}

#[tokio::test]
async fn a_new_primary_email_or_phone_is_unverified() {
    let ctx = Ctx::new().await;
    let user_id = ctx
        .shop_user(json!({"email": "jo@example.com", "phone_number": "+16502530000"}))
        .await;
    let u = format!("{USERS}/{user_id}");
    for path in ["emails/jo%40example.com", "phone-numbers/%2B16502530000"] {
        let r = ctx
            .post(&ctx.shop_token, &format!("{u}/{path}/verify"), json!({}))
            .await;
        assert_eq!(r.status, axum::http::StatusCode::ACCEPTED);
    }
    // The same value (in another letter case) keeps its verification.
    let same = ctx
        .update(
            &ctx.shop_token,
            &user_id,
            json!({"email": "JO@example.com", "phone_number": "+1 650 253 0000"}),
        )
        .await;
    assert_eq!(same["email"]["email_verified"], true);
    assert_eq!(same["email"]["value"], "jo@example.com");
    assert_eq!(same["phone_number"]["phone_number_verified"], true);
    let changed = ctx
        .update(
            &ctx.shop_token,
            &user_id,
            json!({"email": "new@example.com", "phone_number": "+33612345678"}),
        )
        .await;
    assert_eq!(
        changed["email"],
        json!({"value": "new@example.com", "email_verified": false})
    );
    assert_eq!(
        changed["phone_number"],
        json!({"value": "+33612345678", "phone_number_verified": false})
    );
}

#[tokio::test]
async fn status_changes_move_status_changed_at() {
    let ctx = Ctx::new().await;
    let (user_id, before) = full_user(&ctx).await;
    assert_eq!(before["status"], "Pending");
    let same = ctx
        .update(&ctx.shop_token, &user_id, json!({"status": "Pending"}))
        .await;
    assert_eq!(same["status_changed_at"], before["status_changed_at"]);
    let mut last = before["status_changed_at"].as_str().unwrap().to_owned();
    for status in ["Disabled", "Active", "Pending"] {
        let u = ctx
            .update(&ctx.shop_token, &user_id, json!({"status": status}))
            .await;
        assert_eq!(u["status"], status);
        let at = u["status_changed_at"].as_str().unwrap().to_owned();
        assert!(at >= last, "{at} after {last}");
        last = at;
    }
    // A disabled user is still found.
    ctx.update(&ctx.shop_token, &user_id, json!({"status": "Disabled"}))
        .await;
    let r = ctx
        .get(&ctx.shop_token, &format!("{USERS}/email/jo%40example.com"))
        .await;
    assert_eq!(r.json()["result"]["status"], "Disabled");
}

#[tokio::test]
async fn update_validation_names_the_field() {
    let ctx = Ctx::new().await;
    let (user_id, before) = full_user(&ctx).await;
    let uri = format!("{USERS}/{user_id}");
    let cases = [
        (json!({"status": "active"}), "status"),
        (json!({"status": "Deleted"}), "status"),
        (json!({"email": "nope"}), "email"),
        (json!({"phone_number": "+1555555012"}), "phone_number"),
        (json!({"secondary_emails": ["bad"]}), "secondary_emails[0]"),
        (
            json!({"secondary_phone_numbers": ["123"]}),
            "secondary_phone_numbers[0]",
        ),
        (
            json!({"name": {"first_name": "x".repeat(31)}}),
            "name.first_name",
        ),
        (json!({"address": {"type": "boat"}}), "address.type"),
        (
            json!({"address": {"street_address": "s".repeat(151)}}),
            "address.street_address",
        ),
        (json!({"birthday": "17/05/1990"}), "birthday"),
        (json!({"custom_data": [1]}), "custom_data"),
        (json!({"custom_app_data": "x"}), "custom_app_data"),
        (json!({"username": ""}), "username"),
        (json!({"username": "adm\u{202E}nim"}), "username"),
        (
            json!({"external_user_id": "a\u{200B}b"}),
            "external_user_id",
        ),
        (json!({"address": {"city": "Par\nis"}}), "address.city"),
        (json!({"language": "en\u{0}"}), "language"),
        (json!({"status": 1}), "status"),
        (
            json!({"custom_data": {"big": "x".repeat(512_000)}}),
            "custom_data must be at most 500 KB",
        ),
        (
            json!({"custom_app_data": {"big": "x".repeat(512_000)}}),
            "custom_app_data must be at most 500 KB",
        ),
    ];
    for (body, field) in cases {
        let r = ctx.put(&ctx.shop_token, &uri, body).await;
        assert_bad_request(&r, field);
    }
    // A bad field spoils the whole update.
    let r = ctx
        .put(
            &ctx.shop_token,
            &uri,
            json!({"language": "de", "status": "Gone"}),
        )
        .await;
    assert_bad_request(&r, "status");
    assert_eq!(ctx.read(&ctx.shop_token, &user_id).await, before);
}

#[tokio::test]
async fn merged_custom_data_is_capped_too() {
    let ctx = Ctx::new().await;
    let user_id = ctx
        .shop_user(json!({"email": "jo@example.com", "custom_data": {"a": "x".repeat(300_000)}}))
        .await;
    let r = ctx
        .put(
            &ctx.shop_token,
            &format!("{USERS}/{user_id}"),
            json!({"custom_data": {"b": "y".repeat(300_000)}}),
        )
        .await;
    assert_bad_request(&r, "custom_data must be at most 500 KB");
    let u = ctx.read(&ctx.shop_token, &user_id).await;
    assert!(u["custom_data"].get("b").is_none());
    // Replacing the big key keeps it under the cap.
    let u = ctx
        .update(
            &ctx.shop_token,
            &user_id,
            json!({"custom_data": {"a": null, "b": "y".repeat(300_000)}}),
        )
        .await;
    assert!(u["custom_data"].get("a").is_none());
}

#[tokio::test]
async fn update_conflicts_are_400_with_the_code() {
    let ctx = Ctx::new().await;
    ctx.shop_user(json!({
        "email": "taken@example.com",
        "phone_number": "+447911123456",
        "external_user_id": "taken",
        "username": "taken",
        "external_account_id": "taken",
    }))
    .await;
    let (user_id, before) = full_user(&ctx).await;
    let uri = format!("{USERS}/{user_id}");
    for (body, code) in [
        (json!({"email": "TAKEN@example.com"}), "EMAIL_TAKEN"),
        (
            json!({"phone_number": "+44 7911 123456"}),
            "PHONE_NUMBER_TAKEN",
        ),
        (
            json!({"external_user_id": "taken"}),
            "EXTERNAL_USER_ID_TAKEN",
        ),
        (json!({"username": "Taken"}), "USERNAME_TAKEN"),
        (
            json!({"external_account_id": "taken"}),
            "EXTERNAL_ACCOUNT_ID_TAKEN",
        ),
        (
            json!({"language": "de", "email": "taken@example.com"}),
            "EMAIL_TAKEN",
        ),
    ] {
        let r = ctx.put(&ctx.shop_token, &uri, body.clone()).await;
        assert_taken(&r, code);
    }
    assert_eq!(ctx.read(&ctx.shop_token, &user_id).await, before);
    // Secondary values need not be unique.
    ctx.update(
        &ctx.shop_token,
        &user_id,
        json!({"secondary_emails": ["taken@example.com"], "secondary_phone_numbers": ["+447911123456"]}),
    )
    .await;
}

#[tokio::test]
async fn admin_updates_app_level_fields_with_app_id() {
    let ctx = Ctx::new().await;
    let (user_id, _) = full_user(&ctx).await;
    let uri = format!("{USERS}/{user_id}");
    // Tenant-level fields need no app.
    let u = ctx
        .update(&ctx.admin, &user_id, json!({"language": "it"}))
        .await;
    assert_eq!(u["language"], "it");
    assert!(u.get("username").is_none());
    let r = ctx.put(&ctx.admin, &uri, json!({"username": "x"})).await;
    assert_bad_request(&r, "username, external_account_id and custom_app_data");
    let u = ctx
        .update(
            &ctx.admin,
            &format!("{user_id}?app_id={}", ctx.shop.app_id),
            json!({"username": "by-admin", "custom_app_data": {"z": 0}}),
        )
        .await;
    assert_eq!(u["username"], "by-admin");
    assert_eq!(u["custom_app_data"], json!({"b": 2, "a": 1, "z": 0}));
    // With `app_id`, an admin sees what that app's client sees: a user outside the app is
    // not found (`DECISIONS.md`), and an app_id of no app is 404 too.
    let (blog, _) = ctx.another_app("Blog").await;
    for app_id in [blog.app_id.as_str(), "no-such-app"] {
        let r = ctx
            .put(
                &ctx.admin,
                &format!("{uri}?app_id={app_id}"),
                json!({"custom_app_data": {"z": 1}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{app_id}: {}", text(&r));
    }
}

#[tokio::test]
async fn unknown_users_cannot_be_updated() {
    let ctx = Ctx::new().await;
    let r = ctx
        .put(
            &ctx.shop_token,
            &format!("{USERS}/abcdefghijklmnopqrstu"),
            json!({"language": "de"}),
        )
        .await;
    assert_user_not_found(&r);
}

#[tokio::test]
async fn changes_move_updated_at_and_status_changes_status_changed_at() {
    use crate::users::{backdate, BACKDATED_ISO};
    let ctx = Ctx::new().await;
    let user_id = ctx
        .shop_user(json!({"email": "jo@example.com", "secondary_emails": ["b@example.com"]}))
        .await;
    let u = format!("{USERS}/{user_id}");

    backdate(&ctx, &user_id).await;
    let same = ctx
        .update(&ctx.shop_token, &user_id, json!({"status": "Pending"}))
        .await;
    assert_eq!(same["status_changed_at"], BACKDATED_ISO, "status unchanged");
    let changed = ctx
        .update(&ctx.shop_token, &user_id, json!({"status": "Disabled"}))
        .await;
    assert_ne!(changed["status_changed_at"], BACKDATED_ISO);
    assert!(changed["updated_at"].as_i64().unwrap() > 1_000);
    assert_eq!(ctx.read(&ctx.shop_token, &user_id).await, changed);

    // Only a status change moves status_changed_at.
    backdate(&ctx, &user_id).await;
    let other = ctx
        .update(&ctx.shop_token, &user_id, json!({"language": "en"}))
        .await;
    assert_eq!(other["status_changed_at"], BACKDATED_ISO);
    assert!(other["updated_at"].as_i64().unwrap() > 1_000);

    // Verifying and removing contacts are changes too.
    for (method, path) in [
        (axum::http::Method::POST, "emails/jo%40example.com/verify"),
        (axum::http::Method::POST, "emails/b%40example.com/verify"),
        (axum::http::Method::DELETE, "emails/b%40example.com"),
    ] {
        backdate(&ctx, &user_id).await;
        let r = ctx
            .app
            .call(
                method.clone(),
                &format!("{u}/{path}"),
                Some(&ctx.shop_token),
                None,
            )
            .await;
        assert!(r.status.is_success(), "{path}: {}", crate::users::text(&r));
        let after = ctx.read(&ctx.shop_token, &user_id).await;
        assert!(
            after["updated_at"].as_i64().unwrap() > 1_000,
            "{method} {path}"
        );
        assert_eq!(after["status_changed_at"], BACKDATED_ISO);
    }
}
