//! Opening SQLite: the URL, connection settings, the writer and readers, migrations.

use crate::error::map_sqlite_error;
use roster_core::StoreError;
use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{Migrations, M};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Statements kept prepared per connection: list queries vary with their options.
const STATEMENT_CACHE: usize = 256;

/// How much of the database file each reader maps into memory (64 MiB): the mapped pages
/// it touches count in the process's resident memory, so this bounds it.
const MMAP_SIZE: i64 = 64 << 20;
const WAL_SIZE_LIMIT: i64 = 64 << 20;

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../../migrations/sqlite/0001_foundation.sql")),
        M::up(include_str!("../../migrations/sqlite/0002_users.sql")),
        M::up(include_str!("../../migrations/sqlite/0003_passwords.sql")),
        M::up(include_str!(
            "../../migrations/sqlite/0004_refresh_tokens.sql"
        )),
        M::up(include_str!("../../migrations/sqlite/0005_search.sql")),
        M::up(include_str!(
            "../../migrations/sqlite/0006_member_counts.sql"
        )),
        M::up(include_str!(
            "../../migrations/sqlite/0007_custom_data_index.sql"
        )),
        M::up(include_str!("../../migrations/sqlite/0008_groups.sql")),
        M::up(include_str!("../../migrations/sqlite/0009_device_keys.sql")),
        M::up(include_str!(
            "../../migrations/sqlite/0010_statement_counts.sql"
        )),
        M::up(include_str!("../../migrations/sqlite/0011_tenant_keys.sql")),
    ])
}

/// Where the database lives, from a `sqlite:` URL.
pub(super) enum Location {
    Memory,
    File(PathBuf),
}

pub(super) fn parse_url(url: &str) -> Result<Location, StoreError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| StoreError::Other("a SQLite URL starts with sqlite:".into()))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path == ":memory:" || path.is_empty() || query.split('&').any(|p| p == "mode=memory") {
        return Ok(Location::Memory);
    }
    Ok(Location::File(PathBuf::from(path)))
}

/// Savepoint and statement journals stay in memory: as temporary files they cost a
/// write and a close per savepoint.
fn configure(conn: &Connection, cache_kib: i64) -> Result<(), StoreError> {
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(map_sqlite_error)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = ON; PRAGMA cache_size = -{cache_kib}; PRAGMA synchronous = NORMAL; \
         PRAGMA temp_store = MEMORY;"
    ))
    .map_err(map_sqlite_error)
}

/// The one connection of an in-memory database.
pub(super) fn open_memory() -> Result<Connection, StoreError> {
    let conn = Connection::open_in_memory().map_err(map_sqlite_error)?;
    configure(&conn, 32 * 1024)?;
    Ok(conn)
}

/// The writer connection: WAL with NORMAL sync survives a crash of the process (only power
/// loss can drop the last commits); a larger page cache (16 MiB), since the writer touches
/// index pages all over the tables; checkpoints left to their own thread.
pub(super) fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    create_private(path)?;
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(map_sqlite_error)?;
    // The busy timeout first: another process may hold a lock right now.
    configure(&conn, 16 * 1024)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(map_sqlite_error)?;
    conn.pragma_update(None, "wal_autocheckpoint", 0)
        .map_err(map_sqlite_error)?;
    // A WAL restarted after a long run of writes is cut back to this size on disk.
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)
        .map_err(map_sqlite_error)?;
    // From here on a lock held by another process is waited for asynchronously
    // (`SqliteConn`), never inside SQLite, which would block a worker thread.
    conn.busy_timeout(Duration::ZERO)
        .map_err(map_sqlite_error)?;
    Ok(conn)
}

/// Creates the database file readable by its owner only (0600) when it does not exist yet:
/// it holds the signing key and secret digests. SQLite gives its `-wal` and `-shm` files
/// the database file's mode.
fn create_private(path: &Path) -> Result<(), StoreError> {
    use std::io::ErrorKind;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Other(format!(
            "cannot create the database file {}: {e}",
            path.display()
        ))),
    }
}

/// A read-only connection that maps the file: a page the cache misses costs no system call.
pub(super) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(map_sqlite_error)?;
    configure(&conn, 8 * 1024)?;
    conn.pragma_update(None, "mmap_size", MMAP_SIZE)
        .map_err(map_sqlite_error)?;
    Ok(conn)
}

/// The connection the background checkpoints run on.
pub(super) fn open_checkpointer(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(map_sqlite_error)?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(map_sqlite_error)?;
    Ok(conn)
}

/// Brings the schema to the latest version; an error is worth another try when another
/// process migrated the same file meanwhile.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    // At start-up, before serving, waiting inside SQLite blocks nobody.
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(map_sqlite_error)?;
    let migrated = adopt_earlier_migrations(conn).and_then(|()| {
        migrations()
            .to_latest(conn)
            .map_err(|e| StoreError::Other(format!("migration failed: {e}")))
    });
    conn.busy_timeout(Duration::ZERO)
        .map_err(map_sqlite_error)?;
    migrated
}

/// A database made before migrations were tracked in `user_version` recorded them in
/// `_sqlx_migrations`; start from there.
fn adopt_earlier_migrations(conn: &Connection) -> Result<(), StoreError> {
    let count = |sql: &str| -> Result<i64, StoreError> {
        conn.query_row(sql, [], |r| r.get(0))
            .map_err(map_sqlite_error)
    };
    if count("PRAGMA user_version")? != 0 {
        return Ok(());
    }
    let tracked = count(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )?;
    if tracked == 0 {
        return Ok(());
    }
    let applied = count("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")?;
    conn.pragma_update(None, "user_version", applied)
        .map_err(map_sqlite_error)
}
