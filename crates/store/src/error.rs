//! Where driver errors become `StoreError`s.

use roster_core::StoreError;
use rusqlite::ErrorCode;

pub fn map_sqlx_error(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(
            db.constraint()
                .map(str::to_owned)
                .unwrap_or_else(|| db.message().to_owned()),
        ),
        // A referenced row is missing (another tenant's, or deleted meanwhile).
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound,
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
                (ErrorCode::ConstraintViolation, 1555 | 2067) => StoreError::Conflict(message),
                (ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked, _) => {
                    StoreError::Unavailable(message)
                }
                _ => StoreError::Other(message),
            }
        }
        e => StoreError::Other(e.to_string()),
    }
}

pub(crate) fn json_error(e: serde_json::Error) -> StoreError {
    StoreError::Other(format!("stored JSON is unreadable: {e}"))
}
