//! Storage: SQLite and PostgreSQL behind one `Store`, reached per tenant through
//! [`TenantStore`] so that no query can leave out the tenant.

mod db;
mod error;
mod postgres;
mod queries;
mod sqlite;

use db::Db;
use queries::users;
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

/// Runs `$body` (which uses `$db`) in a transaction and commits it if `$body` succeeded;
/// on an error the transaction is dropped, which rolls it back.
macro_rules! in_tx {
    ($store:expr, $db:ident => $body:expr) => {{
        let mut $db = $store.begin().await?;
        let out = $body;
        $db.commit().await?;
        Ok(out)
    }};
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

    /// A connection for reads.
    async fn read(&self) -> Result<Db<'_>, StoreError> {
        dispatch!(self, b => b.read(false).await)
    }

    /// A connection for reads that must also see what another process (a second node, or
    /// `roster admin` on the same SQLite file) wrote a moment ago.
    async fn read_fresh(&self) -> Result<Db<'_>, StoreError> {
        dispatch!(self, b => b.read(true).await)
    }

    /// A connection for a single-statement write.
    async fn write(&self) -> Result<Db<'_>, StoreError> {
        dispatch!(self, b => b.write().await)
    }

    /// A transaction.
    async fn begin(&self) -> Result<Db<'_>, StoreError> {
        dispatch!(self, b => b.begin().await)
    }

    /// Tells PostgreSQL's statistics that rows were added.
    fn after_inserts(&self, rows: usize) {
        if let Store::Postgres(b) = self {
            b.after_inserts(rows);
        }
    }

    /// Applies the backend's pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        dispatch!(self, b => b.migrate().await)
    }

    /// A round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        queries::ping(&mut self.read().await?).await
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
        queries::create_tenant(&mut self.write().await?, name, None).await
    }

    pub async fn get_tenant(&self, tenant_id: &TenantId) -> Result<Tenant, StoreError> {
        queries::get_tenant(&mut self.read().await?, tenant_id).await
    }

    /// The bootstrap tenant, created if missing.
    pub async fn ensure_default_tenant(&self) -> Result<Tenant, StoreError> {
        queries::ensure_default_tenant(&mut self.write().await?).await
    }

    /// On a database without a default tenant, creates it with its management app and
    /// one client, atomically; `None` when the default tenant already existed.
    pub async fn create_default_tenant_with_client(
        &self,
        client_id: &ClientId,
        secret: &SecretHash,
    ) -> Result<Option<(Tenant, App)>, StoreError> {
        in_tx!(self, db => queries::create_default_tenant_with_client(&mut db, client_id, secret).await?)
    }

    /// Looks a client up by id across tenants: only the token endpoint may do this,
    /// since the client id is what tells it the tenant.
    pub async fn client_credentials(
        &self,
        client_id: &str,
    ) -> Result<Option<ClientCredentials>, StoreError> {
        queries::client_credentials(&mut self.read_fresh().await?, client_id).await
    }

    /// Stores `candidate` unless a key with the same purpose exists; returns the stored one,
    /// so concurrent first starts of several nodes agree on one key.
    pub async fn ensure_signing_key(
        &self,
        candidate: &SigningKeyRecord,
    ) -> Result<SigningKeyRecord, StoreError> {
        queries::ensure_signing_key(&mut self.write().await?, candidate).await
    }

    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        queries::signing_keys(&mut self.read_fresh().await?).await
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

    async fn read(&self) -> Result<Db<'_>, StoreError> {
        self.store.read().await
    }

    async fn write(&self) -> Result<Db<'_>, StoreError> {
        self.store.write().await
    }

    async fn begin(&self) -> Result<Db<'_>, StoreError> {
        self.store.begin().await
    }

    /// Creates an app and, when given, its first client, in one transaction.
    pub async fn create_app(
        &self,
        input: &NewApp,
        first_client: Option<(&NewClient, &SecretHash)>,
    ) -> Result<(App, Option<Client>), StoreError> {
        in_tx!(self, db => queries::create_app(&mut db, &self.tenant, input, first_client).await?)
    }

    pub async fn list_apps(&self) -> Result<Vec<App>, StoreError> {
        queries::list_apps(&mut self.read().await?, &self.tenant).await
    }

    pub async fn get_app(&self, app_id: &AppId) -> Result<App, StoreError> {
        queries::get_app(&mut self.read().await?, &self.tenant, app_id).await
    }

    /// Reads the app, applies `change` and writes it back in one transaction.
    pub async fn update_app<F>(&self, app_id: &AppId, change: F) -> Result<App, Error>
    where
        F: FnOnce(&mut App) -> Result<(), Error> + Send,
    {
        in_tx!(self, db => queries::update_app(&mut db, &self.tenant, app_id, change).await?)
    }

    pub async fn delete_app(&self, app_id: &AppId) -> Result<(), StoreError> {
        queries::delete_app(&mut self.write().await?, &self.tenant, app_id).await
    }

    /// The tenant's management app, created if missing.
    pub async fn ensure_management_app(&self) -> Result<App, StoreError> {
        queries::ensure_management_app(&mut self.write().await?, &self.tenant).await
    }

    pub async fn create_client(
        &self,
        app_id: &AppId,
        input: &NewClient,
        secret: &SecretHash,
    ) -> Result<Client, StoreError> {
        let client_id = ClientId::generate();
        in_tx!(self, db => queries::insert_client(&mut db, &self.tenant, app_id, &client_id, input, secret).await?)
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
        in_tx!(self, db => queries::put_client(&mut db, &self.tenant, app_id, client_id, input, secret).await?)
    }

    pub async fn list_clients(&self, app_id: &AppId) -> Result<Vec<Client>, StoreError> {
        queries::list_clients(&mut self.read().await?, &self.tenant, app_id).await
    }

    pub async fn get_client(
        &self,
        app_id: &AppId,
        client_id: &ClientId,
    ) -> Result<Client, StoreError> {
        queries::get_client(&mut self.read().await?, &self.tenant, app_id, client_id).await
    }

    pub async fn delete_client(
        &self,
        app_id: &AppId,
        client_id: &ClientId,
    ) -> Result<(), StoreError> {
        queries::delete_client(&mut self.write().await?, &self.tenant, app_id, client_id).await
    }

    /// Creates the user, or links an existing tenant user with the same primary email,
    /// phone or external id to `app` (`DECISIONS.md`); conflicts are 409 errors.
    pub async fn create_user(
        &self,
        app: Option<&AppId>,
        input: &NewUser,
    ) -> Result<(UserView, Created), Error> {
        // SQLite has one writer: concurrent creates share its transactions (group commit).
        if let Store::Sqlite(b) = self.store {
            return b.create_user(&self.tenant, app, input).await;
        }
        // PostgreSQL runs each create in its own transaction. A concurrent create can commit
        // the same identifier between our probe and insert; one retry then sees it and
        // links or answers 409.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut db = self.begin().await?;
            let retry = db.dialect().retries_conflicts() && attempt < 2;
            match users::create_one(&mut db, &self.tenant, app, input).await {
                Ok(done) => {
                    db.commit().await?;
                    self.store.after_inserts(1);
                    return Ok(done);
                }
                Err(Error::Conflict { .. }) if retry => drop(db),
                Err(e) => return Err(e),
            }
        }
    }

    /// Creates many users in one transaction, each succeeding or failing on its own.
    pub async fn bulk_create_users(
        &self,
        app: Option<&AppId>,
        inputs: &[NewUser],
    ) -> Result<Vec<Result<(UserView, Created), Error>>, Error> {
        let refs: Vec<&NewUser> = inputs.iter().collect();
        let created: Result<_, Error> =
            in_tx!(self, db => users::create_batch(&mut db, &self.tenant, app, &refs).await?);
        self.store.after_inserts(inputs.len());
        created
    }

    pub async fn get_user(&self, scope: &Scope, user_id: &UserId) -> Result<UserView, Error> {
        users::get_user(&mut self.read().await?, &self.tenant, scope, user_id).await
    }

    pub async fn find_user(&self, scope: &Scope, lookup: &Lookup) -> Result<UserView, Error> {
        users::find_user(&mut self.read().await?, &self.tenant, scope, lookup).await
    }

    /// One page of users and the number of all that match.
    pub async fn list_users(
        &self,
        scope: &Scope,
        query: &ListQuery,
    ) -> Result<(Vec<UserView>, u64), Error> {
        users::list_users(&mut self.read().await?, &self.tenant, scope, query).await
    }

    pub async fn count_users(&self, scope: &Scope) -> Result<u64, Error> {
        users::count_users(&mut self.read().await?, &self.tenant, scope).await
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
        in_tx!(self, db => users::update_user(&mut db, &self.tenant, scope, user_id, change).await?)
    }

    /// Records a sign-in identity of the user (login flows), or refreshes its last use.
    pub async fn record_identity(
        &self,
        user_id: &UserId,
        identity: &Identity,
    ) -> Result<(), Error> {
        users::record_identity(&mut self.write().await?, &self.tenant, user_id, identity).await
    }

    /// Drops the user's membership of `app` with its app-level data.
    pub async fn remove_user_from_app(&self, app: &AppId, user_id: &UserId) -> Result<(), Error> {
        users::remove_user_from_app(&mut self.write().await?, &self.tenant, app, user_id).await
    }

    /// Deletes the user and everything hanging off it.
    pub async fn delete_user(&self, user_id: &UserId) -> Result<(), Error> {
        users::delete_user(&mut self.write().await?, &self.tenant, user_id).await
    }
}
