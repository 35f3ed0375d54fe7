//! Listing: pages, sorts, search_prefix and counts, within scopes.

use crate::setup;
use crate::users::{app, input};
use roster_core::user::{ListQuery, Scope, SortField};
use serde_json::json;

#[tokio::test]
async fn listing_pages_sorts_and_filters_by_prefix() {
    let (store, a, b) = setup().await;
    let shop = app(&store, &a, "Shop").await;
    let blog = app(&store, &a, "Blog").await;
    let t = store.tenant(&a);
    let emails = ["carol@example.com", "Alice@example.com", "bob@example.com"];
    for e in emails {
        t.create_user(Some(&shop), &input(json!({"email": e})))
            .await
            .unwrap();
    }
    t.create_user(Some(&shop), &input(json!({"phone_number": "+16502530000"})))
        .await
        .unwrap();
    t.create_user(Some(&blog), &input(json!({"email": "dave@example.com"})))
        .await
        .unwrap();
    let query = |offset, limit, sort, descending, prefix: Option<&str>| ListQuery {
        offset,
        limit,
        sort,
        descending,
        prefix: prefix.map(str::to_owned),
        filter: None,
    };
    let members = Scope::Members(shop.clone());
    // Pages follow one order (creation time, ties broken by id) without gaps or repeats.
    let (first, total) = t
        .list_users(&members, &query(0, 2, SortField::CreatedAt, false, None))
        .await
        .unwrap();
    let (second, _) = t
        .list_users(&members, &query(2, 2, SortField::CreatedAt, false, None))
        .await
        .unwrap();
    assert_eq!(total, 4);
    let all: Vec<_> = first.iter().chain(&second).collect();
    assert_eq!(all.len(), 4);
    assert!(all
        .windows(2)
        .all(|w| w[0].user.created_at <= w[1].user.created_at));
    let mut ids: Vec<_> = all.iter().map(|v| v.user.user_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4);
    let (page, _) = t
        .list_users(&members, &query(0, 10, SortField::Email, false, None))
        .await
        .unwrap();
    let got: Vec<_> = page
        .iter()
        .map(|v| {
            v.user
                .email
                .as_ref()
                .map(|e| e.value.as_str().to_owned())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        got,
        vec![
            "Alice@example.com",
            "bob@example.com",
            "carol@example.com",
            ""
        ]
    );
    let (page, _) = t
        .list_users(&members, &query(1, 10, SortField::Email, true, None))
        .await
        .unwrap();
    assert_eq!(page.len(), 3);
    assert_eq!(
        page[0].user.email.as_ref().unwrap().value.as_str(),
        "bob@example.com"
    );
    let (page, total) = t
        .list_users(
            &members,
            &query(0, 10, SortField::CreatedAt, false, Some("AL")),
        )
        .await
        .unwrap();
    assert_eq!((page.len(), total), (1, 1));
    let (page, _) = t
        .list_users(
            &members,
            &query(0, 10, SortField::CreatedAt, false, Some("+1650")),
        )
        .await
        .unwrap();
    assert_eq!(
        page[0].user.phone_number.as_ref().unwrap().value.as_str(),
        "+16502530000"
    );
    assert_eq!(t.count_users(&members, None).await.unwrap(), 4);
    assert_eq!(t.count_users(&Scope::Members(blog), None).await.unwrap(), 1);
    assert_eq!(crate::tenant_users(&t).await, 5);
    let (_, total) = t
        .list_users(
            &Scope::Tenant(None),
            &query(0, 1, SortField::LastAuth, false, None),
        )
        .await
        .unwrap();
    assert_eq!(total, 5);
    let other = store.tenant(&b);
    assert_eq!(crate::tenant_users(&other).await, 0);
    let (page, total) = other
        .list_users(
            &Scope::Members(shop),
            &query(0, 10, SortField::CreatedAt, false, None),
        )
        .await
        .unwrap();
    assert!(page.is_empty());
    assert_eq!(total, 0);
}

/// Pages of a sort by email, phone or last_auth run through the users with the value, in
/// index order, then those without it (by id), in both directions and across the seam.
#[tokio::test]
async fn sorted_pages_cross_from_users_with_the_value_to_those_without() {
    let (store, a, _) = setup().await;
    let shop = app(&store, &a, "Shop").await;
    let t = store.tenant(&a);
    let mut with = Vec::new();
    let mut without = Vec::new();
    for (i, e) in ["d@x.io", "B@x.io", "a@x.io", "e@x.io", "c@x.io"]
        .iter()
        .enumerate()
    {
        let (v, _) = t
            .create_user(
                Some(&shop),
                &input(json!({"email": e, "phone_number": format!("+1650253000{i}")})),
            )
            .await
            .unwrap();
        with.push((e.to_lowercase(), v.user.user_id.as_str().to_owned()));
    }
    for i in 0..3 {
        let (v, _) = t
            .create_user(
                Some(&shop),
                &input(json!({"username": format!("no-email-{i}")})),
            )
            .await
            .unwrap();
        without.push(v.user.user_id.as_str().to_owned());
    }
    with.sort();
    without.sort();
    let ascending: Vec<String> = with
        .iter()
        .map(|(_, id)| id.clone())
        .chain(without.iter().cloned())
        .collect();
    let descending: Vec<String> = with
        .iter()
        .rev()
        .map(|(_, id)| id.clone())
        .chain(without.iter().rev().cloned())
        .collect();
    let scope = Scope::Members(shop.clone());
    for (descending_order, expected) in [(false, &ascending), (true, &descending)] {
        for size in [1u64, 3, 5, 8] {
            for offset in 0..=9u64 {
                let q = ListQuery {
                    offset,
                    limit: size,
                    sort: SortField::Email,
                    descending: descending_order,
                    prefix: None,
                    filter: None,
                };
                let (page, total) = t.list_users(&scope, &q).await.unwrap();
                let got: Vec<String> = page
                    .iter()
                    .map(|v| v.user.user_id.as_str().to_owned())
                    .collect();
                let from = (offset as usize).min(expected.len());
                let to = (from + size as usize).min(expected.len());
                assert_eq!(
                    got,
                    expected[from..to].to_vec(),
                    "desc {descending_order}, size {size}, offset {offset}"
                );
                assert_eq!(total, 8);
            }
        }
    }
}

/// The kept counts (migration 0006) agree with a real count after every kind of change:
/// creates, links, bulk creates, removal from an app, deletion of a user and of an app.
#[tokio::test]
async fn kept_counts_agree_with_counting_after_every_change() {
    let (store, a, b) = setup().await;
    let shop = app(&store, &a, "Shop").await;
    let blog = app(&store, &a, "Blog").await;
    let t = store.tenant(&a);
    let everyone = roster_core::filter::parse("user_id pr").unwrap();
    let scopes = [
        Scope::Members(shop.clone()),
        Scope::Members(blog.clone()),
        Scope::Tenant(None),
    ];
    let check = |step: &'static str, expected: [u64; 3]| {
        let (t, scopes, everyone) = (&t, &scopes, &everyone);
        async move {
            for (scope, n) in scopes.iter().zip(expected) {
                let kept = t.count_users(scope, None).await.unwrap();
                let counted = t.count_users(scope, Some(everyone)).await.unwrap();
                assert_eq!((kept, counted), (n, n), "{step}: {scope:?}");
            }
        }
    };
    check("empty", [0, 0, 0]).await;
    let (jo, _) = t
        .create_user(Some(&shop), &input(json!({"email": "jo@x.io"})))
        .await
        .unwrap();
    t.create_user(Some(&blog), &input(json!({"email": "jo@x.io"})))
        .await
        .unwrap();
    check("created, then linked", [1, 1, 1]).await;
    let items: Vec<_> = (0..5)
        .map(|i| input(json!({"email": format!("bulk{i}@x.io")})))
        .collect();
    t.bulk_create_users(Some(&shop), &items).await.unwrap();
    t.create_user(None, &input(json!({"email": "nobody@x.io"})))
        .await
        .unwrap();
    check("bulk, and a user of no app", [6, 1, 7]).await;
    t.remove_user_from_app(&blog, &jo.user.user_id)
        .await
        .unwrap();
    check("removed from blog", [6, 0, 7]).await;
    t.delete_user(&jo.user.user_id).await.unwrap();
    check("deleted", [5, 0, 6]).await;
    t.create_user(Some(&blog), &input(json!({"email": "bulk0@x.io"})))
        .await
        .unwrap();
    store.tenant(&a).delete_app(&blog).await.unwrap();
    check("blog deleted", [5, 0, 6]).await;
    // Another tenant's counts are its own.
    assert_eq!(crate::tenant_users(&store.tenant(&b)).await, 0);
}
