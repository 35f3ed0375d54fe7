//! Storage: SQLite and PostgreSQL behind one `Store`, reached per tenant through
//! [`TenantStore`] so that no query can leave out the tenant.

mod error;
mod postgres;
mod queries;
mod sqlite;

use roster_core::app::{App, Client, ClientCredentials, NewApp, NewClient, Tenant};
use roster_core::secret::SecretHash;
use roster_core::signing_key::SigningKeyRecord;
use roster_core::user::{
    Created, Identity, ListQuery, Lookup, Membership, NewUser, Scope, User, UserView,
};
use roster_core::{AppId, ClientId, Error, StoreError, TenantId, UserId};

pub use error::map_sqlx_error;

/// Connection settings beyond the URL.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Pool size for PostgreSQL, and for SQLite readers (SQLite has one writer).
    pub max_connections: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
        }
    }
}

/// The database, chosen from its URL.
pub enum Store {
    Sqlite(sqlite::SqliteBackend),
    Postgres(postgres::PgBackend),
}

macro_rules! dispatch {
    ($store:expr, $b:ident => $e:expr) => {
        match $store {
            Store::Sqlite($b) => $e,
            Store::Postgres($b) => $e,
        }
    };
}

impl Store {
    /// Opens `sqlite://PATH`, `sqlite::memory:` or `postgres://...`.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Store::Sqlite(
                sqlite::SqliteBackend::connect(url, options).await?,
            ))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Store::Postgres(
                postgres::PgBackend::connect(url, options).await?,
            ))
        } else {
            Err(StoreError::Other(
                "database URL must start with sqlite: or postgres://".into(),
            ))
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Applies the backend's pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        dispatch!(self, b => b.migrate().await)
    }

    /// A round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, b => b.ping().await)
    }

    pub async fn close(&self) {
        dispatch!(self, b => b.close().await)
    }

    /// The handle for one tenant's data.
    pub fn tenant(&self, tenant_id: &TenantId) -> TenantStore<'_> {
        TenantStore {
            store: self,
            tenant: tenant_id.clone(),
        }
    }

    pub async fn create_tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        dispatch!(self, b => b.create_tenant(name, None).await)
    }

    pub async fn get_tenant(&self, tenant_id: &TenantId) -> Result<Tenant, StoreError> {
        dispatch!(self, b => b.get_tenant(tenant_id).await)
    }

    /// The bootstrap tenant, created if missing.
    pub async fn ensure_default_tenant(&self) -> Result<Tenant, StoreError> {
        dispatch!(self, b => b.ensure_default_tenant().await)
    }

    /// On a database without a default tenant, creates it with its management app and
    /// one client, atomically; `None` when the default tenant already existed.
    pub async fn create_default_tenant_with_client(
        &self,
        client_id: &ClientId,
        secret: &SecretHash,
    ) -> Result<Option<(Tenant, App)>, StoreError> {
        dispatch!(self, b => b.create_default_tenant_with_client(client_id, secret).await)
    }

    /// Looks a client up by id across tenants: only the token endpoint may do this,
    /// since the client id is what tells it the tenant.
    pub async fn client_credentials(
        &self,
        client_id: &str,
    ) -> Result<Option<ClientCredentials>, StoreError> {
        dispatch!(self, b => b.client_credentials(client_id).await)
    }

    /// Stores `candidate` unless a key with the same purpose exists; returns the stored one,
    /// so concurrent first starts of several nodes agree on one key.
    pub async fn ensure_signing_key(
        &self,
        candidate: &SigningKeyRecord,
    ) -> Result<SigningKeyRecord, StoreError> {
        dispatch!(self, b => b.ensure_signing_key(candidate).await)
    }

    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        dispatch!(self, b => b.signing_keys().await)
    }
}

/// One tenant's view of the store. Every method is scoped to that tenant.
pub struct TenantStore<'a> {
    store: &'a Store,
    tenant: TenantId,
}

impl TenantStore<'_> {
    pub fn tenant_id(&self) -> &TenantId {
        &self.tenant
    }

    /// Creates an app and, when given, its first client, in one transaction.
    pub async fn create_app(
        &self,
        input: &NewApp,
        first_client: Option<(&NewClient, &SecretHash)>,
    ) -> Result<(App, Option<Client>), StoreError> {
        dispatch!(self.store, b => b.create_app(&self.tenant, input, first_client).await)
    }

    pub async fn list_apps(&self) -> Result<Vec<App>, StoreError> {
        dispatch!(self.store, b => b.list_apps(&self.tenant).await)
    }

    pub async fn get_app(&self, app_id: &AppId) -> Result<App, StoreError> {
        dispatch!(self.store, b => b.get_app(&self.tenant, app_id).await)
    }

    /// Reads the app, applies `change` and writes it back in one transaction.
    pub async fn update_app<F>(&self, app_id: &AppId, change: F) -> Result<App, Error>
    where
        F: FnOnce(&mut App) -> Result<(), Error> + Send,
    {
        dispatch!(self.store, b => b.update_app(&self.tenant, app_id, change).await)
    }

    pub async fn delete_app(&self, app_id: &AppId) -> Result<(), StoreError> {
        dispatch!(self.store, b => b.delete_app(&self.tenant, app_id).await)
    }

    /// The tenant's management app, created if missing.
    pub async fn ensure_management_app(&self) -> Result<App, StoreError> {
        dispatch!(self.store, b => b.ensure_management_app(&self.tenant).await)
    }

    pub async fn create_client(
        &self,
        app_id: &AppId,
        input: &NewClient,
        secret: &SecretHash,
    ) -> Result<Client, StoreError> {
        let client_id = ClientId::generate();
        dispatch!(self.store, b => b.insert_client(&self.tenant, app_id, &client_id, input, secret).await)
    }

    /// Creates a client with a chosen id, or resets its secret if it already belongs to
    /// this app; a client id used by another app or tenant is a conflict.
    pub async fn put_client(
        &self,
        app_id: &AppId,
        client_id: &ClientId,
        input: &NewClient,
        secret: &SecretHash,
    ) -> Result<Client, StoreError> {
        dispatch!(self.store, b => b.put_client(&self.tenant, app_id, client_id, input, secret).await)
    }

    pub async fn list_clients(&self, app_id: &AppId) -> Result<Vec<Client>, StoreError> {
        dispatch!(self.store, b => b.list_clients(&self.tenant, app_id).await)
    }

    pub async fn get_client(
        &self,
        app_id: &AppId,
        client_id: &ClientId,
    ) -> Result<Client, StoreError> {
        dispatch!(self.store, b => b.get_client(&self.tenant, app_id, client_id).await)
    }

    pub async fn delete_client(
        &self,
        app_id: &AppId,
        client_id: &ClientId,
    ) -> Result<(), StoreError> {
        dispatch!(self.store, b => b.delete_client(&self.tenant, app_id, client_id).await)
    }

    /// Creates the user, or links an existing tenant user with the same primary email,
    /// phone or external id to `app` (`DECISIONS.md`); conflicts are 409 errors.
    pub async fn create_user(
        &self,
        app: Option<&AppId>,
        input: &NewUser,
    ) -> Result<(UserView, Created), Error> {
        // SQLite has one writer, so its concurrent creates share transactions (group
        // commit); PostgreSQL runs each in its own.
        dispatch!(self.store, b => b.create_user(&self.tenant, app, input).await)
    }

    /// Creates many users in one transaction, each succeeding or failing on its own.
    pub async fn bulk_create_users(
        &self,
        app: Option<&AppId>,
        inputs: &[NewUser],
    ) -> Result<Vec<Result<(UserView, Created), Error>>, Error> {
        dispatch!(self.store, b => b.bulk_create_users(&self.tenant, app, inputs).await)
    }

    pub async fn get_user(&self, scope: &Scope, user_id: &UserId) -> Result<UserView, Error> {
        dispatch!(self.store, b => b.get_user(&self.tenant, scope, user_id).await)
    }

    pub async fn find_user(&self, scope: &Scope, lookup: &Lookup) -> Result<UserView, Error> {
        dispatch!(self.store, b => b.find_user(&self.tenant, scope, lookup).await)
    }

    /// One page of users and the number of all that match.
    pub async fn list_users(
        &self,
        scope: &Scope,
        query: &ListQuery,
    ) -> Result<(Vec<UserView>, u64), Error> {
        dispatch!(self.store, b => b.list_users(&self.tenant, scope, query).await)
    }

    pub async fn count_users(&self, scope: &Scope) -> Result<u64, Error> {
        dispatch!(self.store, b => b.count_users(&self.tenant, scope).await)
    }

    /// Reads the user and the scope's membership, applies `change`, and writes both back
    /// in one transaction.
    pub async fn update_user<F>(
        &self,
        scope: &Scope,
        user_id: &UserId,
        change: F,
    ) -> Result<UserView, Error>
    where
        F: FnOnce(&mut User, Option<&mut Membership>) -> Result<(), Error> + Send,
    {
        dispatch!(self.store, b => b.update_user(&self.tenant, scope, user_id, change).await)
    }

    /// Records a sign-in identity of the user (login flows), or refreshes its last use.
    pub async fn record_identity(
        &self,
        user_id: &UserId,
        identity: &Identity,
    ) -> Result<(), Error> {
        dispatch!(self.store, b => b.record_identity(&self.tenant, user_id, identity).await)
    }

    /// Drops the user's membership of `app` with its app-level data.
    pub async fn remove_user_from_app(&self, app: &AppId, user_id: &UserId) -> Result<(), Error> {
        dispatch!(self.store, b => b.remove_user_from_app(&self.tenant, app, user_id).await)
    }

    /// Deletes the user and everything hanging off it.
    pub async fn delete_user(&self, user_id: &UserId) -> Result<(), Error> {
        dispatch!(self.store, b => b.delete_user(&self.tenant, user_id).await)
    }
}
