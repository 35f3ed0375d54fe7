//! Users API: `POST /v1/users/bulk`.

use crate::users::{assert_bad_request, id, text, Ctx, USERS};
use axum::http::StatusCode;
use serde_json::{json, Value};

fn bulk_uri() -> String {
    format!("{USERS}/bulk")
}

/// A bulk create that must answer 201; returns `result`.
async fn bulk(ctx: &Ctx, token: &str, query: &str, items: Value) -> Value {
    let r = ctx
        .post(token, &format!("{}{query}", bulk_uri()), items)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
    let body = r.json();
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    body["result"].clone()
}

fn error_at(result: &Value, index: usize) -> &Value {
    result["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["index"] == index)
        .unwrap_or_else(|| panic!("no error at {index}: {result}"))
}

#[tokio::test]
async fn each_item_succeeds_or_fails_on_its_own() {
    let ctx = Ctx::new().await;
    let (_, blog_token) = ctx.another_app("Blog").await;
    let existing = id(&ctx
        .create(
            &blog_token,
            json!({"email": "linked@example.com", "custom_data": {"k": 1}}),
        )
        .await);
    ctx.shop_user(json!({"email": "taken@example.com", "username": "taken"}))
        .await;
    let result = bulk(
        &ctx,
        &ctx.shop_token,
        "",
        json!([
            {"email": "one@example.com", "name": {"first_name": "One"}},
            {"email": "not-an-email"},
            {"email": "taken@example.com"},
            {"phone_number": "+1 650 253 0000", "username": "two"},
            {"email": "fresh@example.com", "username": "TAKEN"},
            {"email": "linked@example.com", "custom_app_data": {"shop": true}},
            {},
            {"email": 7},
            "not an object",
            {"username": "three", "credentials": {"password": "x"}},
        ]),
    )
    .await;
    assert_eq!(result["total"], 10);
    assert_eq!(result["created"], 3);
    assert_eq!(result["failed"], 7);
    let users = result["users"].as_array().unwrap();
    assert_eq!(users.len(), 3);
    assert_eq!(users[0]["email"]["value"], "one@example.com");
    assert_eq!(users[0]["name"]["first_name"], "One");
    assert_eq!(users[0]["status"], "Pending");
    assert_eq!(users[0]["app_name"], "Shop");
    assert_eq!(users[1]["phone_number"]["value"], "+16502530000");
    assert_eq!(users[1]["username"], "two");
    // A tenant user of another app is linked, as by a single create.
    assert_eq!(id(&users[2]), existing);
    assert_eq!(users[2]["custom_data"], json!({"k": 1}));
    assert_eq!(users[2]["custom_app_data"], json!({"shop": true}));

    let errors = result["errors"].as_array().unwrap();
    let indexes: Vec<_> = errors
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, [1, 2, 4, 6, 7, 8, 9], "sorted by index");
    for e in errors {
        let keys: Vec<_> = e.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys.len(), 3, "{e}");
        assert!(e["message"].is_string(), "{e}");
    }
    for (index, code, starts) in [
        (1, 400, "email"),
        (2, 409, ""),
        (4, 409, ""),
        (6, 400, "one of email, phone_number or username"),
        (7, 400, "email"),
        (8, 400, ""),
        (9, 400, "credentials"),
    ] {
        let e = error_at(&result, index);
        assert_eq!(e["error_code"], code, "{e}");
        assert!(e["message"].as_str().unwrap().starts_with(starts), "{e}");
    }
    // What was reported as created is stored; nothing else is.
    assert_eq!(ctx.count(&ctx.shop_token, "").await, 4);
    assert_eq!(ctx.count(&ctx.admin, "").await, 4);
    for u in users {
        assert_eq!(&ctx.read(&ctx.shop_token, &id(u)).await, u);
    }
}

#[tokio::test]
async fn duplicates_inside_one_batch() {
    let ctx = Ctx::new().await;
    let result = bulk(
        &ctx,
        &ctx.shop_token,
        "",
        json!([
            {"email": "dup@example.com"},
            {"email": "DUP@example.com"},
            {"username": "same"},
            {"username": "Same"},
            {"email": "a@example.com", "phone_number": "+447911123456"},
            {"email": "b@example.com", "phone_number": "+447911123456"},
        ]),
    )
    .await;
    assert_eq!(result["created"], 3);
    assert_eq!(result["failed"], 3);
    assert_eq!(error_at(&result, 1)["error_code"], 409);
    assert_eq!(error_at(&result, 3)["error_code"], 409);
    assert_eq!(error_at(&result, 5)["error_code"], 409);
    assert_eq!(ctx.count(&ctx.shop_token, "").await, 3);

    // Through the admin token without app_id, a repeat is EMAIL_TAKEN, not a link.
    let result = bulk(
        &ctx,
        &ctx.admin,
        "",
        json!([{"email": "t@example.com"}, {"email": "t@example.com"}, {"email": "dup@example.com"}]),
    )
    .await;
    assert_eq!(result["created"], 1);
    assert_eq!(error_at(&result, 1)["error_code"], 409);
    assert_eq!(error_at(&result, 2)["error_code"], 409);
    assert_eq!(ctx.count(&ctx.admin, "").await, 4);

    // Through an admin token with app_id, tenant users not yet in that app are linked.
    let (blog, _) = ctx.another_app("Blog").await;
    let result = bulk(
        &ctx,
        &ctx.admin,
        &format!("?app_id={}", blog.app_id),
        json!([{"email": "t@example.com", "username": "t"}, {"email": "dup@example.com"}]),
    )
    .await;
    assert_eq!(result["created"], 2, "both linked: {result}");
    assert_eq!(result["users"][0]["username"], "t");
    assert_eq!(result["users"][0]["app_name"], "Blog");
    assert_eq!(ctx.count(&ctx.admin, "").await, 4);
}

#[tokio::test]
async fn admin_bulk_without_app_id_refuses_app_level_fields() {
    let ctx = Ctx::new().await;
    let result = bulk(
        &ctx,
        &ctx.admin,
        "",
        json!([{"email": "a@example.com"}, {"username": "b"}]),
    )
    .await;
    assert_eq!(result["created"], 1);
    assert!(result["users"][0].get("app_name").is_none());
    let e = error_at(&result, 1);
    assert_eq!(e["error_code"], 400);
    assert!(
        e["message"].as_str().unwrap().starts_with("username"),
        "{e}"
    );
}

#[tokio::test]
async fn bulk_takes_an_array_of_at_most_1000() {
    let ctx = Ctx::new().await;
    let items = |n: usize| -> Value {
        Value::Array(
            (0..n)
                .map(|i| json!({"email": format!("u{i}@example.com")}))
                .collect(),
        )
    };
    let r = ctx.post(&ctx.shop_token, &bulk_uri(), items(1001)).await;
    assert_bad_request(&r, "at most 1000");
    assert_eq!(ctx.count(&ctx.shop_token, "").await, 0);
    for body in [json!({"email": "a@example.com"}), json!("x"), json!(null)] {
        let r = ctx.post(&ctx.shop_token, &bulk_uri(), body).await;
        assert_bad_request(&r, "request body");
    }
    let result = bulk(&ctx, &ctx.shop_token, "", json!([])).await;
    assert_eq!(
        result,
        json!({"total": 0, "created": 0, "failed": 0, "users": [], "errors": []})
    );
    let result = bulk(&ctx, &ctx.shop_token, "", items(1000)).await;
    assert_eq!(result["total"], 1000);
    assert_eq!(result["created"], 1000);
    assert_eq!(result["failed"], 0);
    assert_eq!(ctx.count(&ctx.shop_token, "").await, 1000);
}

#[tokio::test]
async fn bulk_needs_a_valid_app() {
    let ctx = Ctx::new().await;
    let r = ctx
        .post(
            &ctx.admin,
            &format!("{}?app_id=no-such-app", bulk_uri()),
            json!([{"email": "a@example.com"}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", text(&r));
    assert_eq!(ctx.count(&ctx.admin, "").await, 0);
}
