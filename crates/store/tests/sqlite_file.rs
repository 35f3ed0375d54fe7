//! SQLite on a file: readers keep snapshots between reads, so every read that starts
//! after a write has returned must still see that write.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use roster_core::app::{AppSettings, NewApp};
use roster_core::user::{CreateUserInput, NewUser, Scope};
use roster_core::{Error, PasswordConfiguration};
use roster_store::{Store, StoreOptions};
use serde_json::json;
use std::sync::Arc;

async fn file_store(dir: &tempfile::TempDir) -> Store {
    let url = format!("sqlite://{}", dir.path().join("roster.db").display());
    let store = Store::connect(&url, &StoreOptions { max_connections: 4 })
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    store
}

fn input(n: usize) -> NewUser {
    serde_json::from_value::<CreateUserInput>(json!({"email": format!("u{n}@example.com")}))
        .unwrap()
        .validate(roster_core::time::now_ms())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_see_every_write_that_returned() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(file_store(&dir).await);
    let tenant = store.create_tenant("t").await.unwrap().tenant_id;
    let app = store
        .tenant(&tenant)
        .create_app(
            &NewApp {
                name: "app".into(),
                is_management: false,
                settings: AppSettings::default(),
                password_config: PasswordConfiguration::default(),
            },
            None,
        )
        .await
        .unwrap()
        .0
        .app_id;
    let scope = Scope::Members(app.clone());
    // Readers stay warm between writes: one task reads all the time.
    let reading = {
        let (store, tenant, scope) = (store.clone(), tenant.clone(), scope.clone());
        tokio::spawn(async move {
            for _ in 0..2000 {
                store
                    .tenant(&tenant)
                    .count_users(&scope, None)
                    .await
                    .unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    let t = store.tenant(&tenant);
    for n in 0..200 {
        let (view, _) = t.create_user(Some(&app), &input(n)).await.unwrap();
        let id = view.user.user_id.clone();
        let read = t.get_user(&scope, &id).await.unwrap();
        assert_eq!(read.user.user_id, id);
        assert_eq!(t.count_users(&scope, None).await.unwrap(), n as u64 + 1);
        t.update_user(&scope, &id, |u, _| {
            u.custom_data.insert("n".into(), json!(n));
            Ok(())
        })
        .await
        .unwrap();
        let read = t.get_user(&scope, &id).await.unwrap();
        assert_eq!(read.user.custom_data.get("n"), Some(&json!(n)));
        if n % 2 == 1 {
            t.delete_user(&id).await.unwrap();
            assert!(matches!(
                t.get_user(&scope, &id).await,
                Err(Error::NotFound(_))
            ));
            // Put the count back where the next round expects it.
            t.create_user(Some(&app), &input(10_000 + n)).await.unwrap();
        }
    }
    reading.await.unwrap();
    store.close().await;
}

#[tokio::test]
async fn a_second_store_on_the_file_sees_the_first_ones_writes() {
    let dir = tempfile::tempdir().unwrap();
    let first = file_store(&dir).await;
    let second = file_store(&dir).await;
    let tenant = first.create_tenant("t").await.unwrap().tenant_id;
    // The second store's reader has a snapshot from before the write at most this long.
    let mut seen = false;
    for _ in 0..40 {
        if second.get_tenant(&tenant).await.is_ok() {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(seen, "another process's write stayed invisible for 2 s");
}

/// A reset moves the tenant's rows to a fresh key: a store opened afterwards (a restart,
/// or another process) finds them there, and one open before follows once it refreshes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_on_the_file_follow_a_reset_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let first = file_store(&dir).await;
    let tenant = first.create_tenant("t").await.unwrap().tenant_id;
    let before = file_store(&dir).await;
    let t = first.tenant(&tenant);
    t.create_user(None, &input(1)).await.unwrap();
    t.reset(None).await.unwrap();
    first
        .tenant(&tenant)
        .create_user(None, &input(2))
        .await
        .unwrap();
    let count = |s: &Store| {
        let t = s.tenant(&tenant);
        async move { t.count_users(&Scope::Tenant(None), None).await.unwrap() }
    };
    assert_eq!(count(&first).await, 1);
    let after = file_store(&dir).await;
    assert_eq!(count(&after).await, 1);
    before.refresh_tenant_keys().await.unwrap();
    assert_eq!(count(&before).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_starts_on_one_file_all_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("roster.db").display());
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                let store = Store::connect(&url, &StoreOptions { max_connections: 4 })
                    .await
                    .expect("connect");
                store.migrate().await.expect("migrate");
                store
                    .create_tenant("t")
                    .await
                    .expect("a table of the schema");
            })
        })
        .collect();
    for start in starts {
        start.await.unwrap();
    }
}

#[tokio::test]
async fn the_token_endpoints_client_lookup_sees_another_processs_new_client_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let first = file_store(&dir).await;
    let second = file_store(&dir).await;
    let tenant = first.create_tenant("t").await.unwrap().tenant_id;
    // The second store's reader now holds a snapshot.
    for _ in 0..40 {
        if second.get_tenant(&tenant).await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let client = roster_core::app::NewClient {
        name: "c".into(),
        description: None,
        redirect_uris: vec![],
        resources: vec![],
    };
    let secret = roster_core::secret::ClientSecret::generate().hash();
    let app = NewApp {
        name: "app".into(),
        is_management: false,
        settings: AppSettings::default(),
        password_config: PasswordConfiguration::default(),
    };
    let (_, created) = first
        .tenant(&tenant)
        .create_app(&app, Some((&client, &secret)))
        .await
        .unwrap();
    let id = created.unwrap().client_id;
    let found = second.client_credentials(id.as_str()).await.unwrap();
    assert!(found.is_some(), "a new client must be usable at once");
}

/// The file holds the signing key and secret digests: only its owner may read it, and
/// SQLite's `-wal` and `-shm` files follow (`DECISIONS.md`).
#[cfg(unix)]
#[tokio::test]
async fn the_database_files_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir).await;
    store.create_tenant("t").await.unwrap();
    for name in ["roster.db", "roster.db-wal", "roster.db-shm"] {
        let mode = std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}: {mode:o}");
    }
}

/// A burst of writes far longer than the WAL's restart threshold (16k pages, 64 MiB): once
/// the background checkpoint has copied it, the WAL file is cut to nothing, so the next
/// write starts a fresh one without shrinking a large file first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_wal_is_truncated_once_copied() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir).await;
    let tenant = store.create_tenant("t").await.unwrap().tenant_id;
    let t = store.tenant(&tenant);
    let big = "x".repeat(400 * 1024);
    let many: Vec<NewUser> = (0..240)
        .map(|n| {
            let body = json!({"email": format!("u{n}@example.com"), "custom_data": {"blob": big}});
            serde_json::from_value::<CreateUserInput>(body)
                .unwrap()
                .validate(roster_core::time::now_ms())
                .unwrap()
        })
        .collect();
    t.bulk_create_users(None, &many).await.unwrap();
    let wal = dir.path().join("roster.db-wal");
    let written = std::fs::metadata(&wal).unwrap().len();
    assert!(
        written > 64 << 20,
        "the burst wrote only {written} bytes of WAL"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::metadata(&wal).unwrap().len() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the WAL still holds {} bytes",
            std::fs::metadata(&wal).unwrap().len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        t.count_users(&Scope::Tenant(None), None).await.unwrap(),
        240
    );
    t.create_user(None, &input(1000)).await.unwrap();
    assert_eq!(
        t.count_users(&Scope::Tenant(None), None).await.unwrap(),
        241
    );
}
