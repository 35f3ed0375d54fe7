//! Storage conformance: every test runs against the backend named by
//! `ROSTER_TEST_DATABASE_URL` (default: a fresh in-memory SQLite database), each in its own
//! tenant so that tests can share one PostgreSQL database and run in parallel.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use roster_core::app::{AppSettings, NewApp, NewClient};
use roster_core::secret::{ClientSecret, SecretHash};
use roster_core::user::Scope;
use roster_core::{ClientId, Error, PasswordConfiguration, StoreError, TenantId};
use roster_store::{Store, StoreOptions, TenantStore};
use std::sync::Arc;

mod clients;
mod device_keys;
mod groups;
mod installation;
mod listing;
mod reset;
mod sessions;
mod users;
mod users_bulk;

pub(crate) async fn store() -> Store {
    let url =
        std::env::var("ROSTER_TEST_DATABASE_URL").unwrap_or_else(|_| "sqlite::memory:".into());
    let store = Store::connect(&url, &StoreOptions { max_connections: 4 })
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    store
}

/// A store and two fresh tenants.
pub(crate) async fn setup() -> (Store, TenantId, TenantId) {
    let store = store().await;
    let a = store.create_tenant("tenant a").await.unwrap().tenant_id;
    let b = store.create_tenant("tenant b").await.unwrap().tenant_id;
    (store, a, b)
}

pub(crate) fn new_app(name: &str) -> NewApp {
    NewApp {
        name: name.into(),
        is_management: false,
        settings: AppSettings {
            description: Some("an app".into()),
            redirect_uris: vec!["https://example.com/cb".into()],
            ..AppSettings::default()
        },
        password_config: PasswordConfiguration::default(),
    }
}

pub(crate) fn new_client(name: &str) -> NewClient {
    NewClient {
        name: name.into(),
        description: None,
        redirect_uris: vec![],
        resources: vec!["https://api.example.com".into()],
    }
}

/// How many users the tenant has (an admin's unfiltered count).
pub(crate) async fn tenant_users(t: &TenantStore) -> u64 {
    t.count_users(&Scope::Tenant(None), None).await.unwrap()
}

pub(crate) fn hash() -> SecretHash {
    ClientSecret::generate().hash()
}

#[tokio::test]
async fn tenants_are_created_and_read() {
    let (store, a, _) = setup().await;
    assert_eq!(store.get_tenant(&a).await.unwrap().name, "tenant a");
    let missing = store.get_tenant(&TenantId::generate()).await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn default_tenant_is_ensured_once() {
    let store = store().await;
    let first = store.ensure_default_tenant().await.unwrap();
    let second = store.ensure_default_tenant().await.unwrap();
    assert_eq!(first.tenant_id, second.tenant_id);
    // It exists now, so the guarded first-start creation does nothing.
    let again = store
        .create_default_tenant_with_client(&ClientId::generate(), &hash())
        .await
        .unwrap();
    assert!(again.is_none());
}

/// A database of its own with nothing in it: in-memory SQLite, or on PostgreSQL a new
/// database beside the shared test database, dropped by [`EmptyDatabase::drop`].
struct EmptyDatabase {
    store: Store,
    drop_sql: Option<(String, String)>,
}

impl EmptyDatabase {
    async fn new() -> Self {
        let url = std::env::var("ROSTER_TEST_DATABASE_URL").unwrap_or_default();
        if !url.starts_with("postgres") {
            let store = Store::connect("sqlite::memory:", &StoreOptions::default())
                .await
                .unwrap();
            store.migrate().await.unwrap();
            return Self {
                store,
                drop_sql: None,
            };
        }
        use sqlx::Connection;
        let name = format!(
            "roster_empty_{}",
            roster_core::id::random_id(10).to_lowercase()
        )
        .replace('-', "_");
        let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let mut own = url::Url::parse(&url).unwrap();
        own.set_path(&name);
        let store = Store::connect(own.as_str(), &StoreOptions { max_connections: 2 })
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let drop_sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        Self {
            store,
            drop_sql: Some((url, drop_sql)),
        }
    }

    async fn drop(self) {
        self.store.close().await;
        if let Some((url, sql)) = self.drop_sql {
            use sqlx::Connection;
            let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query(&sql).execute(&mut admin).await.unwrap();
        }
    }
}

#[tokio::test]
async fn first_start_creates_tenant_app_and_client_together() {
    // Needs a database without a default tenant: an empty one of its own, on either backend.
    let empty = EmptyDatabase::new().await;
    let store = &empty.store;
    let client_id = ClientId::generate();
    let secret = ClientSecret::generate();
    let (tenant, app) = store
        .create_default_tenant_with_client(&client_id, &secret.hash())
        .await
        .unwrap()
        .expect("created");
    assert!(app.is_management);
    let creds = store
        .client_credentials(client_id.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(creds.tenant_id, tenant.tenant_id);
    assert!(creds.is_management);
    assert!(creds.secret_hash.verify(secret.expose()));
    assert_eq!(
        store.ensure_default_tenant().await.unwrap().tenant_id,
        tenant.tenant_id
    );
    empty.drop().await;
}

#[tokio::test]
async fn apps_crud_within_a_tenant() {
    let (store, a, _) = setup().await;
    let t = store.tenant(&a);
    let (app, client) = t.create_app(&new_app("Shop"), None).await.unwrap();
    assert!(client.is_none());
    assert_eq!(app.tenant_id, a);
    assert_eq!(t.get_app(&app.app_id).await.unwrap(), app);
    assert_eq!(t.list_apps().await.unwrap(), vec![app.clone()]);

    let updated = t
        .update_app(&app.app_id, |x| {
            x.name = "Shop 2".into();
            x.password_config.password_min_length = 8;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(updated.name, "Shop 2");
    let read = t.get_app(&app.app_id).await.unwrap();
    assert_eq!(read.name, "Shop 2");
    assert_eq!(read.password_config.password_min_length, 8);
    assert_eq!(read.settings.redirect_uris, vec!["https://example.com/cb"]);

    t.delete_app(&app.app_id).await.unwrap();
    assert!(matches!(
        t.get_app(&app.app_id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        t.delete_app(&app.app_id).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn apps_of_another_tenant_are_not_found() {
    let (store, a, b) = setup().await;
    let (app, _) = store
        .tenant(&a)
        .create_app(&new_app("Shop"), None)
        .await
        .unwrap();
    let other = store.tenant(&b);
    assert!(matches!(
        other.get_app(&app.app_id).await,
        Err(StoreError::NotFound)
    ));
    assert!(other.list_apps().await.unwrap().is_empty());
    let update = other
        .update_app(&app.app_id, |x| {
            x.name = "stolen".into();
            Ok(())
        })
        .await;
    assert!(matches!(update, Err(Error::NotFound(_))));
    assert!(matches!(
        other.delete_app(&app.app_id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.tenant(&a).get_app(&app.app_id).await.unwrap().name,
        "Shop"
    );
}

#[tokio::test]
async fn app_names_are_unique_per_tenant() {
    let (store, a, b) = setup().await;
    store
        .tenant(&a)
        .create_app(&new_app("Shop"), None)
        .await
        .unwrap();
    let dup = store.tenant(&a).create_app(&new_app("Shop"), None).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))));
    store
        .tenant(&b)
        .create_app(&new_app("Shop"), None)
        .await
        .unwrap();
    let (other, _) = store
        .tenant(&a)
        .create_app(&new_app("Other"), None)
        .await
        .unwrap();
    let rename = store
        .tenant(&a)
        .update_app(&other.app_id, |x| {
            x.name = "Shop".into();
            Ok(())
        })
        .await;
    assert!(matches!(rename, Err(Error::Conflict { .. })));
}

#[tokio::test]
async fn a_failed_update_changes_nothing() {
    let (store, a, _) = setup().await;
    let t = store.tenant(&a);
    let (app, _) = t.create_app(&new_app("Shop"), None).await.unwrap();
    let result = t
        .update_app(&app.app_id, |x| {
            x.name = "changed".into();
            Err(Error::invalid("refused"))
        })
        .await;
    assert!(matches!(result, Err(Error::Invalid(_))));
    assert_eq!(t.get_app(&app.app_id).await.unwrap().name, "Shop");
}

#[tokio::test]
async fn concurrent_updates_all_survive() {
    let (store, a, _) = setup().await;
    let store = Arc::new(store);
    let (app, _) = store
        .tenant(&a)
        .create_app(&new_app("Shop"), None)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        let (a, id) = (a.clone(), app.app_id.clone());
        tasks.push(tokio::spawn(async move {
            store
                .tenant(&a)
                .update_app(&id, move |x| {
                    x.settings
                        .redirect_uris
                        .push(format!("https://example.com/{i}"));
                    Ok(())
                })
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let read = store.tenant(&a).get_app(&app.app_id).await.unwrap();
    assert_eq!(read.settings.redirect_uris.len(), 21);
}

#[tokio::test]
async fn management_app_is_ensured_once_per_tenant() {
    let (store, a, b) = setup().await;
    let first = store.tenant(&a).ensure_management_app().await.unwrap();
    let second = store.tenant(&a).ensure_management_app().await.unwrap();
    assert!(first.is_management);
    assert_eq!(first.app_id, second.app_id);
    let other = store.tenant(&b).ensure_management_app().await.unwrap();
    assert_ne!(other.app_id, first.app_id);
    let mut input = new_app("Second management");
    input.is_management = true;
    let dup = store.tenant(&a).create_app(&input, None).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))));
}

#[tokio::test]
async fn app_with_first_client_is_created_atomically() {
    let (store, a, _) = setup().await;
    let t = store.tenant(&a);
    let secret = ClientSecret::generate();
    let (app, client) = t
        .create_app(
            &new_app("Shop"),
            Some((&new_client("default"), &secret.hash())),
        )
        .await
        .unwrap();
    let client = client.unwrap();
    assert_eq!(client.app_id, app.app_id);
    assert_eq!(
        t.list_clients(&app.app_id).await.unwrap(),
        vec![client.clone()]
    );
    // A name conflict leaves no client behind.
    let dup = t
        .create_app(&new_app("Shop"), Some((&new_client("x"), &hash())))
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))));
    assert_eq!(t.list_apps().await.unwrap().len(), 1);
}
