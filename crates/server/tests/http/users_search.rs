//! `search` on `GET /v1/users` and `/v1/users/count`: the SCIM filter over HTTP, with the
//! caller's scope, `search_prefix`, paging and the errors.

use crate::users::{assert_bad_request, id, text, Ctx, USERS};
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn encoded(filter: &str) -> String {
    url::form_urlencoded::byte_serialize(filter.as_bytes()).collect()
}

async fn found(ctx: &Ctx, token: &str, filter: &str, extra: &str) -> (BTreeSet<String>, u64) {
    let r = ctx
        .get(token, &format!("{USERS}?search={}{extra}", encoded(filter)))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{filter}: {}", text(&r));
    let page = r.json();
    let ids = page["result"].as_array().unwrap().iter().map(id).collect();
    (ids, page["total_count"].as_u64().unwrap())
}

async fn counted(ctx: &Ctx, token: &str, filter: &str) -> u64 {
    let r = ctx
        .get(token, &format!("{USERS}/count?search={}", encoded(filter)))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{filter}: {}", text(&r));
    r.json()["result"]["user_count"].as_u64().unwrap()
}

fn set(ids: &[&String]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).clone()).collect()
}

#[tokio::test]
async fn filters_select_the_users_they_describe() {
    let ctx = Ctx::new().await;
    let create = |body: Value| {
        let ctx = &ctx;
        async move { ctx.shop_user(body).await }
    };
    let ann = create(json!({"email": "Ann.Sales@Example.com", "username": "AnnS",
        "name": {"first_name": "Ann", "last_name": "Lee"}, "address": {"country": "USA"},
        "secondary_emails": ["ann@home.example"], "custom_data": {"plan": "gold", "seats": 12, "vip": true},
        "custom_app_data": {"tier": 2}}))
    .await;
    let bob = create(
        json!({"email": "bob@example.com", "phone_number": "+14155550123",
        "name": {"first_name": "Bob", "last_name": "Leeds"}, "address": {"country": "UK"},
        "custom_data": {"plan": "free", "seats": 1, "vip": false}}),
    )
    .await;
    let cy = create(json!({"email": "sales.cy@example.org", "name": {"last_name": "Young"},
        "address": {"country": "USA"}, "external_user_id": "ext-7", "custom_data": {"plan": "gold"}}))
    .await;
    let (a, b, c) = (&ann, &bob, &cy);
    let cases: Vec<(&str, BTreeSet<String>)> = vec![
        (r#"email eq "ann.sales@example.COM""#, set(&[a])),
        (
            r#"(address.country eq "USA")and(email sw "sales")"#,
            set(&[c]),
        ),
        (r#"address.country eq "USA" and email sw "ann""#, set(&[a])),
        (r#"name.last_name sw "Lee""#, set(&[a, b])),
        (r#"name.last_name ew "ds""#, set(&[b])),
        (r#"email co "example.com""#, set(&[a, b])),
        (r#"secondary_emails eq "ANN@home.example""#, set(&[a])),
        (r#"custom_data.plan eq "gold""#, set(&[a, c])),
        ("custom_data.seats gt 5", set(&[a])),
        ("custom_data.vip eq true", set(&[a])),
        (
            "custom_data.vip eq false or custom_data.seats le 1",
            set(&[b]),
        ),
        ("custom_data.seats pr", set(&[a, b])),
        (r#"custom_app_data.tier eq 2"#, set(&[a])),
        (r#"username eq "anns""#, set(&[a])),
        ("phone_number pr", set(&[b])),
        (r#"not (phone_number pr)"#, set(&[a, c])),
        (r#"external_user_id ne "ext-7""#, set(&[a, b])),
        (r#"name.first_name ne "Ann""#, set(&[b, c])),
        (r#"email ne null"#, set(&[a, b, c])),
        (r#"external_user_id eq null"#, set(&[a, b])),
        (
            r#"created_at gt "2000-01-01T00:00:00.000+00:00" and status eq "Pending""#,
            set(&[a, b, c]),
        ),
        ("created_at lt 946684800000", set(&[])),
        (r#"groupIds eq "g1""#, set(&[])),
        (r#"name.last_name eq "x\" OR 1=1 --""#, set(&[])),
    ];
    for (filter, expected) in &cases {
        let (ids, total) = found(&ctx, &ctx.shop_token, filter, "").await;
        assert_eq!(&ids, expected, "{filter}");
        assert_eq!(total, expected.len() as u64, "{filter}");
        assert_eq!(
            counted(&ctx, &ctx.shop_token, filter).await,
            total,
            "{filter}"
        );
    }
    // With search_prefix, sorting and paging: total_count counts every match.
    let (page, total) = found(
        &ctx,
        &ctx.shop_token,
        r#"email co "example""#,
        "&page_limit=1&sort_field=email",
    )
    .await;
    assert_eq!((page, total), (set(&[a]), 3));
    let (page, total) = found(
        &ctx,
        &ctx.shop_token,
        r#"name.last_name sw "Lee""#,
        "&search_prefix=bob",
    )
    .await;
    assert_eq!((page, total), (set(&[b]), 1));
}

#[tokio::test]
async fn the_callers_scope_bounds_every_search() {
    let ctx = Ctx::new().await;
    let (blog, blog_token) = ctx.another_app("Blog").await;
    let shop_user = ctx
        .shop_user(json!({"email": "s@example.com", "username": "same"}))
        .await;
    let blog_user = ctx
        .create(
            &blog_token,
            json!({"email": "b@example.com", "username": "same"}),
        )
        .await;
    let blog_user = id(&blog_user);
    // Each app finds only its own users, and reads its own usernames.
    assert_eq!(
        found(&ctx, &ctx.shop_token, r#"username eq "same""#, "")
            .await
            .0,
        set(&[&shop_user])
    );
    assert_eq!(
        found(&ctx, &blog_token, r#"email co "@""#, "").await.0,
        set(&[&blog_user])
    );
    // An admin sees the tenant, and needs app_id for app-level attributes.
    assert_eq!(
        counted(&ctx, &ctx.admin, r#"email co "@example.com""#).await,
        2
    );
    let r = ctx
        .get(
            &ctx.admin,
            &format!("{USERS}?search={}", encoded(r#"username eq "same""#)),
        )
        .await;
    assert_bad_request(
        &r,
        "search: username, external_account_id and custom_app_data",
    );
    let (ids, _) = found(
        &ctx,
        &ctx.admin,
        r#"username eq "same""#,
        &format!("&app_id={}", blog.app_id),
    )
    .await;
    assert_eq!(ids, set(&[&blog_user]));
}

#[tokio::test]
async fn bad_filters_are_400_naming_the_position_and_the_problem() {
    let ctx = Ctx::new().await;
    let cases = [
        (
            r#"nickname eq "x""#,
            "search: at position 1: unknown attribute 'nickname'",
        ),
        (
            r#"email eq "x"#,
            "search: at position 10: unterminated string",
        ),
        (r#"(email eq "x""#, "search: at position 14: ')' expected"),
        (
            "custom_data.vip gt true",
            "search: at position 20: custom_data.vip gt: true and false",
        ),
        (
            r#"created_at co "2020""#,
            "search: at position 15: created_at co: a date takes",
        ),
        (
            r#"email eq "x"; DROP TABLE users"#,
            "search: at position 13: unexpected character ';'",
        ),
    ];
    for (filter, message) in cases {
        for path in ["", "/count"] {
            let r = ctx
                .get(
                    &ctx.shop_token,
                    &format!("{USERS}{path}?search={}", encoded(filter)),
                )
                .await;
            assert_bad_request(&r, message);
        }
    }
    let long = format!(r#"email eq "{}""#, "a".repeat(4100));
    let r = ctx
        .get(
            &ctx.shop_token,
            &format!("{USERS}?search={}", encoded(&long)),
        )
        .await;
    assert_bad_request(
        &r,
        "search: at position 1: the filter is longer than 4096 bytes",
    );
    let deep = format!("{}email pr{}", "(".repeat(33), ")".repeat(33));
    let r = ctx
        .get(
            &ctx.shop_token,
            &format!("{USERS}/count?search={}", encoded(&deep)),
        )
        .await;
    assert_bad_request(
        &r,
        "search: at position 33: the filter is nested deeper than 32 levels",
    );
    // An empty search is no filter.
    assert_eq!(ctx.count(&ctx.shop_token, "?search=").await, 0);
}
