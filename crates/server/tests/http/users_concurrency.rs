//! Users API under concurrent requests: uniqueness and atomic merges hold.

use crate::users::{id, text, Ctx, USERS};
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::task::JoinSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_creates_with_one_email_make_one_user() {
    let ctx = Arc::new(Ctx::new().await);
    let mut set = JoinSet::new();
    for i in 0..100 {
        let ctx = ctx.clone();
        set.spawn(async move {
            let email = if i % 2 == 0 {
                "race@example.com"
            } else {
                "RACE@example.com"
            };
            let r = ctx
                .post(
                    &ctx.shop_token,
                    USERS,
                    json!({"email": email, "custom_data": {"i": i}}),
                )
                .await;
            (r.status, r.json())
        });
    }
    let mut created = Vec::new();
    let mut conflicts = 0;
    while let Some(done) = set.join_next().await {
        let (status, body) = done.unwrap();
        match status {
            StatusCode::CREATED => created.push(body["result"].clone()),
            StatusCode::CONFLICT => {
                assert_eq!(body["ts_error_code"], "USER_ALREADY_EXISTS", "{body}");
                conflicts += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created.len(), 1);
    assert_eq!(conflicts, 99);
    assert_eq!(ctx.count(&ctx.shop_token, "").await, 1);
    assert_eq!(ctx.count(&ctx.admin, "").await, 1);
    let stored = ctx.read(&ctx.shop_token, &id(&created[0])).await;
    assert_eq!(stored, created[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_creates_from_several_apps_make_one_tenant_user() {
    let ctx = Arc::new(Ctx::new().await);
    let mut tokens = vec![ctx.shop_token.clone()];
    for i in 0..9 {
        tokens.push(ctx.another_app(&format!("App {i}")).await.1);
    }
    let mut set = JoinSet::new();
    for (app, token) in tokens.iter().enumerate() {
        for _ in 0..5 {
            let ctx = ctx.clone();
            let token = token.clone();
            set.spawn(async move {
                let r = ctx
                    .post(&token, USERS, json!({"phone_number": "+16502530000"}))
                    .await;
                (app, r.status, r.json())
            });
        }
    }
    let mut created_per_app = vec![0; tokens.len()];
    let mut user_ids = HashSet::new();
    while let Some(done) = set.join_next().await {
        let (app, status, body) = done.unwrap();
        match status {
            StatusCode::CREATED => {
                created_per_app[app] += 1;
                user_ids.insert(id(&body["result"]));
            }
            StatusCode::CONFLICT => {
                assert_eq!(body["ts_error_code"], "USER_ALREADY_EXISTS", "{body}")
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created_per_app, vec![1; tokens.len()], "one 201 per app");
    assert_eq!(user_ids.len(), 1, "every app got the same user");
    assert_eq!(ctx.count(&ctx.admin, "").await, 1);
    for token in &tokens {
        assert_eq!(ctx.count(token, "").await, 1);
    }
}

/// 50 concurrent PUTs to one user, each with `body(i)`; all must answer 200.
async fn concurrent_puts(ctx: &Arc<Ctx>, user_id: &str, body: fn(usize) -> Value) {
    let mut set = JoinSet::new();
    for i in 0..50 {
        let ctx = ctx.clone();
        let uri = format!("{USERS}/{user_id}");
        set.spawn(async move {
            let r = ctx.put(&ctx.shop_token, &uri, body(i)).await;
            assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
        });
    }
    while let Some(done) = set.join_next().await {
        done.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_updates_keep_every_custom_data_key() {
    let ctx = Arc::new(Ctx::new().await);
    let user_id = ctx
        .shop_user(json!({"email": "jo@example.com", "custom_data": {"base": true}}))
        .await;
    concurrent_puts(&ctx, &user_id, |i| {
        json!({
            "custom_data": {format!("k{i}"): i},
            "secondary_emails": [format!("s{i}@example.com")],
        })
    })
    .await;
    let u = ctx.read(&ctx.shop_token, &user_id).await;
    let custom = u["custom_data"].as_object().unwrap();
    assert_eq!(custom.len(), 51, "{custom:?}");
    assert_eq!(custom["base"], true);
    for i in 0..50 {
        assert_eq!(custom[&format!("k{i}")], Value::from(i));
    }
    assert_eq!(u["secondary_emails"].as_array().unwrap().len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_updates_keep_every_custom_app_data_key() {
    let ctx = Arc::new(Ctx::new().await);
    let user_id = ctx
        .shop_user(json!({"email": "jo@example.com", "custom_app_data": {"base": true}}))
        .await;
    concurrent_puts(
        &ctx,
        &user_id,
        |i| json!({"custom_app_data": {format!("a{i}"): i}}),
    )
    .await;
    let u = ctx.read(&ctx.shop_token, &user_id).await;
    let app_data = u["custom_app_data"].as_object().unwrap();
    assert_eq!(app_data.len(), 51, "{app_data:?}");
    for i in 0..50 {
        assert_eq!(app_data[&format!("a{i}")], Value::from(i));
    }
}
