//! SQLite: WAL journal, foreign keys, a busy timeout, many readers and one writer.

use crate::error::map_sqlx_error;
use crate::StoreOptions;
use roster_core::StoreError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;

/// Appended to a read that a read-modify-write follows (SQLite: the single writer serialises).
const FOR_UPDATE: &str = "";
/// Whether a create that hit a unique constraint is tried once more (see `create_user`).
const RETRY_CONFLICTS: bool = false;

pub struct SqliteBackend {
    read: SqlitePool,
    /// One connection: SQLite allows one writer, so queueing here beats `SQLITE_BUSY`.
    write: SqlitePool,
}

impl SqliteBackend {
    pub(crate) async fn connect(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let connect = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Other(format!("invalid SQLite URL: {e}")))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            // WAL with NORMAL sync survives a crash of the process; only power loss can
            // drop the last commits.
            .journal_mode(if in_memory {
                SqliteJournalMode::Memory
            } else {
                SqliteJournalMode::Wal
            })
            .synchronous(SqliteSynchronous::Normal);
        // A local file needs no liveness ping before each use: that would double the
        // round trips to SQLite's worker threads.
        let write = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(connect.clone())
            .await
            .map_err(map_sqlx_error)?;
        // An in-memory database lives in its one connection, so readers share it.
        let read = if in_memory {
            write.clone()
        } else {
            // Readers are threads: more than a few per core only adds context switches.
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
            SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(options.max_connections.clamp(1, cores * 2))
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(connect.read_only(true))
                .await
                .map_err(map_sqlx_error)?
        };
        Ok(Self { read, write })
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.write)
            .await
            .map_err(|e| StoreError::Other(format!("migration failed: {e}")))
    }

    fn reader(&self) -> &SqlitePool {
        &self.read
    }

    fn writer(&self) -> &SqlitePool {
        &self.write
    }
}

crate::queries::users::define_user_queries!(
    SqliteBackend,
    sqlx::Sqlite,
    "(SELECT json_group_array(json_object('provider_name', i.provider_name, \
     'provider_type', i.provider_type, 'auth_type', i.auth_type, 'identifier', i.identifier, \
     'first_auth_date', i.first_auth_date, 'last_auth_date', i.last_auth_date)) \
     FROM user_identities i WHERE i.tenant_id = u.tenant_id AND i.user_id = u.user_id)"
);
crate::queries::define_queries!(SqliteBackend, sqlx::Sqlite);
