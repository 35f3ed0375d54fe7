//! One tenant's view of the store: every method is scoped to that tenant, so no query can
//! leave it out, and another tenant's rows are simply not found.

use crate::backend::{in_tx, Backend, Database};
use crate::queries::{
    apps, clients, passwords, refresh_tokens, seed, users_create, users_read, users_write,
};
use roster_core::app::{App, Client, NewApp, NewClient};
use roster_core::password::{Failures, NewPassword, StoredPassword};
use roster_core::secret::SecretHash;
use roster_core::seed::{ApplyError, TenantPlan};
use roster_core::session::{Rotation, REFRESH_TTL_MS};
use roster_core::user::{
    Created, Identity, ListQuery, Lookup, Membership, NewUser, Scope, User, UserStatus, UserView,
};
use roster_core::{AppId, ClientId, Error, StoreError, TenantId, UserId};
use std::sync::Arc;

mod device_keys;
mod groups;

/// A handle on one tenant's data; cheap to make and to clone.
#[derive(Clone)]
pub struct TenantStore {
    db: Arc<Database>,
    /// The id tokens and answers carry.
    tenant: TenantId,
    /// The key the tenant's rows are stored under (`tenant` until a reset moves them).
    key: TenantId,
}

impl TenantStore {
    pub(crate) fn new(db: Arc<Database>, tenant: TenantId, key: TenantId) -> Self {
        Self { db, tenant, key }
    }

    pub fn tenant_id(&self) -> &TenantId {
        &self.tenant
    }

    /// The app as answers show it: with the tenant's public id.
    fn app(&self, mut app: App) -> App {
        app.tenant_id = self.tenant.clone();
        app
    }

    fn client(&self, mut client: Client) -> Client {
        client.tenant_id = self.tenant.clone();
        client
    }

    fn backend(&self) -> &Backend {
        &self.db.backend
    }

    /// Creates an app and, when given, its first client, in one transaction.
    pub async fn create_app(
        &self,
        input: &NewApp,
        first_client: Option<(&NewClient, &SecretHash)>,
    ) -> Result<(App, Option<Client>), StoreError> {
        let (app, client): (App, Option<Client>) = in_tx!(self.backend(), db => apps::create_app(&mut db, &self.key, input, first_client).await?)?;
        Ok((self.app(app), client.map(|c| self.client(c))))
    }

    pub async fn list_apps(&self) -> Result<Vec<App>, StoreError> {
        let apps = apps::list_apps(&mut self.backend().read().await?, &self.key).await?;
        Ok(apps.into_iter().map(|a| self.app(a)).collect())
    }

    pub async fn get_app(&self, app_id: &AppId) -> Result<App, StoreError> {
        let app = apps::get_app(&mut self.backend().read().await?, &self.key, app_id).await?;
        Ok(self.app(app))
    }

    /// Reads the app, applies `change` and writes it back in one transaction.
    pub async fn update_app<F>(&self, app_id: &AppId, change: F) -> Result<App, Error>
    where
        F: FnOnce(&mut App) -> Result<(), Error> + Send,
    {
        let app: Result<App, Error> = in_tx!(self.backend(), db => apps::update_app(&mut db, &self.key, app_id, change).await?);
        app.map(|a| self.app(a))
    }

    pub async fn delete_app(&self, app_id: &AppId) -> Result<(), StoreError> {
        apps::delete_app(&mut self.backend().write().await?, &self.key, app_id).await
    }

    /// The tenant's management app, created if missing.
    pub async fn ensure_management_app(&self) -> Result<App, StoreError> {
        let app =
            apps::ensure_management_app(&mut self.backend().write().await?, &self.key).await?;
        Ok(self.app(app))
    }

    pub async fn create_client(
        &self,
        app_id: &AppId,
        input: &NewClient,
        secret: &SecretHash,
    ) -> Result<Client, StoreError> {
        let client_id = ClientId::generate();
        let client: Client = in_tx!(self.backend(), db => clients::insert_client(&mut db, &self.key, app_id, &client_id, input, secret).await?)?;
        Ok(self.client(client))
    }

    /// Creates a client with a chosen id, or gives it this secret and name if it already
    /// belongs to this app (writing nothing when it has them); a client id used by another
    /// app or tenant is a conflict.
    pub async fn put_client(
        &self,
        app_id: &AppId,
        client_id: &ClientId,
        input: &NewClient,
        secret: &SecretHash,
    ) -> Result<Client, StoreError> {
        let client: Client = in_tx!(self.backend(), db => clients::put_client(&mut db, &self.key, app_id, client_id, input, secret).await?)?;
        Ok(self.client(client))
    }

    pub async fn list_clients(&self, app_id: &AppId) -> Result<Vec<Client>, StoreError> {
        let clients =
            clients::list_clients(&mut self.backend().read().await?, &self.key, app_id).await?;
        Ok(clients.into_iter().map(|c| self.client(c)).collect())
    }

    pub async fn get_client(
        &self,
        app_id: &AppId,
        client_id: &ClientId,
    ) -> Result<Client, StoreError> {
        let mut db = self.backend().read().await?;
        let client = clients::get_client(&mut db, &self.key, app_id, client_id).await?;
        Ok(self.client(client))
    }

    pub async fn delete_client(
        &self,
        app_id: &AppId,
        client_id: &ClientId,
    ) -> Result<(), StoreError> {
        let mut db = self.backend().write().await?;
        clients::delete_client(&mut db, &self.key, app_id, client_id).await
    }

    /// Reads the client, applies `change` to its settings and writes them back, in one
    /// transaction.
    pub async fn update_client<F>(
        &self,
        app_id: &AppId,
        client_id: &ClientId,
        change: F,
    ) -> Result<Client, Error>
    where
        F: FnOnce(&mut NewClient) -> Result<(), Error> + Send,
    {
        let client: Result<Client, Error> = in_tx!(self.backend(), db => clients::update_client(&mut db, &self.key, app_id, client_id, change).await?);
        client.map(|c| self.client(c))
    }

    /// Deletes every client of the app; the number deleted.
    pub async fn delete_clients(&self, app_id: &AppId) -> Result<u64, StoreError> {
        let mut db = self.backend().write().await?;
        clients::delete_clients(&mut db, &self.key, app_id).await
    }

    /// In one transaction: the tenant loses every user and the groups the seed does not
    /// declare, keeps apps and clients, and gets its part of the seed applied again. The
    /// users lost; their rows are deleted in the background ([`crate::Store::purge_retired`]).
    /// Handles made before the reset still name the old key: use a new one.
    pub async fn reset(&self, plan: Option<&mut TenantPlan>) -> Result<u64, ApplyError> {
        let now = roster_core::time::now_ms();
        let mut db = self.backend().begin().await?;
        let (key, deleted) = seed::reset_tenant(&mut db, &self.key, plan, now).await?;
        db.commit().await?;
        self.db.tenants.moved_to(&self.tenant, &key);
        Ok(deleted)
    }

    /// Creates the user, or links an existing tenant user with the same primary email,
    /// phone or external id to `app` (`DECISIONS.md`); conflicts are 409 errors.
    pub async fn create_user(
        &self,
        app: Option<&AppId>,
        input: &NewUser,
    ) -> Result<(UserView, Created), Error> {
        match self.backend() {
            // SQLite has one writer: concurrent creates share its transactions.
            Backend::Sqlite(sqlite, group) => group.create(sqlite, &self.key, app, input).await,
            Backend::Postgres(_) => self.create_user_retrying(app, input).await,
        }
    }

    /// Each create in its own transaction. A concurrent create can commit the same
    /// identifier between the probe and the insert; one more try then sees it and links or
    /// answers 409. A decided answer, 409 included, is never tried again.
    async fn create_user_retrying(
        &self,
        app: Option<&AppId>,
        input: &NewUser,
    ) -> Result<(UserView, Created), Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut db = self.backend().begin().await?;
            match users_create::create_one(&mut db, &self.key, app, input).await {
                Ok(Ok(done)) => {
                    db.commit().await?;
                    self.backend().after_inserts(1);
                    return Ok(done);
                }
                Ok(Err(decided)) => return Err(decided),
                Err(StoreError::Conflict(_)) if attempt < 2 => self.db.counters.lost_race(),
                Err(e) => return Err(users_read::user_err(e)),
            }
        }
    }

    /// Creates many users in one transaction, each succeeding or failing on its own.
    pub async fn bulk_create_users(
        &self,
        app: Option<&AppId>,
        inputs: &[NewUser],
    ) -> Result<Vec<users_create::Outcome>, Error> {
        let refs: Vec<&NewUser> = inputs.iter().collect();
        let created: Result<_, Error> = in_tx!(self.backend(), db => {
            users_create::create_batch(&mut db, &self.key, app, &refs).await?
        });
        self.backend().after_inserts(inputs.len());
        created
    }

    pub async fn get_user(&self, scope: &Scope, user_id: &UserId) -> Result<UserView, Error> {
        let mut db = self.backend().read().await?;
        users_read::get_user(&mut db, &self.key, scope, user_id).await
    }

    pub async fn find_user(&self, scope: &Scope, lookup: &Lookup) -> Result<UserView, Error> {
        let mut db = self.backend().read().await?;
        users_read::find_user(&mut db, &self.key, scope, lookup).await
    }

    /// One page of users and the number of all that match.
    pub async fn list_users(
        &self,
        scope: &Scope,
        query: &ListQuery,
    ) -> Result<(Vec<UserView>, u64), Error> {
        let mut db = self.backend().read().await?;
        users_read::list_users(&mut db, &self.key, scope, query).await
    }

    /// How many users of the scope match `filter` (all of them without one).
    pub async fn count_users(
        &self,
        scope: &Scope,
        filter: Option<&roster_core::filter::Filter>,
    ) -> Result<u64, Error> {
        let mut db = self.backend().read().await?;
        users_read::count_users(&mut db, &self.key, scope, filter).await
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
        in_tx!(self.backend(), db => users_write::update_user(&mut db, &self.key, scope, user_id, change).await?)
    }

    /// Records a sign-in identity of the user (login flows), or refreshes its last use.
    pub async fn record_identity(
        &self,
        user_id: &UserId,
        identity: &Identity,
    ) -> Result<(), Error> {
        let mut db = self.backend().write().await?;
        users_write::record_identity(&mut db, &self.key, user_id, identity).await
    }

    /// Drops the user's membership of `app` with its app-level data.
    pub async fn remove_user_from_app(&self, app: &AppId, user_id: &UserId) -> Result<(), Error> {
        let mut db = self.backend().write().await?;
        users_write::remove_user_from_app(&mut db, &self.key, app, user_id).await
    }

    /// Deletes the user and everything hanging off it.
    pub async fn delete_user(&self, user_id: &UserId) -> Result<(), Error> {
        let mut db = self.backend().write().await?;
        users_write::delete_user(&mut db, &self.key, user_id).await
    }

    /// The user's password in the app: `None` when none is set, `NotFound` when the user is
    /// not a member of the app.
    pub async fn password(
        &self,
        app: &AppId,
        user_id: &UserId,
    ) -> Result<Option<StoredPassword>, StoreError> {
        let mut db = self.backend().read().await?;
        if !passwords::is_member(&mut db, &self.key, app, user_id).await? {
            return Err(StoreError::NotFound);
        }
        passwords::get_password(&mut db, &self.key, app, user_id).await
    }

    /// Stores a first password, with `username` as the app-level login name when given, in
    /// one transaction. `NotFound`: not a member; `Conflict(Username)`: the name is taken;
    /// `Conflict(Other)`: a password is set already.
    pub async fn add_password(
        &self,
        app: &AppId,
        user_id: &UserId,
        username: Option<&str>,
        new: &NewPassword,
    ) -> Result<(), StoreError> {
        in_tx!(self.backend(), db => {
            if !passwords::is_member(&mut db, &self.key, app, user_id).await? {
                return Err(StoreError::NotFound);
            }
            if let Some(name) = username {
                users_write::set_username(&mut db, &self.key, app, user_id, name).await?;
            }
            passwords::insert_password(&mut db, &self.key, app, user_id, new).await?
        })
    }

    /// Replaces the password that was set at `expected`; `NotFound` when there is none, or
    /// it changed meanwhile.
    pub async fn replace_password(
        &self,
        app: &AppId,
        user_id: &UserId,
        expected: i64,
        new: &NewPassword,
    ) -> Result<(), StoreError> {
        let mut db = self.backend().write().await?;
        passwords::replace_password(&mut db, &self.key, app, user_id, expected, new).await
    }

    /// Writes the failed-login state of the user's password in the app.
    pub async fn record_login_failure(
        &self,
        app: &AppId,
        user_id: &UserId,
        failures: &Failures,
    ) -> Result<(), StoreError> {
        let mut db = self.backend().write().await?;
        passwords::set_failures(&mut db, &self.key, app, user_id, failures).await
    }

    /// A successful login, in one transaction: the failures start over, `last_auth` moves
    /// to `now`, a `Pending` user becomes `Active`, and the sign-in identity is recorded.
    pub async fn record_login(
        &self,
        app: &AppId,
        user_id: &UserId,
        identity: &Identity,
        now: i64,
    ) -> Result<UserView, Error> {
        let scope = Scope::Members(app.clone());
        in_tx!(self.backend(), db => {
            passwords::set_failures(&mut db, &self.key, app, user_id, &Failures::default()).await?;
            users_write::record_identity(&mut db, &self.key, user_id, identity).await?;
            users_write::update_user(&mut db, &self.key, &scope, user_id, |user, _| {
                user.last_auth = Some(now);
                if user.status == UserStatus::Pending {
                    user.status = UserStatus::Active;
                    user.status_changed_at = now;
                }
                Ok(())
            })
            .await?
        })
    }

    /// Stores a new session's refresh token (its digest), as the first of its family; the
    /// user's expired tokens in the app go, and its oldest sessions past the cap end.
    pub async fn start_session(
        &self,
        app: &AppId,
        client_id: &ClientId,
        user_id: &UserId,
        digest: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let family_id = ClientId::generate().into_string();
        let token = refresh_tokens::NewToken {
            digest,
            user_id,
            app_id: app,
            client_id,
            family_id: &family_id,
            expires_at: now + REFRESH_TTL_MS,
            now,
        };
        in_tx!(self.backend(), db => {
            refresh_tokens::prune_sessions(&mut db, &self.key, user_id, app, now).await?;
            refresh_tokens::insert(&mut db, &self.key, &token).await?
        })
    }

    /// Exchanges the refresh token with digest `presented` for `next`, in one transaction;
    /// a token presented after it was exchanged revokes its whole family.
    pub async fn rotate_refresh_token(
        &self,
        client_id: &ClientId,
        presented: &str,
        next: &str,
        now: i64,
    ) -> Result<Rotation, StoreError> {
        in_tx!(self.backend(), db => {
            refresh_tokens::rotate(&mut db, &self.key, client_id, presented, next, now, REFRESH_TTL_MS).await?
        })
    }
}
