//! The one place where `sqlx::Error` becomes a `StoreError`.

use roster_core::StoreError;

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
        sqlx::Error::Database(db) if db.message().contains("database is locked") => {
            StoreError::Unavailable(db.message().to_owned())
        }
        e @ (sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed) => StoreError::Unavailable(e.to_string()),
        e => StoreError::Other(e.to_string()),
    }
}

pub(crate) fn json_error(e: serde_json::Error) -> StoreError {
    StoreError::Other(format!("stored JSON is unreadable: {e}"))
}
