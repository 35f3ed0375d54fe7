//! PostgreSQL (and Postgres-compatible engines) through one `sqlx` pool.

use crate::error::map_sqlx_error;
use crate::options::StoreOptions;
use roster_core::StoreError;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A pooled connection idle this long is pinged before it is handed out.
const IDLE_CHECK: Duration = Duration::from_secs(1);

pub struct PgBackend {
    pool: PgPool,
    /// Rows created by this process, and the count at the last statistics refresh.
    created: AtomicU64,
    analyzed_at: AtomicU64,
}

impl PgBackend {
    pub(crate) async fn connect(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        let connect = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Other(format!("invalid PostgreSQL URL: {e}")))?
            .application_name("roster");
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            // A ping before every statement is a second round trip per request; a
            // connection in steady use has just proven itself, so only one idle for a
            // while is checked (one that died then is replaced before use).
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= IDLE_CHECK {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(connect)
            .await
            .map_err(map_sqlx_error)?;
        Ok(Self {
            pool,
            created: AtomicU64::new(0),
            analyzed_at: AtomicU64::new(0),
        })
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Other(format!("migration failed: {e}")))?;
        self.refresh_statistics();
        Ok(())
    }

    /// A connection; every statement sees the latest commits.
    pub(crate) async fn acquire(&self) -> Result<PoolConnection<Postgres>, StoreError> {
        self.pool.acquire().await.map_err(map_sqlx_error)
    }

    /// A transaction; dropped without commit, it rolls back.
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool.begin().await.map_err(map_sqlx_error)
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    /// Keeps the planner's statistics of the user tables fresh as they grow, even where
    /// autovacuum is off: without them PostgreSQL plans for empty tables and scans.
    pub(crate) fn after_inserts(&self, rows: usize) {
        if self.statistics_due(rows) {
            self.refresh_statistics();
        }
    }

    fn refresh_statistics(&self) {
        let pool = self.pool.clone();
        tokio::spawn(async move { refresh_statistics(&pool).await });
    }

    /// [`Self::after_inserts`] that returns once the statistics are refreshed: a seed's
    /// users are read back at once, by the next start that compares them with the seed.
    pub(crate) async fn after_bulk_inserts(&self, rows: usize) {
        if self.statistics_due(rows) {
            refresh_statistics(&self.pool).await;
        }
    }

    /// Counts `rows` more; whether a fifth more rows (at least 1,000) were added since the
    /// last refresh.
    fn statistics_due(&self, rows: usize) -> bool {
        let total = self.created.fetch_add(rows as u64, Ordering::Relaxed) + rows as u64;
        let last = self.analyzed_at.load(Ordering::Relaxed);
        total.saturating_sub(last) >= (last / 5).max(1000)
            && self
                .analyzed_at
                .compare_exchange(last, total, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

async fn refresh_statistics(pool: &PgPool) {
    if let Err(e) = sqlx::query("ANALYZE users, user_apps").execute(pool).await {
        tracing::warn!(error = %e, "could not refresh table statistics");
    }
}
