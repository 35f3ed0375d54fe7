//! PostgreSQL (and Postgres-compatible engines) through one pool.

use crate::error::map_sqlx_error;
use crate::StoreOptions;
use roster_core::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

/// Appended to a read that a read-modify-write follows (SQLite: the single writer serialises).
const FOR_UPDATE: &str = " FOR UPDATE";
/// Whether a create that hit a unique constraint is tried once more (see `create_user`).
const RETRY_CONFLICTS: bool = true;

pub struct PgBackend {
    pool: PgPool,
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
        Ok(Self { pool })
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Other(format!("migration failed: {e}")))
    }

    /// Each create in its own transaction: PostgreSQL runs them side by side.
    pub(crate) async fn create_user(
        &self,
        tenant: &roster_core::TenantId,
        app: Option<&roster_core::AppId>,
        input: &roster_core::user::NewUser,
    ) -> Result<(roster_core::user::UserView, roster_core::user::Created), roster_core::Error> {
        generated_users::create_one(&self.pool, tenant, app, input).await
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
