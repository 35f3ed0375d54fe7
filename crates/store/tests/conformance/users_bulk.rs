//! Users: bulk create, and sign-in identities.

use crate::setup;
use crate::users::{app, input, is_not_found};
use roster_core::user::{Created, Lookup, Scope};
use roster_core::AppId;
use roster_core::Error;
use serde_json::json;

#[tokio::test]
async fn bulk_create_judges_each_item_alone() {
    let (store, a, b) = setup().await;
    let shop = app(&store, &a, "Shop").await;
    let t = store.tenant(&a);
    t.create_user(Some(&shop), &input(json!({"email": "old@example.com"})))
        .await
        .unwrap();
    let items = vec![
        input(json!({"email": "one@example.com"})),
        input(json!({"email": "old@example.com"})),
        input(json!({"email": "two@example.com", "username": "u"})),
        input(json!({"email": "three@example.com", "username": "U"})),
        input(json!({"email": "one@example.com"})),
    ];
    let results = t.bulk_create_users(Some(&shop), &items).await.unwrap();
    let outcome: Vec<_> = results
        .iter()
        .map(|r| match r {
            Ok(_) => "ok",
            Err(Error::Conflict { code, .. }) => code,
            Err(_) => "other",
        })
        .collect();
    assert_eq!(
        outcome,
        vec![
            "ok",
            "USER_ALREADY_EXISTS",
            "ok",
            "USERNAME_TAKEN",
            "USER_ALREADY_EXISTS"
        ]
    );
    assert_eq!(
        t.count_users(&Scope::Members(shop.clone()), None)
            .await
            .unwrap(),
        3
    );
    // The same batch in another tenant creates everything anew.
    let other_shop = app(&store, &b, "Shop").await;
    let results = store
        .tenant(&b)
        .bulk_create_users(Some(&other_shop), &items[..1])
        .await
        .unwrap();
    assert!(matches!(results[0], Ok((_, Created::New))));
    // A missing app fails the whole batch.
    assert!(is_not_found(
        t.bulk_create_users(Some(&AppId::generate()), &items).await
    ));
}

#[tokio::test]
async fn identities_are_recorded_read_and_found() {
    let (store, a, b) = setup().await;
    let shop = app(&store, &a, "Shop").await;
    let t = store.tenant(&a);
    let (view, _) = t
        .create_user(Some(&shop), &input(json!({"email": "jo@example.com"})))
        .await
        .unwrap();
    let id = view.user.user_id;
    let identity = roster_core::user::Identity {
        provider_name: "google".into(),
        provider_type: "OAuth2".into(),
        auth_type: "oauth2".into(),
        identifier: "google-sub-1".into(),
        first_auth_date: 1_000,
        last_auth_date: 1_000,
    };
    t.record_identity(&id, &identity).await.unwrap();
    let later = roster_core::user::Identity {
        last_auth_date: 2_000,
        ..identity.clone()
    };
    t.record_identity(&id, &later).await.unwrap();
    let read = t
        .get_user(&Scope::Members(shop.clone()), &id)
        .await
        .unwrap();
    assert_eq!(read.user.identities, vec![later]);
    let found = t
        .find_user(
            &Scope::Tenant(None),
            &Lookup::IdpIdentifier("google-sub-1".into()),
        )
        .await
        .unwrap();
    assert_eq!(found.user.user_id, id);
    // Another tenant can neither record nor find it.
    assert!(is_not_found(
        store.tenant(&b).record_identity(&id, &identity).await
    ));
    assert!(is_not_found(
        store
            .tenant(&b)
            .find_user(
                &Scope::Tenant(None),
                &Lookup::IdpIdentifier("google-sub-1".into())
            )
            .await
    ));
}
