//! Device keys: one key id per user and app, keys bound to the membership.

use crate::setup;
use crate::users::{app, input, is_not_found};
use roster_core::device_key::{DeviceKey, KeyStatus};
use roster_core::Error;
use serde_json::Map;

fn key(id: &str) -> DeviceKey {
    DeviceKey {
        key_id: id.into(),
        public_key: "stored as given".into(),
        display_name: None,
        custom_data: Map::new(),
        push_config: None,
        status: KeyStatus::Active,
        created_at: 1,
        updated_at: 1,
    }
}

#[tokio::test]
async fn keys_are_unique_per_user_and_app_and_go_with_the_membership() {
    let (store, a, b) = setup().await;
    let t = store.tenant(&a);
    let shop = app(&store, &a, "Shop").await;
    let other = app(&store, &a, "Other").await;
    let jo = t
        .create_user(
            Some(&shop),
            &input(serde_json::json!({"email": "jo@example.com"})),
        )
        .await
        .unwrap()
        .0
        .user
        .user_id;
    t.add_device_key(&shop, &jo, &key("k1")).await.unwrap();
    let again = t.add_device_key(&shop, &jo, &key("k1")).await;
    assert!(
        matches!(
            again,
            Err(Error::Conflict {
                code: "DEVICE_KEY_ID_TAKEN",
                ..
            })
        ),
        "{again:?}"
    );
    // Not a member of the other app, and unknown to the other tenant.
    assert!(is_not_found(
        t.add_device_key(&other, &jo, &key("k1")).await
    ));
    assert!(is_not_found(t.device_keys(&other, &jo).await));
    assert!(is_not_found(store.tenant(&b).device_keys(&shop, &jo).await));

    let blocked = t
        .set_device_key_status(&shop, &jo, "k1", KeyStatus::Blocked)
        .await
        .unwrap();
    assert_eq!(blocked.status, KeyStatus::Blocked);
    assert_eq!(t.device_key(&shop, &jo, "k1").await.unwrap(), blocked);
    assert!(is_not_found(t.device_key(&shop, &jo, "nope").await));

    // Removal from the app takes the keys with it.
    t.remove_user_from_app(&shop, &jo).await.unwrap();
    assert!(is_not_found(t.device_keys(&shop, &jo).await));
}
