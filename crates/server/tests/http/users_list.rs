//! Users API: the paged list and the count.

use crate::users::{assert_bad_request, id, text, Ctx, USERS};
use axum::http::StatusCode;
use serde_json::{json, Value};

/// `GET /v1/users{query}`, which must answer 200; returns the whole body.
async fn list(ctx: &Ctx, token: &str, query: &str) -> Value {
    let r = ctx.get(token, &format!("{USERS}{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", text(&r));
    let body = r.json();
    let keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    body
}

fn ids(page: &Value) -> Vec<String> {
    page["result"].as_array().unwrap().iter().map(id).collect()
}

fn field<'a>(page: &'a Value, f: impl Fn(&'a Value) -> &'a Value) -> Vec<&'a Value> {
    page["result"].as_array().unwrap().iter().map(f).collect()
}

async fn five_users(ctx: &Ctx) -> Vec<String> {
    let mut ids = Vec::new();
    for body in [
        json!({"email": "carol@example.com", "phone_number": "+447911123456"}),
        json!({"email": "Alice@example.com"}),
        json!({"email": "alicia@example.com", "phone_number": "+16502530000"}),
        json!({"username": "no-email", "phone_number": "+33612345678"}),
        json!({"email": "bob@example.com"}),
    ] {
        ids.push(ctx.shop_user(body).await);
    }
    ids
}

#[tokio::test]
async fn list_pages_through_the_apps_users() {
    let ctx = Ctx::new().await;
    let all = five_users(&ctx).await;
    let page = list(&ctx, &ctx.shop_token, "").await;
    assert_eq!(page["total_count"], 5);
    assert_eq!(
        page["page_info"],
        json!({"has_next_page": false, "has_previous_page": false})
    );
    let mut listed = ids(&page);
    assert_eq!(listed.len(), 5);
    for u in page["result"].as_array().unwrap() {
        assert_eq!(u["app_name"], "Shop", "client views carry app data");
        assert_eq!(u["custom_data"], json!({}));
    }
    listed.sort();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(listed, expected);

    // Pages of two cover everything once, in the same order as the whole list.
    let whole = ids(&page);
    let mut paged = Vec::new();
    for (offset, len, next, prev) in [(0, 2, true, false), (2, 2, true, true), (4, 1, false, true)]
    {
        let p = list(
            &ctx,
            &ctx.shop_token,
            &format!("?page_offset={offset}&page_limit=2"),
        )
        .await;
        assert_eq!(p["total_count"], 5, "{offset}");
        assert_eq!(p["result"].as_array().unwrap().len(), len, "{offset}");
        assert_eq!(
            p["page_info"],
            json!({"has_next_page": next, "has_previous_page": prev}),
            "{offset}"
        );
        paged.extend(ids(&p));
    }
    assert_eq!(paged, whole);
    // Past the end.
    let p = list(&ctx, &ctx.shop_token, "?page_offset=10").await;
    assert_eq!(p["result"], json!([]));
    assert_eq!(p["total_count"], 5);
    assert_eq!(
        p["page_info"],
        json!({"has_next_page": false, "has_previous_page": true})
    );
    // The largest page is allowed.
    let p = list(&ctx, &ctx.shop_token, "?page_limit=5000&page_offset=0").await;
    assert_eq!(p["result"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn the_default_page_is_100_users() {
    let ctx = Ctx::new().await;
    let items: Vec<Value> = (0..101)
        .map(|i| json!({"email": format!("u{i}@example.com")}))
        .collect();
    let r = ctx
        .post(
            &ctx.shop_token,
            &format!("{USERS}/bulk"),
            Value::Array(items),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
    assert_eq!(r.json()["result"]["created"], 101);
    let p = list(&ctx, &ctx.shop_token, "").await;
    assert_eq!(p["result"].as_array().unwrap().len(), 100);
    assert_eq!(p["total_count"], 101);
    assert_eq!(p["page_info"]["has_next_page"], true);
    let p = list(&ctx, &ctx.shop_token, "?page_offset=100").await;
    assert_eq!(p["result"].as_array().unwrap().len(), 1);
    assert_eq!(p["page_info"]["has_next_page"], false);
}

#[tokio::test]
async fn list_sorts_by_each_field() {
    let ctx = Ctx::new().await;
    five_users(&ctx).await;
    let emails = |p: &Value| -> Vec<Option<String>> {
        field(p, |u| &u["email"]["value"])
            .into_iter()
            .map(|v| v.as_str().map(str::to_lowercase))
            .collect()
    };
    let p = list(&ctx, &ctx.shop_token, "?sort_field=email").await;
    assert_eq!(
        emails(&p),
        [
            Some("alice@example.com".into()),
            Some("alicia@example.com".into()),
            Some("bob@example.com".into()),
            Some("carol@example.com".into()),
            None
        ]
    );
    let p = list(&ctx, &ctx.shop_token, "?sort_field=email&sort_order=desc").await;
    assert_eq!(
        emails(&p),
        [
            Some("carol@example.com".into()),
            Some("bob@example.com".into()),
            Some("alicia@example.com".into()),
            Some("alice@example.com".into()),
            None
        ]
    );
    let phones = |p: &Value| -> Vec<Option<String>> {
        field(p, |u| &u["phone_number"]["value"])
            .into_iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let p = list(
        &ctx,
        &ctx.shop_token,
        "?sort_field=phone_number&sort_order=asc",
    )
    .await;
    assert_eq!(
        phones(&p)[..3],
        [
            Some("+16502530000".into()),
            Some("+33612345678".into()),
            Some("+447911123456".into())
        ]
    );
    assert_eq!(phones(&p)[3..], [None, None]);
    for order in ["asc", "desc"] {
        let p = list(
            &ctx,
            &ctx.shop_token,
            &format!("?sort_field=created_at&sort_order={order}"),
        )
        .await;
        let created: Vec<i64> = field(&p, |u| &u["created_at"])
            .into_iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let mut sorted = created.clone();
        sorted.sort();
        if order == "desc" {
            sorted.reverse();
        }
        assert_eq!(created, sorted, "{order}");
        let p = list(
            &ctx,
            &ctx.shop_token,
            &format!("?sort_field=last_auth&sort_order={order}"),
        )
        .await;
        assert_eq!(p["total_count"], 5);
        let p = list(
            &ctx,
            &ctx.shop_token,
            &format!("?sort_field=organization_added_at&sort_order={order}"),
        )
        .await;
        assert_eq!(p["total_count"], 5);
    }
}

#[tokio::test]
async fn list_parameters_are_checked() {
    let ctx = Ctx::new().await;
    for (query, field) in [
        ("page_limit=5001", "page_limit"),
        ("page_limit=-1", "page_limit"),
        ("page_limit=abc", "page_limit"),
        ("page_limit=1.5", "page_limit"),
        ("page_limit=", "page_limit"),
        ("page_limit=99999999999999999999999", "page_limit"),
        ("page_offset=-1", "page_offset"),
        ("page_offset=abc", "page_offset"),
        ("page_offset=2.0", "page_offset"),
        ("sort_field=name", "sort_field"),
        ("sort_field=", "sort_field"),
        ("sort_order=up", "sort_order"),
        ("sort_order=", "sort_order"),
        // PostgreSQL cannot hold a NUL in text: refused before it gets there.
        ("search_prefix=jo%00e&sort_field=email", "search_prefix"),
    ] {
        let r = ctx.get(&ctx.shop_token, &format!("{USERS}?{query}")).await;
        assert_bad_request(&r, field);
    }
    // Every problem is named at once.
    let r = ctx
        .get(
            &ctx.shop_token,
            &format!("{USERS}?page_limit=x&sort_order=up"),
        )
        .await;
    assert_bad_request(&r, "page_limit");
    assert_bad_request(&r, "sort_order");
}

/// A NUL inside a JSON string is valid JSON; SQLite stores it, PostgreSQL cannot. Either
/// way the answer is a success or a 400 naming the problem, never a 500.
#[tokio::test]
async fn a_nul_in_stored_text_is_never_a_server_error() {
    let ctx = Ctx::new().await;
    let body = json!({"email": "nul@example.com", "custom_data": {"k": "a\u{0}b"}});
    let r = ctx.post(&ctx.shop_token, USERS, body).await;
    match r.status.as_u16() {
        201 => {}
        400 => assert_bad_request(&r, "a value holds a NUL character"),
        other => panic!("{other}: {}", text(&r)),
    }
}

#[tokio::test]
async fn search_prefix_matches_the_primary_email_or_phone() {
    let ctx = Ctx::new().await;
    five_users(&ctx).await;
    ctx.shop_user(json!({"email": "zed@example.com", "secondary_emails": ["alex@example.com"]}))
        .await;
    for (prefix, expected) in [
        ("ali", 2),
        ("ALI", 2),
        ("Alice%40", 1),
        ("alice@example.com", 1),
        ("b", 1),
        ("%2B1650", 1),
        ("%2B44", 1),
        ("%2B", 3),
        ("%2B3361234567", 1),
        ("alex", 0),
        ("zzz", 0),
        ("example", 0),
    ] {
        let p = list(&ctx, &ctx.shop_token, &format!("?search_prefix={prefix}")).await;
        assert_eq!(p["total_count"], expected, "{prefix}");
        assert_eq!(p["result"].as_array().unwrap().len(), expected, "{prefix}");
    }
    let p = list(&ctx, &ctx.shop_token, "?search_prefix=ali&page_limit=1").await;
    assert_eq!(p["total_count"], 2);
    assert_eq!(p["page_info"]["has_next_page"], true);
    // An empty prefix is no filter.
    let p = list(&ctx, &ctx.shop_token, "?search_prefix=").await;
    assert_eq!(p["total_count"], 6);
}

#[tokio::test]
async fn list_and_count_follow_the_callers_scope() {
    let ctx = Ctx::new().await;
    let (blog, blog_token) = ctx.another_app("Blog").await;
    five_users(&ctx).await;
    let shared = ctx
        .create(&blog_token, json!({"email": "bob@example.com"}))
        .await;
    ctx.create(&blog_token, json!({"email": "blog-only@example.com"}))
        .await;
    ctx.create(&ctx.admin, json!({"email": "no-app@example.com"}))
        .await;

    let r = ctx.get(&ctx.shop_token, &format!("{USERS}/count")).await;
    assert_eq!(r.json(), json!({"result": {"user_count": 5}}));
    assert_eq!(ctx.count(&blog_token, "").await, 2);
    assert_eq!(ctx.count(&ctx.admin, "").await, 7);

    let p = list(&ctx, &blog_token, "?sort_field=email").await;
    assert_eq!(p["total_count"], 2);
    assert_eq!(
        field(&p, |u| &u["email"]["value"]),
        [&json!("blog-only@example.com"), &json!("bob@example.com")]
    );
    assert!(ids(&p).contains(&id(&shared)));

    // The admin token lists the whole tenant, without app data.
    let p = list(&ctx, &ctx.admin, "").await;
    assert_eq!(p["total_count"], 7);
    assert_eq!(p["result"].as_array().unwrap().len(), 7);
    for u in p["result"].as_array().unwrap() {
        assert!(u.get("app_name").is_none(), "{u}");
        assert!(u.get("custom_app_data").is_none(), "{u}");
    }
    // With app_id, the blog's data shows on the blog's users.
    let p = list(
        &ctx,
        &ctx.admin,
        &format!("?app_id={}&sort_field=email", blog.app_id),
    )
    .await;
    let with_app: Vec<_> = p["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["app_name"] == "Blog")
        .map(id)
        .collect();
    assert_eq!(with_app.len(), 2, "{p}");
    assert_eq!(
        p["total_count"].as_u64().unwrap(),
        ctx.count(&ctx.admin, &format!("?app_id={}", blog.app_id))
            .await
    );

    // Another tenant sees none of them.
    let (_, other) = ctx.app.another_tenant().await;
    let other = ctx.app.token_for(&other).await;
    assert_eq!(ctx.count(&other, "").await, 0);
    assert_eq!(list(&ctx, &other, "").await["total_count"], 0);
}
