//! The reset of a test suite: the tenant moves to a fresh key at once, keeping its public
//! id, apps and clients; what it left behind is purged afterwards.

use crate::users::{input, is_not_found};
use crate::{hash, new_app, new_client, setup, EmptyDatabase};
use roster_core::group::GroupChange;
use roster_core::user::Scope;
use roster_core::StoreError;
use serde_json::json;

#[tokio::test]
async fn a_reset_drops_the_users_and_keeps_apps_clients_and_the_tenant_id() {
    let (store, a, b) = setup().await;
    let t = store.tenant(&a);
    let (app, client) = t
        .create_app(&new_app("Shop"), Some((&new_client("web"), &hash())))
        .await
        .unwrap();
    let client = client.unwrap();
    let mut ids = Vec::new();
    for i in 0..3 {
        let email = format!("u{i}@example.com");
        let (view, _) = t
            .create_user(Some(&app.app_id), &input(json!({ "email": email })))
            .await
            .unwrap();
        ids.push(view.user.user_id);
    }
    let group = t
        .create_group(GroupChange {
            name: Some("Staff".into()),
            description: None,
            custom_data: None,
        })
        .await
        .unwrap();
    t.add_group_members(&group.group_id, &ids[..1])
        .await
        .unwrap();
    let other = store.tenant(&b);
    other
        .create_user(None, &input(json!({"email": "u0@example.com"})))
        .await
        .unwrap();

    assert_eq!(t.reset(None).await.unwrap(), 3);

    let t = store.tenant(&a);
    assert_eq!(t.tenant_id(), &a);
    assert_eq!(crate::tenant_users(&t).await, 0);
    let members = Scope::Members(app.app_id.clone());
    assert_eq!(t.count_users(&members, None).await.unwrap(), 0);
    assert!(is_not_found(
        t.get_user(&Scope::Tenant(None), &ids[0]).await
    ));
    // Groups the seed does not declare go (here: no seed).
    assert!(t.list_groups().await.unwrap().is_empty());
    // Apps and clients stay, with their ids, under the tenant's public id.
    let apps = t.list_apps().await.unwrap();
    let kept = apps.iter().find(|x| x.app_id == app.app_id).unwrap();
    assert_eq!(kept.tenant_id, a);
    assert_eq!(kept.name, "Shop");
    let found = t.get_client(&app.app_id, &client.client_id).await.unwrap();
    assert_eq!(found.tenant_id, a);
    let creds = store
        .client_credentials(client.client_id.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(creds.tenant_id, a);
    assert_eq!(store.get_tenant(&a).await.unwrap().tenant_id, a);
    let listed = store.list_tenants().await.unwrap();
    assert_eq!(listed.iter().filter(|x| x.tenant_id == a).count(), 1);
    // The identifiers are free again; the other tenant kept its user.
    t.create_user(
        Some(&app.app_id),
        &input(json!({"email": "u0@example.com"})),
    )
    .await
    .unwrap();
    assert_eq!(crate::tenant_users(&other).await, 1);
    // A second reset in a row, through a new handle.
    assert_eq!(store.tenant(&a).reset(None).await.unwrap(), 1);
    assert_eq!(crate::tenant_users(&store.tenant(&a)).await, 0);
    // A handle made before a reset names a key no longer live: a reset through it is refused.
    assert!(matches!(
        t.reset(None).await,
        Err(roster_core::seed::ApplyError::Store(StoreError::NotFound))
    ));
}

// Several threads: on SQLite each batch leaves the runtime's workers while it runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_reset_leaves_behind_is_purged_in_batches() {
    let db = EmptyDatabase::new().await;
    let store = &db.store;
    let tenant = store.create_tenant("purged").await.unwrap().tenant_id;
    let t = store.tenant(&tenant);
    let (app, _) = t.create_app(&new_app("Shop"), None).await.unwrap();
    let many: Vec<_> = (0..600)
        .map(|i| input(json!({ "email": format!("p{i}@example.com") })))
        .collect();
    t.bulk_create_users(Some(&app.app_id), &many).await.unwrap();
    assert_eq!(t.reset(None).await.unwrap(), 600);
    store
        .tenant(&tenant)
        .create_user(
            Some(&app.app_id),
            &input(json!({"email": "kept@example.com"})),
        )
        .await
        .unwrap();
    // One retired key, deleted in several batches, by two purges at once (two nodes on
    // PostgreSQL); then nothing is left to purge.
    let other = {
        let store = store.clone();
        tokio::spawn(async move { store.purge_retired().await })
    };
    let one = store.purge_retired().await.unwrap();
    assert!(one + other.await.unwrap().unwrap() >= 1);
    assert_eq!(store.purge_retired().await.unwrap(), 0);
    let t = store.tenant(&tenant);
    assert_eq!(crate::tenant_users(&t).await, 1);
    assert_eq!(t.list_apps().await.unwrap().len(), 1);
    db.drop().await;
}
