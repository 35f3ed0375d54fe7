//! Where driver errors become `StoreError`s.

use roster_core::{StoreError, UniqueKey};
use rusqlite::ErrorCode;

/// The unique key a constraint protects, from PostgreSQL's index name
/// (`users_email_uq`) or SQLite's message, which names the columns
/// ("UNIQUE constraint failed: users.tenant_id, users.email_key").
fn unique_key(constraint: &str) -> UniqueKey {
    const KEYS: [(&[&str], UniqueKey); 10] = [
        (&["users_email_uq", "users.email_key"], UniqueKey::Email),
        (
            &["users_phone_uq", "users.phone_number"],
            UniqueKey::PhoneNumber,
        ),
        (
            &["users_external_user_id_uq", "users.external_user_id"],
            UniqueKey::ExternalUserId,
        ),
        (
            &["user_apps_username_uq", "user_apps.username_key"],
            UniqueKey::Username,
        ),
        (
            &[
                "user_apps_external_account_id_uq",
                "user_apps.external_account_id",
            ],
            UniqueKey::ExternalAccountId,
        ),
        (&["users_pkey", "users.user_id"], UniqueKey::User),
        (&["user_apps_pkey", "user_apps.user_id"], UniqueKey::User),
        (&["apps_name_uq", "apps.name"], UniqueKey::AppName),
        (&["groups_name_uq", "groups.name"], UniqueKey::GroupName),
        (
            &["device_keys_pkey", "device_keys.key_id"],
            UniqueKey::DeviceKeyId,
        ),
    ];
    KEYS.iter()
        .find(|(names, _)| names.iter().any(|n| constraint.contains(n)))
        .map(|(_, key)| key.clone())
        .or_else(|| {
            (constraint.contains("clients_pkey") || constraint.contains("clients.client_id"))
                .then_some(UniqueKey::ClientId)
        })
        .unwrap_or_else(|| UniqueKey::Other(constraint.to_owned()))
}

pub fn map_sqlx_error(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(unique_key(db.constraint().unwrap_or(db.message())))
        }
        // A referenced row is missing (another tenant's, or deleted meanwhile).
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound,
        // character_not_in_repertoire, untranslatable_character: a NUL in text or JSON.
        sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("22021" | "22P05")) => {
            StoreError::Rejected("a value holds a NUL character, which cannot be stored".into())
        }
        e @ (sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed) => StoreError::Unavailable(e.to_string()),
        e => StoreError::Other(e.to_string()),
    }
}

/// SQLite's constraint messages name the columns ("UNIQUE constraint failed:
/// users.tenant_id, users.email_key"), which is what conflicts are told apart by.
pub(crate) fn map_sqlite_error(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        rusqlite::Error::SqliteFailure(f, message) => {
            let message = message.unwrap_or_else(|| f.to_string());
            match (f.code, f.extended_code) {
                // SQLITE_CONSTRAINT_FOREIGNKEY: a referenced row is missing.
                (ErrorCode::ConstraintViolation, 787) => StoreError::NotFound,
                // SQLITE_CONSTRAINT_PRIMARYKEY and SQLITE_CONSTRAINT_UNIQUE.
                (ErrorCode::ConstraintViolation, 1555 | 2067) => {
                    StoreError::Conflict(unique_key(&message))
                }
                (ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked, _) => StoreError::Busy,
                _ => StoreError::Other(message),
            }
        }
        e => StoreError::Other(e.to_string()),
    }
}

pub(crate) fn json_error(e: serde_json::Error) -> StoreError {
    StoreError::Other(format!("stored JSON is unreadable: {e}"))
}

#[cfg(test)]
mod tests {
    use super::unique_key;
    use roster_core::UniqueKey;

    #[test]
    fn both_backends_name_the_same_keys() {
        for (pg, sqlite, key) in [
            ("users_email_uq", "UNIQUE constraint failed: users.tenant_id, users.email_key", UniqueKey::Email),
            ("users_phone_uq", "UNIQUE constraint failed: users.tenant_id, users.phone_number", UniqueKey::PhoneNumber),
            ("users_external_user_id_uq", "UNIQUE constraint failed: users.tenant_id, users.external_user_id", UniqueKey::ExternalUserId),
            ("user_apps_username_uq", "UNIQUE constraint failed: user_apps.tenant_id, user_apps.app_id, user_apps.username_key", UniqueKey::Username),
            ("user_apps_external_account_id_uq", "UNIQUE constraint failed: user_apps.tenant_id, user_apps.app_id, user_apps.external_account_id", UniqueKey::ExternalAccountId),
            ("apps_name_uq", "UNIQUE constraint failed: apps.tenant_id, apps.name", UniqueKey::AppName),
            ("groups_name_uq", "UNIQUE constraint failed: groups.tenant_id, groups.name", UniqueKey::GroupName),
            ("device_keys_pkey", "UNIQUE constraint failed: device_keys.tenant_id, device_keys.user_id, device_keys.app_id, device_keys.key_id", UniqueKey::DeviceKeyId),
            ("clients_pkey", "UNIQUE constraint failed: clients.client_id", UniqueKey::ClientId),
        ] {
            assert_eq!(unique_key(pg), key, "{pg}");
            assert_eq!(unique_key(sqlite), key, "{sqlite}");
        }
        assert_eq!(
            unique_key("tenants_slug_key"),
            UniqueKey::Other("tenants_slug_key".into())
        );
    }
}
