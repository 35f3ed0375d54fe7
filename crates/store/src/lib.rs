//! Storage: SQLite and PostgreSQL behind one `Store`, reached per tenant through
//! [`TenantStore`] so that no query can leave out the tenant.
//!
//! Layers, each importing only those below it: `tenant` (the scoped handle) and
//! `group_commit` call `queries` (one file per resource), which run on `db` (the one
//! connection type), which the backends `sqlite` and `postgres` lend connections to.

mod backend;
mod db;
mod error;
mod group_commit;
mod options;
mod postgres;
mod queries;
mod sqlite;
mod tenant;
mod tenant_keys;

use backend::{in_tx, Backend, Counters, Database};
use queries::{clients, common, keys, retired, seed, tenants};
use roster_core::app::{App, ClientCredentials, Tenant};
use roster_core::secret::SecretHash;
use roster_core::seed::{ApplyError, SeedPlan};
use roster_core::signing_key::SigningKeyRecord;
use roster_core::{ClientId, StoreError, TenantId};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub use error::map_sqlx_error;
pub use options::StoreOptions;
pub use tenant::TenantStore;

/// The pause between two batches of a purge.
const PURGE_PAUSE: std::time::Duration = std::time::Duration::from_millis(5);

/// The database, chosen from its URL; a cheap handle to clone.
#[derive(Clone)]
pub struct Store {
    db: Arc<Database>,
}

impl Store {
    /// Opens `sqlite://PATH`, `sqlite::memory:` or `postgres://...`.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        let backend = Backend::connect(url, options).await?;
        Ok(Self {
            db: Arc::new(Database {
                backend,
                counters: Counters::default(),
                tenants: Default::default(),
            }),
        })
    }

    fn backend(&self) -> &Backend {
        &self.db.backend
    }

    pub fn backend_name(&self) -> &'static str {
        self.backend().name()
    }

    /// Creates that were tried again after a concurrent writer took an identifier first.
    pub fn lost_races(&self) -> u64 {
        self.db.counters.lost_races.load(Ordering::Relaxed)
    }

    /// Applies the backend's pending migrations, then reads which tenants were moved.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.backend().migrate().await?;
        self.refresh_tenant_keys().await
    }

    /// Reads again which key each reset tenant is stored under: what another process on
    /// the database (a node on PostgreSQL, a server on the same SQLite file) reset shows on
    /// this one from then on.
    pub async fn refresh_tenant_keys(&self) -> Result<(), StoreError> {
        let seen = self.db.tenants.local_moves();
        let moved = tenants::moved(&mut self.backend().read_fresh().await?).await?;
        self.db.tenants.replace(moved, seen);
        Ok(())
    }

    /// Deletes what resets left behind under retired keys, a batch of users per
    /// transaction; the number of keys purged.
    pub async fn purge_retired(&self) -> Result<usize, StoreError> {
        let keys = retired::retired(&mut self.backend().read_fresh().await?).await?;
        for key in &keys {
            loop {
                let mut db = self.backend().begin().await?;
                let batch = async {
                    let more = retired::purge_batch(&mut db, key).await?;
                    db.commit().await?;
                    Ok::<_, StoreError>(more)
                };
                let more = self.backend().long(batch).await?;
                if !more {
                    break;
                }
                // The requests' writes first: they wait at most one batch.
                tokio::time::sleep(PURGE_PAUSE).await;
            }
        }
        Ok(keys.len())
    }

    /// Waits until a reset on this node retires a key (at once if one did since the last
    /// call).
    pub async fn retired_key(&self) {
        self.db.tenants.retired().await;
    }

    /// A round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        common::ping(&mut self.backend().read().await?).await
    }

    pub async fn close(&self) {
        self.backend().close().await
    }

    /// The handle for one tenant's data, by the tenant's public id.
    pub fn tenant(&self, tenant_id: &TenantId) -> TenantStore {
        let key = self.db.tenants.key(tenant_id);
        TenantStore::new(self.db.clone(), tenant_id.clone(), key)
    }

    pub async fn create_tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        tenants::create_tenant(&mut self.backend().write().await?, name, None).await
    }

    pub async fn get_tenant(&self, tenant_id: &TenantId) -> Result<Tenant, StoreError> {
        tenants::get_tenant(&mut self.backend().read().await?, tenant_id).await
    }

    /// Every tenant of the installation (the operator's `roster admin tenant list`).
    pub async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        tenants::list_tenants(&mut self.backend().read_fresh().await?).await
    }

    /// The tenant a seed names, if it exists (`Default` is the first start's tenant).
    pub async fn find_tenant(&self, name: &str) -> Result<Option<TenantId>, StoreError> {
        let found = tenants::find_by_name(&mut self.backend().read_fresh().await?, name).await?;
        Ok(found.map(|t| t.public))
    }

    /// The bootstrap tenant, created if missing.
    pub async fn ensure_default_tenant(&self) -> Result<Tenant, StoreError> {
        tenants::ensure_default_tenant(&mut self.backend().write().await?).await
    }

    /// On a database without a default tenant, creates it with its management app and
    /// one client, atomically; `None` when the default tenant already existed.
    pub async fn create_default_tenant_with_client(
        &self,
        client_id: &ClientId,
        secret: &SecretHash,
    ) -> Result<Option<(Tenant, App)>, StoreError> {
        in_tx!(self.backend(), db => tenants::create_default_tenant_with_client(&mut db, client_id, secret).await?)
    }

    /// Applies a seed in one transaction: all of it or, on the first refused entry,
    /// nothing. The plan's users learn their stored ids. Returns each tenant's id.
    pub async fn apply_seed(&self, plan: &mut SeedPlan) -> Result<Vec<TenantId>, ApplyError> {
        let now = roster_core::time::now_ms();
        let mut db = self.backend().begin().await?;
        let mut ids = Vec::with_capacity(plan.tenants.len());
        let mut created = 0;
        for tenant in &mut plan.tenants {
            let (id, new) = seed::apply_tenant(&mut db, tenant, now).await?;
            ids.push(id);
            created += new;
        }
        db.commit().await?;
        // Awaited: `roster seed` closes the pool at once, and the next start reads these
        // users back to compare them with the seed.
        self.backend().after_bulk_inserts(created).await;
        Ok(ids)
    }

    /// Looks a client up by id across tenants: only the token endpoint may do this,
    /// since the client id is what tells it the tenant.
    pub async fn client_credentials(
        &self,
        client_id: &str,
    ) -> Result<Option<ClientCredentials>, StoreError> {
        clients::client_credentials(&mut self.backend().read_fresh().await?, client_id).await
    }

    /// Stores `candidate` unless a key with the same purpose exists; returns the stored one,
    /// so concurrent first starts of several nodes agree on one key.
    pub async fn ensure_signing_key(
        &self,
        candidate: &SigningKeyRecord,
    ) -> Result<SigningKeyRecord, StoreError> {
        keys::ensure_signing_key(&mut self.backend().write().await?, candidate).await
    }

    /// Replaces a key's private key if it is still `from` (sealing it with a key file).
    pub async fn replace_signing_private_key(
        &self,
        kid: &str,
        from: &str,
        to: &str,
    ) -> Result<bool, StoreError> {
        keys::replace_private_key(&mut self.backend().write().await?, kid, from, to).await
    }

    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        keys::signing_keys(&mut self.backend().read_fresh().await?).await
    }
}
