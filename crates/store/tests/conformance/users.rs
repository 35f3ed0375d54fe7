//! Users: create-or-link, lookups, listing, read-modify-write, removal; every method also
//! from another tenant.

use crate::{new_app, setup};
use roster_core::user::{
    CreateUserInput, Created, Email, Lookup, NewUser, PhoneNumber, Scope, UpdateUserInput, UserId,
};
use roster_core::{AppId, Error, TenantId};
use roster_store::Store;
use serde_json::{json, Value};
use std::sync::Arc;

pub(crate) fn input(v: Value) -> NewUser {
    serde_json::from_value::<CreateUserInput>(v)
        .unwrap()
        .validate(roster_core::time::now_ms())
        .unwrap()
}

pub(crate) async fn app(store: &Store, tenant: &TenantId, name: &str) -> AppId {
    store
        .tenant(tenant)
        .create_app(&new_app(name), None)
        .await
        .unwrap()
        .0
        .app_id
}

fn conflict_code(r: Result<impl std::fmt::Debug, Error>) -> &'static str {
    match r {
        Err(Error::Conflict { code, .. }) => code,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

pub(crate) fn is_not_found<T: std::fmt::Debug>(r: Result<T, Error>) -> bool {
    matches!(r, Err(Error::NotFound(_)))
}

#[tokio::test]
async fn create_and_read_within_scopes() {
    let (store, a, b) = setup().await;
    let shop = app(&store, &a, "Shop").await;
    let blog = app(&store, &a, "Blog").await;
    let t = store.tenant(&a);
    let (view, created) = t
        .create_user(
            Some(&shop),
            &input(
                json!({"email": "Jo@Example.com", "username": "Jo", "custom_app_data": {"k": 1}}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(created, Created::New);
    let id = view.user.user_id.clone();
    let m = view.membership.unwrap();
    assert_eq!(m.app_name, "Shop");
    assert_eq!(m.username.as_deref(), Some("Jo"));

    let read = t
        .get_user(&Scope::Members(shop.clone()), &id)
        .await
        .unwrap();
    assert_eq!(read.user.email.unwrap().value.as_str(), "Jo@Example.com");
    assert_eq!(read.membership.unwrap().custom_app_data["k"], 1);
    // Another app of the tenant does not reach the user; the admin view does, without
    // app-level data unless it names the app.
    assert!(is_not_found(
        t.get_user(&Scope::Members(blog.clone()), &id).await
    ));
    let admin = t.get_user(&Scope::Tenant(None), &id).await.unwrap();
    assert!(admin.membership.is_none());
    let admin_shop = t
        .get_user(&Scope::Tenant(Some(shop.clone())), &id)
        .await
        .unwrap();
    assert_eq!(admin_shop.membership.unwrap().app_id, shop);
    // Another tenant reaches nothing, whatever the scope.
    let other = store.tenant(&b);
    assert!(is_not_found(
        other.get_user(&Scope::Tenant(None), &id).await
    ));
    assert!(is_not_found(
        other.get_user(&Scope::Members(shop.clone()), &id).await
    ));
}

#[tokio::test]
async fn create_links_existing_users_to_new_apps() {
    let (store, a, b) = setup().await;
    let shop = app(&store, &a, "Shop").await;
    let blog = app(&store, &a, "Blog").await;
    let t = store.tenant(&a);
    let (first, _) = t
        .create_user(
            Some(&shop),
            &input(json!({"email": "jo@example.com", "name": {"first_name": "Jo"}})),
        )
        .await
        .unwrap();
    let (linked, created) = t
        .create_user(
            Some(&blog),
            &input(json!({"email": "JO@example.com", "name": {"first_name": "Other"}, "custom_app_data": {"b": true}})),
        )
        .await
        .unwrap();
    assert_eq!(created, Created::Linked);
    assert_eq!(linked.user.user_id, first.user.user_id);
    assert_eq!(
        linked.user.profile.name.unwrap().first_name.as_deref(),
        Some("Jo")
    );
    assert_eq!(linked.membership.unwrap().custom_app_data["b"], true);
    // Already in the app.
    let again = t
        .create_user(Some(&blog), &input(json!({"email": "jo@example.com"})))
        .await;
    assert_eq!(conflict_code(again), "USER_ALREADY_EXISTS");
    // Without an app there is nothing to link to.
    let admin = t
        .create_user(None, &input(json!({"email": "jo@example.com"})))
        .await;
    assert_eq!(conflict_code(admin), "EMAIL_TAKEN");
    // Identifiers of two different users.
    t.create_user(Some(&shop), &input(json!({"phone_number": "+16502530000"})))
        .await
        .unwrap();
    let split = t
        .create_user(
            Some(&blog),
            &input(json!({"email": "jo@example.com", "phone_number": "+16502530000"})),
        )
        .await;
    assert_eq!(conflict_code(split), "PHONE_NUMBER_TAKEN");
    // The same email in another tenant is another user.
    let other_shop = app(&store, &b, "Shop").await;
    let (other, created) = store
        .tenant(&b)
        .create_user(
            Some(&other_shop),
            &input(json!({"email": "jo@example.com"})),
        )
        .await
        .unwrap();
    assert_eq!(created, Created::New);
    assert_ne!(other.user.user_id, first.user.user_id);
}

#[tokio::test]
async fn app_level_identifiers_are_unique_per_app() {
    let (store, a, _) = setup().await;
    let shop = app(&store, &a, "Shop").await;
    let blog = app(&store, &a, "Blog").await;
    let t = store.tenant(&a);
    t.create_user(
        Some(&shop),
        &input(json!({"username": "Jo", "external_account_id": "acc-1"})),
    )
    .await
    .unwrap();
    let dup = t
        .create_user(Some(&shop), &input(json!({"username": "jo"})))
        .await;
    assert_eq!(conflict_code(dup), "USERNAME_TAKEN");
    let dup = t
        .create_user(
            Some(&shop),
            &input(json!({"username": "x", "external_account_id": "acc-1"})),
        )
        .await;
    assert_eq!(conflict_code(dup), "EXTERNAL_ACCOUNT_ID_TAKEN");
    t.create_user(
        Some(&blog),
        &input(json!({"username": "jo", "external_account_id": "acc-1"})),
    )
    .await
    .unwrap();
    t.create_user(
        Some(&shop),
        &input(json!({"email": "x@example.com", "external_user_id": "ext"})),
    )
    .await
    .unwrap();
    let dup = t
        .create_user(
            Some(&shop),
            &input(json!({"email": "y@example.com", "external_user_id": "ext"})),
        )
        .await;
    assert_eq!(conflict_code(dup), "EXTERNAL_USER_ID_TAKEN");
}

#[tokio::test]
async fn lookups_find_by_each_key_and_respect_scope() {
    let (store, a, b) = setup().await;
    let shop = app(&store, &a, "Shop").await;
    let blog = app(&store, &a, "Blog").await;
    let t = store.tenant(&a);
    let (view, _) = t
        .create_user(
            Some(&shop),
            &input(json!({
                "email": "Jo@Example.com", "phone_number": "+447911123456",
                "external_user_id": "ext-1", "username": "JoUser"
            })),
        )
        .await
        .unwrap();
    let id = view.user.user_id;
    let members = Scope::Members(shop.clone());
    for lookup in [
        Lookup::Email(Email::parse("e", "jo@example.com").unwrap().key()),
        Lookup::Phone(PhoneNumber::parse("p", "+447911123456").unwrap()),
        Lookup::ExternalUserId("ext-1".into()),
        Lookup::Username("jouser".into()),
    ] {
        assert_eq!(
            t.find_user(&members, &lookup).await.unwrap().user.user_id,
            id,
            "{lookup:?}"
        );
        assert_eq!(
            t.find_user(&Scope::Tenant(None), &lookup)
                .await
                .unwrap()
                .user
                .user_id,
            id,
            "{lookup:?}"
        );
        assert!(is_not_found(
            t.find_user(&Scope::Members(blog.clone()), &lookup).await
        ));
        assert!(is_not_found(
            store
                .tenant(&b)
                .find_user(&Scope::Tenant(None), &lookup)
                .await
        ));
    }
    assert!(is_not_found(
        t.find_user(
            &members,
            &Lookup::Email(Email::parse("e", "nobody@example.com").unwrap().key())
        )
        .await
    ));
    assert!(is_not_found(
        t.find_user(&members, &Lookup::IdpIdentifier("google|123".into()))
            .await
    ));
    // A username used in two apps by two users is ambiguous without an app.
    t.create_user(Some(&blog), &input(json!({"username": "jouser"})))
        .await
        .unwrap();
    assert!(matches!(
        t.find_user(&Scope::Tenant(None), &Lookup::Username("jouser".into()))
            .await,
        Err(Error::Invalid(_))
    ));
}

fn update(v: Value) -> UpdateUserInput {
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn updates_are_read_modify_write() {
    let (store, a, b) = setup().await;
    let shop = app(&store, &a, "Shop").await;
    let t = store.tenant(&a);
    let (view, _) = t
        .create_user(
            Some(&shop),
            &input(json!({"email": "jo@example.com", "custom_data": {"a": 1}})),
        )
        .await
        .unwrap();
    let id = view.user.user_id;
    let members = Scope::Members(shop.clone());
    let updated = t
        .update_user(&members, &id, |u, m| {
            update(json!({"custom_data": {"b": 2}, "custom_app_data": {"c": 3}, "username": "jo"}))
                .apply(u, m, 5)
        })
        .await
        .unwrap();
    assert_eq!(
        updated.user.custom_data,
        json!({"a": 1, "b": 2}).as_object().unwrap().clone()
    );
    assert_eq!(
        updated.membership.as_ref().unwrap().username.as_deref(),
        Some("jo")
    );
    let read = t.get_user(&members, &id).await.unwrap();
    assert_eq!(read.user, updated.user);
    assert_eq!(read.membership.unwrap().custom_app_data["c"], 3);

    // A refused change leaves everything as it was.
    let refused = t
        .update_user(&members, &id, |u, _| {
            u.custom_data.clear();
            Err(Error::invalid("no"))
        })
        .await;
    assert!(matches!(refused, Err(Error::Invalid(_))));
    assert_eq!(
        t.get_user(&members, &id)
            .await
            .unwrap()
            .user
            .custom_data
            .len(),
        2
    );

    // A taken email is a conflict.
    t.create_user(Some(&shop), &input(json!({"email": "taken@example.com"})))
        .await
        .unwrap();
    let taken = t
        .update_user(&members, &id, |u, m| {
            update(json!({"email": "TAKEN@example.com"})).apply(u, m, 6)
        })
        .await;
    assert_eq!(conflict_code(taken), "EMAIL_TAKEN");

    // Another tenant cannot update.
    let other = store
        .tenant(&b)
        .update_user(&Scope::Tenant(None), &id, |u, m| {
            update(json!({"picture": "x"})).apply(u, m, 7)
        })
        .await;
    assert!(is_not_found(other));
}

/// On several worker threads, so that the tasks race for real.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_of_different_keys_all_survive() {
    let (store, a, _) = setup().await;
    let store = Arc::new(store);
    let shop = app(&store, &a, "Shop").await;
    let (view, _) = store
        .tenant(&a)
        .create_user(Some(&shop), &input(json!({"email": "jo@example.com"})))
        .await
        .unwrap();
    let id = view.user.user_id;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..25 {
        let (store, a, shop, id) = (store.clone(), a.clone(), shop.clone(), id.clone());
        tasks.spawn(async move {
            store
                .tenant(&a)
                .update_user(&Scope::Members(shop), &id, move |u, m| {
                    update(json!({"custom_data": {format!("k{i}"): i}})).apply(u, m, 9)
                })
                .await
                .unwrap();
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let read = store
        .tenant(&a)
        .get_user(&Scope::Tenant(None), &id)
        .await
        .unwrap();
    assert_eq!(read.user.custom_data.len(), 25);
}

/// On several worker threads, so that the tasks race for real.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_with_one_email_store_one_user() {
    let (store, a, _) = setup().await;
    let store = Arc::new(store);
    let shop = app(&store, &a, "Shop").await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (store, a, shop) = (store.clone(), a.clone(), shop.clone());
        tasks.spawn(async move {
            store
                .tenant(&a)
                .create_user(Some(&shop), &input(json!({"email": "race@example.com"})))
                .await
                .is_ok()
        });
    }
    let mut created = 0;
    while let Some(r) = tasks.join_next().await {
        created += usize::from(r.unwrap());
    }
    assert_eq!(created, 1);
    assert_eq!(crate::tenant_users(&store.tenant(&a)).await, 1);
}

#[tokio::test]
async fn a_decided_conflict_is_answered_without_a_second_attempt() {
    let (store, a, _) = setup().await;
    let shop = app(&store, &a, "Shop").await;
    let t = store.tenant(&a);
    let first = input(json!({"email": "once@example.com", "username": "once"}));
    t.create_user(Some(&shop), &first).await.unwrap();
    for (again, code) in [
        (json!({"email": "once@example.com"}), "USER_ALREADY_EXISTS"),
        (
            json!({"email": "other@example.com", "username": "ONCE"}),
            "USERNAME_TAKEN",
        ),
    ] {
        let r = t.create_user(Some(&shop), &input(again)).await;
        assert_eq!(conflict_code(r), code);
    }
    assert_eq!(store.lost_races(), 0, "a decided 409 was tried again");
}

#[tokio::test]
async fn removal_from_an_app_and_deletion() {
    let (store, a, b) = setup().await;
    let shop = app(&store, &a, "Shop").await;
    let blog = app(&store, &a, "Blog").await;
    let t = store.tenant(&a);
    let (view, _) = t
        .create_user(
            Some(&shop),
            &input(json!({"email": "jo@example.com", "username": "jo"})),
        )
        .await
        .unwrap();
    let id = view.user.user_id;
    t.create_user(Some(&blog), &input(json!({"email": "jo@example.com"})))
        .await
        .unwrap();
    // Another tenant can neither remove nor delete.
    assert!(is_not_found(
        store.tenant(&b).remove_user_from_app(&shop, &id).await
    ));
    assert!(is_not_found(store.tenant(&b).delete_user(&id).await));

    t.remove_user_from_app(&shop, &id).await.unwrap();
    assert!(is_not_found(
        t.get_user(&Scope::Members(shop.clone()), &id).await
    ));
    assert!(is_not_found(t.remove_user_from_app(&shop, &id).await));
    assert!(t.get_user(&Scope::Members(blog.clone()), &id).await.is_ok());
    // Linking again works, and the old app-level data is gone.
    let (again, created) = t
        .create_user(Some(&shop), &input(json!({"email": "jo@example.com"})))
        .await
        .unwrap();
    assert_eq!(
        (again.user.user_id.clone(), created),
        (id.clone(), Created::Linked)
    );
    assert!(again.membership.unwrap().username.is_none());

    t.delete_user(&id).await.unwrap();
    assert!(is_not_found(t.get_user(&Scope::Tenant(None), &id).await));
    assert!(is_not_found(t.delete_user(&id).await));
    assert_eq!(t.count_users(&Scope::Members(blog), None).await.unwrap(), 0);
    assert!(is_not_found(
        t.get_user(&Scope::Tenant(None), &UserId::generate()).await
    ));
}
