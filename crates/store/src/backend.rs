//! The database behind a `Store`, and which connection each call runs on.

use crate::db::Db;
use crate::group_commit::GroupCommit;
use crate::options::StoreOptions;
use crate::postgres::PgBackend;
use crate::sqlite::SqliteBackend;
use roster_core::StoreError;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

pub(crate) enum Backend {
    /// SQLite, and the queue of creates waiting to share the writer's next commit.
    Sqlite(SqliteBackend, GroupCommit),
    Postgres(PgBackend),
}

/// Runs `$body` (which uses `$db`) in a transaction and commits it if `$body` succeeded;
/// on an error the transaction is dropped, which rolls it back.
macro_rules! in_tx {
    ($backend:expr, $db:ident => $body:expr) => {{
        let mut $db = $backend.begin().await?;
        let out = $body;
        $db.commit().await?;
        Ok(out)
    }};
}
pub(crate) use in_tx;

impl Backend {
    /// Opens `sqlite://PATH`, `sqlite::memory:` or `postgres://...`.
    pub(crate) async fn connect(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            let sqlite = SqliteBackend::connect(url, options).await?;
            Ok(Backend::Sqlite(sqlite, GroupCommit::default()))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres(PgBackend::connect(url, options).await?))
        } else {
            Err(StoreError::Other(
                "database URL must start with sqlite: or postgres://".into(),
            ))
        }
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(..) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// A connection for reads.
    pub(crate) async fn read(&self) -> Result<Db<'_>, StoreError> {
        match self {
            Backend::Sqlite(b, _) => Ok(Db::Sqlite(b.read(false).await?)),
            Backend::Postgres(b) => Ok(Db::Pg(b.acquire().await?)),
        }
    }

    /// A connection for reads that must also see what another process (a second node, or
    /// `roster admin` on the same SQLite file) wrote a moment ago.
    pub(crate) async fn read_fresh(&self) -> Result<Db<'_>, StoreError> {
        match self {
            Backend::Sqlite(b, _) => Ok(Db::Sqlite(b.read(true).await?)),
            Backend::Postgres(b) => Ok(Db::Pg(b.acquire().await?)),
        }
    }

    /// A connection for a single-statement write.
    pub(crate) async fn write(&self) -> Result<Db<'_>, StoreError> {
        match self {
            Backend::Sqlite(b, _) => Ok(Db::Sqlite(b.write().await?)),
            Backend::Postgres(b) => Ok(Db::Pg(b.acquire().await?)),
        }
    }

    /// A transaction.
    pub(crate) async fn begin(&self) -> Result<Db<'_>, StoreError> {
        match self {
            Backend::Sqlite(b, _) => Ok(Db::Sqlite(b.begin().await?)),
            Backend::Postgres(b) => Ok(Db::PgTx(b.begin().await?)),
        }
    }

    /// Runs `work`, which holds the database for long. SQLite runs its statements on the
    /// calling thread: on a multi-threaded runtime the thread then leaves the workers for
    /// the time, so that they, and the listener's I/O, go on meanwhile.
    pub(crate) async fn long<T>(&self, work: impl Future<Output = T>) -> T {
        use tokio::runtime::{Handle, RuntimeFlavor};
        match (self, Handle::try_current()) {
            (Backend::Sqlite(..), Ok(rt)) if rt.runtime_flavor() == RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| rt.block_on(work))
            }
            _ => work.await,
        }
    }

    /// Like [`Self::after_inserts`], but waits for the statistics to be refreshed.
    pub(crate) async fn after_bulk_inserts(&self, rows: usize) {
        if let Backend::Postgres(b) = self {
            b.after_bulk_inserts(rows).await;
        }
    }

    /// Tells PostgreSQL's statistics that rows were added.
    pub(crate) fn after_inserts(&self, rows: usize) {
        if let Backend::Postgres(b) = self {
            b.after_inserts(rows);
        }
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Backend::Sqlite(b, _) => b.migrate().await,
            Backend::Postgres(b) => b.migrate().await,
        }
    }

    pub(crate) async fn close(&self) {
        match self {
            Backend::Sqlite(b, _) => b.close().await,
            Backend::Postgres(b) => b.close().await,
        }
    }
}

/// Counters of what the store did that a caller cannot see in its answers.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Creates tried again because a concurrent writer took an identifier between the
    /// probe and the insert.
    pub(crate) lost_races: AtomicU64,
}

impl Counters {
    pub(crate) fn lost_race(&self) {
        self.lost_races.fetch_add(1, Ordering::Relaxed);
    }
}

/// What every handle of one store shares.
pub(crate) struct Database {
    pub(crate) backend: Backend,
    pub(crate) counters: Counters,
    pub(crate) tenants: crate::tenant_keys::TenantKeys,
}
