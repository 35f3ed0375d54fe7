//! The Groups API over HTTP: every endpoint and its errors, `groupIds` on users, the user's
//! groups, search by group, tenant and app isolation, and what a user token may not do.

use crate::login::user_token;
use crate::users::{assert_bad_request, assert_conflict, id, text, Ctx, USERS};
use axum::http::StatusCode;
use serde_json::{json, Value};

const GROUPS: &str = "/cis/v1/groups";

async fn group(ctx: &Ctx, token: &str, body: Value) -> String {
    let r = ctx.post(token, GROUPS, body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{body}: {}", text(&r));
    r.json()["result"]["group_id"].as_str().unwrap().to_owned()
}

fn assert_group_not_found(r: &crate::common::Response) {
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", text(r));
    assert_eq!(
        r.json(),
        json!({"message": "Group not found", "error_code": 404})
    );
}

#[tokio::test]
async fn a_group_is_created_listed_read_updated_and_deleted() {
    let ctx = Ctx::new().await;
    let r = ctx
        .post(
            &ctx.shop_token,
            GROUPS,
            json!({"name": "Admins", "description": "d", "custom_data": {"a": 1}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
    let created = r.json()["result"].clone();
    let gid = created["group_id"].as_str().unwrap().to_owned();
    assert_eq!(gid.len(), 21);
    assert_eq!(
        (created["name"].clone(), created["description"].clone()),
        (json!("Admins"), json!("d"))
    );
    assert_eq!(created["custom_data"], json!({"a": 1}));
    assert!(created["created_at"].is_i64() && created["created_at"] == created["updated_at"]);

    // The admin sees the tenant's groups; the same name again is a 409.
    assert_eq!(
        ctx.get(&ctx.admin, &format!("{GROUPS}/{gid}")).await.json()["result"],
        created
    );
    assert_conflict(
        &ctx.post(&ctx.admin, GROUPS, json!({"name": "Admins"}))
            .await,
        "GROUP_NAME_TAKEN",
    );
    group(&ctx, &ctx.admin, json!({"name": "Alpha"})).await;
    let list = ctx.get(&ctx.shop_token, GROUPS).await;
    assert_eq!(list.status, StatusCode::OK);
    let names: Vec<Value> = list.json()["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].clone())
        .collect();
    assert_eq!(names, [json!("Admins"), json!("Alpha")]);

    // PUT replaces what it names, custom_data whole; null clears the description.
    let r = ctx
        .put(
            &ctx.shop_token,
            &format!("{GROUPS}/{gid}"),
            json!({"custom_data": {"b": 2}, "description": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    let updated = r.json()["result"].clone();
    assert_eq!(
        (updated["name"].clone(), updated["custom_data"].clone()),
        (json!("Admins"), json!({"b": 2}))
    );
    assert!(updated.get("description").is_none(), "{updated}");
    let taken = ctx
        .put(
            &ctx.shop_token,
            &format!("{GROUPS}/{gid}"),
            json!({"name": "Alpha"}),
        )
        .await;
    assert_conflict(&taken, "GROUP_NAME_TAKEN");

    let r = ctx
        .delete(&ctx.shop_token, &format!("{GROUPS}/{gid}"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_group_not_found(&ctx.get(&ctx.shop_token, &format!("{GROUPS}/{gid}")).await);
    assert_group_not_found(
        &ctx.delete(&ctx.shop_token, &format!("{GROUPS}/{gid}"))
            .await,
    );
    assert_group_not_found(
        &ctx.put(
            &ctx.shop_token,
            &format!("{GROUPS}/{gid}"),
            json!({"name": "x"}),
        )
        .await,
    );
}

#[tokio::test]
async fn bad_group_bodies_are_400s_that_name_the_field() {
    let ctx = Ctx::new().await;
    let t = &ctx.shop_token;
    for (body, message) in [
        (json!({}), "name is required"),
        (json!({"name": ""}), "name must not be empty"),
        (json!({"name": "x".repeat(257)}), "name must be at most 256"),
        (
            json!({"name": "a", "description": "d".repeat(1025)}),
            "description must be at most 1024",
        ),
        (
            json!({"name": "a", "custom_data": [1]}),
            "custom_data must be a JSON object",
        ),
        (json!({"name": 5}), "name"),
        (json!([{"name": "a"}]), ""),
    ] {
        assert_bad_request(&ctx.post(t, GROUPS, body.clone()).await, message);
    }
    assert!(ctx.get(t, GROUPS).await.json()["result"]
        .as_array()
        .unwrap()
        .is_empty());
    let gid = group(&ctx, t, json!({"name": "G"})).await;
    let members = format!("{GROUPS}/{gid}/members");
    for body in [
        json!({}),
        json!({"user_ids": "u"}),
        json!({"user_ids": [1]}),
    ] {
        let r = ctx.post(t, &members, body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(text(&r).contains("user_ids"), "{body}: {}", text(&r));
    }
    for (body, message) in [
        (json!({"user_ids": [""]}), "user_ids[0]"),
        (
            json!({"user_ids": vec!["u"; 1001]}),
            "user_ids must hold at most 1000",
        ),
    ] {
        assert_bad_request(&ctx.post(t, &members, body.clone()).await, message);
    }
    assert_bad_request(
        &ctx.get(t, &format!("{members}?page_limit=5001")).await,
        "page_limit must be at most 5000",
    );
    assert_bad_request(
        &ctx.get(t, &format!("{members}?page_offset=-1")).await,
        "page_offset",
    );
}

#[tokio::test]
async fn members_come_and_go_and_show_on_the_user() {
    let ctx = Ctx::new().await;
    let t = &ctx.shop_token;
    let ann = ctx.shop_user(json!({"email": "ann@example.com"})).await;
    let (_, other_token) = ctx.another_app("Other").await;
    let bob = id(&ctx
        .create(&other_token, json!({"email": "bob@example.com"}))
        .await);
    let gid = group(&ctx, t, json!({"name": "G"})).await;
    let members = format!("{GROUPS}/{gid}/members");

    // An id that is no user of the tenant is named, and nothing is added.
    let r = ctx
        .post(t, &members, json!({"user_ids": [ann, "nobody-1"]}))
        .await;
    assert_bad_request(&r, "user_ids: no user of this tenant has the id nobody-1");
    assert!(ctx.get(&ctx.admin, &members).await.json()["result"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_group_not_found(
        &ctx.post(
            t,
            &format!("{GROUPS}/nope/members"),
            json!({"user_ids": [ann]}),
        )
        .await,
    );

    // Any tenant user may be added (groups are the tenant's); each client lists its own.
    let r = ctx
        .post(t, &members, json!({"user_ids": [ann, bob, ann]}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", text(&r));
    assert!(r.body.is_empty());
    let listed = |token: &str| {
        let uri = members.clone();
        let ctx = &ctx;
        let token = token.to_owned();
        async move {
            let r = ctx.get(&token, &uri).await;
            assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
            r.json()["result"]
                .as_array()
                .unwrap()
                .iter()
                .map(id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(t).await, std::slice::from_ref(&ann));
    assert_eq!(listed(&other_token).await, std::slice::from_ref(&bob));
    assert_eq!(listed(&ctx.admin).await.len(), 2);
    let page = ctx
        .get(&ctx.admin, &format!("{members}?page_limit=1&page_offset=1"))
        .await;
    assert_eq!(page.json()["result"].as_array().unwrap().len(), 1);

    // groupIds and the user's groups; another app's user is 404 to this client.
    assert_eq!(ctx.read(t, &ann).await["groupIds"], json!([gid]));
    let r = ctx.get(t, &format!("{USERS}/{ann}/groups")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    assert_eq!(r.json()["result"][0]["group_id"], json!(gid));
    let r = ctx.get(t, &format!("{USERS}/{bob}/groups")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", text(&r));
    assert_eq!(
        ctx.get(&ctx.admin, &format!("{USERS}/{bob}/groups"))
            .await
            .status,
        StatusCode::OK
    );

    // Search by group.
    let search: String =
        url::form_urlencoded::byte_serialize(format!("groupIds eq \"{gid}\"").as_bytes()).collect();
    let r = ctx
        .get(&ctx.admin, &format!("{USERS}?search={search}"))
        .await;
    assert_eq!(r.json()["total_count"], 2, "{}", text(&r));

    // Removing a member; removing again is 404.
    let one = format!("{members}/{ann}");
    assert_eq!(ctx.delete(t, &one).await.status, StatusCode::NO_CONTENT);
    assert_eq!(ctx.delete(t, &one).await.status, StatusCode::NOT_FOUND);
    assert_eq!(ctx.read(t, &ann).await["groupIds"], json!([]));

    // Deleting the user and then the group clears the rest.
    let r = ctx
        .delete(&ctx.admin, &format!("/cis/v1/manage/users/{bob}"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(listed(&ctx.admin).await.is_empty());
    assert_eq!(
        ctx.delete(t, &format!("{GROUPS}/{gid}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_group_not_found(&ctx.get(t, &members).await);
}

#[tokio::test]
async fn groups_stay_in_their_tenant_and_need_permissions() {
    let ctx = Ctx::new().await;
    let gid = group(&ctx, &ctx.shop_token, json!({"name": "G"})).await;
    let user = ctx.shop_user(json!({"email": "jo@example.com"})).await;
    let other = Ctx::new().await;
    let theirs = other.shop_user(json!({"email": "x@example.com"})).await;
    let t = &other.shop_token;
    assert_group_not_found(&other.get(t, &format!("{GROUPS}/{gid}")).await);
    assert_group_not_found(
        &other
            .put(t, &format!("{GROUPS}/{gid}"), json!({"name": "y"}))
            .await,
    );
    assert_group_not_found(&other.delete(t, &format!("{GROUPS}/{gid}")).await);
    assert_group_not_found(
        &other
            .post(
                t,
                &format!("{GROUPS}/{gid}/members"),
                json!({"user_ids": [theirs]}),
            )
            .await,
    );
    assert_group_not_found(&other.get(t, &format!("{GROUPS}/{gid}/members")).await);
    assert!(other.get(t, GROUPS).await.json()["result"]
        .as_array()
        .unwrap()
        .is_empty());
    // Another tenant's user cannot join this tenant's group.
    let r = ctx
        .post(
            &ctx.shop_token,
            &format!("{GROUPS}/{gid}/members"),
            json!({"user_ids": [theirs]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", text(&r));
    assert_eq!(
        other.get(t, &format!("{USERS}/{user}/groups")).await.status,
        StatusCode::NOT_FOUND
    );

    // An end user's token carries no groups permission.
    let token = user_token(&ctx, &user);
    for (method, uri) in [
        (axum::http::Method::GET, GROUPS.to_string()),
        (axum::http::Method::GET, format!("{GROUPS}/{gid}")),
        (axum::http::Method::DELETE, format!("{GROUPS}/{gid}")),
        (axum::http::Method::GET, format!("{USERS}/{user}/groups")),
    ] {
        let r = ctx.app.call(method.clone(), &uri, Some(&token), None).await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{method} {uri}: {}",
            text(&r)
        );
    }
    assert_eq!(
        ctx.get(&ctx.shop_token, &format!("{GROUPS}/{gid}"))
            .await
            .status,
        StatusCode::OK
    );
}
