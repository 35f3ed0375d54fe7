//! Clients of apps: CRUD, tenant and app isolation, secrets.

use crate::{hash, new_app, new_client, setup};
use roster_core::secret::ClientSecret;
use roster_core::{AppId, ClientId, StoreError};

#[tokio::test]
async fn clients_crud_within_an_app() {
    let (store, a, _) = setup().await;
    let t = store.tenant(&a);
    let (app, _) = t.create_app(&new_app("Shop"), None).await.unwrap();
    let secret = ClientSecret::generate();
    let client = t
        .create_client(&app.app_id, &new_client("web"), &secret.hash())
        .await
        .unwrap();
    assert_eq!(
        t.get_client(&app.app_id, &client.client_id).await.unwrap(),
        client
    );
    assert_eq!(
        t.list_clients(&app.app_id).await.unwrap(),
        vec![client.clone()]
    );

    let creds = store
        .client_credentials(client.client_id.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(creds.tenant_id, a);
    assert_eq!(creds.app_id, app.app_id);
    assert_eq!(creds.app_name, "Shop");
    assert!(!creds.is_management);
    assert_eq!(creds.resources, vec!["https://api.example.com"]);
    assert!(creds.secret_hash.verify(secret.expose()));
    assert!(!creds.secret_hash.verify("rsec_other"));

    t.delete_client(&app.app_id, &client.client_id)
        .await
        .unwrap();
    assert!(matches!(
        t.get_client(&app.app_id, &client.client_id).await,
        Err(StoreError::NotFound)
    ));
    assert!(store
        .client_credentials(client.client_id.as_str())
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn clients_of_another_tenant_or_app_are_not_found() {
    let (store, a, b) = setup().await;
    let (app, _) = store
        .tenant(&a)
        .create_app(&new_app("Shop"), None)
        .await
        .unwrap();
    let (app2, _) = store
        .tenant(&a)
        .create_app(&new_app("Blog"), None)
        .await
        .unwrap();
    let client = store
        .tenant(&a)
        .create_client(&app.app_id, &new_client("web"), &hash())
        .await
        .unwrap();
    let other = store.tenant(&b);
    assert!(matches!(
        other.get_client(&app.app_id, &client.client_id).await,
        Err(StoreError::NotFound)
    ));
    assert!(other.list_clients(&app.app_id).await.unwrap().is_empty());
    assert!(matches!(
        other.delete_client(&app.app_id, &client.client_id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        other
            .create_client(&app.app_id, &new_client("x"), &hash())
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        other
            .put_client(
                &app.app_id,
                &ClientId::generate(),
                &new_client("x"),
                &hash()
            )
            .await,
        Err(StoreError::NotFound)
    ));
    // The same tenant, another app.
    assert!(matches!(
        store
            .tenant(&a)
            .get_client(&app2.app_id, &client.client_id)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(store
        .tenant(&a)
        .get_client(&app.app_id, &client.client_id)
        .await
        .is_ok());
}

#[tokio::test]
async fn put_client_is_idempotent_and_resets_the_secret() {
    let (store, a, b) = setup().await;
    let t = store.tenant(&a);
    let app = t.ensure_management_app().await.unwrap();
    let id = ClientId::generate();
    let first = ClientSecret::generate();
    t.put_client(&app.app_id, &id, &new_client("admin"), &first.hash())
        .await
        .unwrap();
    let second = ClientSecret::generate();
    t.put_client(&app.app_id, &id, &new_client("admin"), &second.hash())
        .await
        .unwrap();
    assert_eq!(t.list_clients(&app.app_id).await.unwrap().len(), 1);
    let creds = store
        .client_credentials(id.as_str())
        .await
        .unwrap()
        .unwrap();
    assert!(creds.secret_hash.verify(second.expose()));
    assert!(!creds.secret_hash.verify(first.expose()));

    // The id belongs to tenant a's app: tenant b cannot take it over.
    let app_b = store.tenant(&b).ensure_management_app().await.unwrap();
    let taken = store
        .tenant(&b)
        .put_client(&app_b.app_id, &id, &new_client("admin"), &hash())
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))));
    let creds = store
        .client_credentials(id.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(creds.tenant_id, a);
}

#[tokio::test]
async fn deleting_an_app_deletes_its_clients() {
    let (store, a, _) = setup().await;
    let t = store.tenant(&a);
    let (app, client) = t
        .create_app(&new_app("Shop"), Some((&new_client("web"), &hash())))
        .await
        .unwrap();
    let client = client.unwrap();
    t.delete_app(&app.app_id).await.unwrap();
    assert!(store
        .client_credentials(client.client_id.as_str())
        .await
        .unwrap()
        .is_none());
    assert!(t.list_clients(&app.app_id).await.unwrap().is_empty());
}

#[tokio::test]
async fn clients_need_an_existing_app() {
    let (store, a, _) = setup().await;
    let missing = store
        .tenant(&a)
        .create_client(&AppId::generate(), &new_client("web"), &hash())
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
}
