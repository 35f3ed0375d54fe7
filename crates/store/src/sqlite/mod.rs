//! SQLite: WAL journal, foreign keys, a busy timeout, many readers and one writer.

use crate::error::map_sqlx_error;
use crate::StoreOptions;
use roster_core::user::{Created, NewUser, UserView};
use roster_core::{AppId, Error, StoreError, TenantId};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Appended to a read that a read-modify-write follows (SQLite: the single writer serialises).
const FOR_UPDATE: &str = "";
/// Whether a create that hit a unique constraint is tried once more (see `create_one`);
/// the single writer rules such races out.
const RETRY_CONFLICTS: bool = false;

/// Most creates one shared transaction takes.
const BATCH_MAX: usize = 256;

/// A create waiting for the group-commit task.
struct CreateJob {
    tenant: TenantId,
    app: Option<AppId>,
    input: NewUser,
    reply: oneshot::Sender<Result<(UserView, Created), Error>>,
}

pub struct SqliteBackend {
    read: SqlitePool,
    /// One connection: SQLite allows one writer, so queueing here beats `SQLITE_BUSY`.
    write: SqlitePool,
    creates: mpsc::Sender<CreateJob>,
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
        // The writer touches index pages all over the tables: give it a larger page cache
        // (32 MiB) than SQLite's 2 MiB default; readers get 8 MiB each.
        let write = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(connect.clone().pragma("cache_size", "-32768"))
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
                .connect_with(connect.read_only(true).pragma("cache_size", "-8192"))
                .await
                .map_err(map_sqlx_error)?
        };
        let (creates, jobs) = mpsc::channel(4 * BATCH_MAX);
        tokio::spawn(group_commit(write.clone(), jobs));
        Ok(Self {
            read,
            write,
            creates,
        })
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.write)
            .await
            .map_err(|e| StoreError::Other(format!("migration failed: {e}")))
    }

    /// Hands the create to the group-commit task and waits until its transaction is
    /// committed: concurrent creates share one transaction instead of queueing for the
    /// writer one by one.
    pub(crate) async fn create_user(
        &self,
        tenant: &TenantId,
        app: Option<&AppId>,
        input: &NewUser,
    ) -> Result<(UserView, Created), Error> {
        let closed = || Error::Unavailable("the database is closed".into());
        let (reply, answer) = oneshot::channel();
        let job = CreateJob {
            tenant: tenant.clone(),
            app: app.cloned(),
            input: input.clone(),
            reply,
        };
        self.creates.send(job).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    /// SQLite plans well enough from its schema alone; nothing to refresh.
    fn after_inserts(&self, _rows: usize) {}

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

/// Takes whatever creates are waiting (up to `BATCH_MAX`), writes each tenant-and-app group
/// in one transaction, and answers every job after its commit.
async fn group_commit(pool: SqlitePool, mut jobs: mpsc::Receiver<CreateJob>) {
    let mut waiting = Vec::with_capacity(BATCH_MAX);
    while jobs.recv_many(&mut waiting, BATCH_MAX).await > 0 {
        let mut pending = std::mem::take(&mut waiting);
        while let Some(first) = pending.first() {
            let (tenant, app) = (first.tenant.clone(), first.app.clone());
            let (group, rest): (Vec<_>, Vec<_>) = pending
                .into_iter()
                .partition(|j| j.tenant == tenant && j.app == app);
            pending = rest;
            if let [job] = group.as_slice() {
                // Alone: its own transaction, without the batch's savepoint.
                let result =
                    generated_users::create_one(&pool, &tenant, app.as_ref(), &job.input).await;
                if let Some(job) = group.into_iter().next() {
                    let _ = job.reply.send(result);
                }
                continue;
            }
            let outcome = {
                let inputs: Vec<&NewUser> = group.iter().map(|j| &j.input).collect();
                generated_users::create_batch(&pool, &tenant, app.as_ref(), &inputs).await
            };
            match outcome {
                Ok(results) => {
                    for (job, result) in group.into_iter().zip(results) {
                        // The caller may have gone; the user is created all the same.
                        let _ = job.reply.send(result);
                    }
                }
                Err(e) => {
                    for job in group {
                        let _ = job.reply.send(Err(e.clone()));
                    }
                }
            }
        }
    }
}
