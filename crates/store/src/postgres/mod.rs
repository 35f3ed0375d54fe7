//! PostgreSQL (and Postgres-compatible engines) through one pool.

use crate::error::map_sqlx_error;
use crate::StoreOptions;
use roster_core::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Appended to a read that a read-modify-write follows (SQLite: the single writer serialises).
const FOR_UPDATE: &str = " FOR UPDATE";
/// Whether a create that hit a unique constraint is tried once more (see `create_user`).
const RETRY_CONFLICTS: bool = true;

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

    /// Keeps the planner's statistics of the user tables fresh as they grow, even where
    /// autovacuum is off: without them PostgreSQL plans for empty tables and scans.
    fn after_inserts(&self, rows: usize) {
        let total = self.created.fetch_add(rows as u64, Ordering::Relaxed) + rows as u64;
        let last = self.analyzed_at.load(Ordering::Relaxed);
        if total - last >= (last / 5).max(1000)
            && self
                .analyzed_at
                .compare_exchange(last, total, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.refresh_statistics();
        }
    }

    fn refresh_statistics(&self) {
        let pool = self.pool.clone();
        tokio::spawn(async move {
            if let Err(e) = sqlx::query("ANALYZE users, user_apps").execute(&pool).await {
                tracing::warn!(error = %e, "could not refresh table statistics");
            }
        });
    }

    /// Each create in its own transaction: PostgreSQL runs them side by side.
    pub(crate) async fn create_user(
        &self,
        tenant: &roster_core::TenantId,
        app: Option<&roster_core::AppId>,
        input: &roster_core::user::NewUser,
    ) -> Result<(roster_core::user::UserView, roster_core::user::Created), roster_core::Error> {
        let created = generated_users::create_one(&self.pool, tenant, app, input).await;
        self.after_inserts(1);
        created
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }
}

crate::queries::users::define_user_queries!(
    PgBackend,
    sqlx::Postgres,
    "(SELECT COALESCE(json_agg(json_build_object('provider_name', i.provider_name, \
     'provider_type', i.provider_type, 'auth_type', i.auth_type, 'identifier', i.identifier, \
     'first_auth_date', i.first_auth_date, 'last_auth_date', i.last_auth_date) \
     ORDER BY i.first_auth_date), '[]')::text \
     FROM user_identities i WHERE i.tenant_id = u.tenant_id AND i.user_id = u.user_id)"
);
crate::queries::define_queries!(PgBackend, sqlx::Postgres);
