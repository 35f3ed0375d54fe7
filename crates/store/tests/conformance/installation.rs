//! What the installation holds beside tenants: the signing key, readiness, file databases.

use crate::store;
use roster_core::signing_key::SigningKeyRecord;
use roster_core::ClientId;
use roster_store::{Store, StoreOptions};

#[tokio::test]
async fn signing_key_is_chosen_once() {
    let store = store().await;
    // A purpose of its own: the shared database's real `primary` key must stay usable.
    let purpose = format!("test-{}", ClientId::generate());
    let candidate = |kid: &str| SigningKeyRecord {
        kid: kid.into(),
        purpose: purpose.clone(),
        algorithm: "TEST".into(),
        private_key: "cHJpdmF0ZQ==".into(),
        public_key: "cHVibGlj".into(),
        created_at: 1,
    };
    let first = store
        .ensure_signing_key(&candidate(&ClientId::generate().into_string()))
        .await
        .unwrap();
    let second = store
        .ensure_signing_key(&candidate(&ClientId::generate().into_string()))
        .await
        .unwrap();
    assert_eq!(first.kid, second.kid);
    let all = store.signing_keys().await.unwrap();
    assert!(all.iter().any(|k| k.kid == first.kid));
    assert_eq!(all.iter().filter(|k| k.purpose == purpose).count(), 1);
}

#[tokio::test]
async fn ping_answers() {
    let store = store().await;
    store.ping().await.unwrap();
}

#[tokio::test]
async fn file_databases_are_created_and_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("roster.db").display());
    let opts = StoreOptions::default();
    let store = Store::connect(&url, &opts).await.unwrap();
    store.migrate().await.unwrap();
    let tenant = store.create_tenant("persisted").await.unwrap();
    store.close().await;
    let reopened = Store::connect(&url, &opts).await.unwrap();
    reopened.migrate().await.unwrap();
    assert_eq!(
        reopened.get_tenant(&tenant.tenant_id).await.unwrap().name,
        "persisted"
    );
}
