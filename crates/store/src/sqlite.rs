//! SQLite through `rusqlite`: WAL journal, foreign keys, one writer and a pool of
//! read-only readers, each statement run on the calling thread.

use crate::db::{Db, Savepoint};
use crate::error::map_sqlite_error;
use crate::queries::users;
use crate::StoreOptions;
use roster_core::user::{Created, NewUser, UserView};
use roster_core::{AppId, Error, StoreError, TenantId};
use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{Migrations, M};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Statements kept prepared per connection: list queries vary with their options.
const STATEMENT_CACHE: usize = 256;
/// How often the background checkpoint moves the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../migrations/sqlite/0001_foundation.sql")),
        M::up(include_str!("../migrations/sqlite/0002_users.sql")),
    ])
}

/// Where the database lives, from a `sqlite:` URL.
enum Location {
    Memory,
    File(PathBuf),
}

fn parse_url(url: &str) -> Result<Location, StoreError> {
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

/// How much of the database file each reader maps into memory (64 MiB): the mapped pages
/// it touches count in the process's resident memory, so this bounds it.
const MMAP_SIZE: i64 = 64 << 20;

/// How long a reader may keep reading one snapshot while this process writes nothing;
/// this bounds how late writes of another process on the same file are seen.
const SNAPSHOT_MAX_AGE: Duration = Duration::from_millis(500);

/// A read-only connection, with the snapshot (read transaction) it holds open, if any.
struct Reader {
    conn: Connection,
    /// The write generation when the snapshot began, and when that was.
    snapshot: Option<(u64, Instant)>,
}

impl Reader {
    fn end_snapshot(&mut self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("COMMIT");
        }
        self.snapshot = None;
    }

    /// Whether the snapshot may still serve: nothing was written through this process's
    /// writer since it began, and it is young.
    fn fresh(&self, generation: u64) -> bool {
        matches!(self.snapshot, Some((g, at)) if g == generation && at.elapsed() < SNAPSHOT_MAX_AGE)
            && !self.conn.is_autocommit()
    }
}

/// The writer connection: WAL with NORMAL sync survives a crash of the process (only power
/// loss can drop the last commits); a larger page cache (16 MiB), since the writer touches
/// index pages all over the tables; checkpoints left to their own thread.
fn open_writer(path: &std::path::Path) -> Result<Connection, StoreError> {
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
    Ok(conn)
}

/// Read-only connections, reused; a read that finds none free opens one.
///
/// A reader keeps its read transaction open between reads until the writer commits
/// again: beginning and ending a transaction is a good part of a point read's cost.
/// Every write through the writer bumps `generation` before its caller is answered, so a
/// read that starts after an answered write always sees it.
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Reader>>,
    keep: usize,
    generation: Arc<AtomicU64>,
}

impl Readers {
    /// A reader; `fresh` forces a new snapshot, for reads that must see other processes'
    /// writes at once.
    fn take(&self, fresh: bool) -> Result<Reader, StoreError> {
        let generation = self.generation.load(Ordering::Acquire);
        let pooled = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut reader = match pooled {
            Some(r) => r,
            None => {
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let conn =
                    Connection::open_with_flags(&self.path, flags).map_err(map_sqlite_error)?;
                configure(&conn, 8 * 1024)?;
                // Readers map the file: a page the cache misses costs no system call.
                conn.pragma_update(None, "mmap_size", MMAP_SIZE)
                    .map_err(map_sqlite_error)?;
                Reader {
                    conn,
                    snapshot: None,
                }
            }
        };
        if fresh || !reader.fresh(generation) {
            reader.end_snapshot();
            // The snapshot itself is taken by the first read, after `generation` was read.
            reader
                .conn
                .execute_batch("BEGIN")
                .map_err(map_sqlite_error)?;
            reader.snapshot = Some((generation, Instant::now()));
        }
        Ok(reader)
    }

    fn give_back(&self, reader: Reader) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.keep {
            idle.push(reader);
        }
    }

    /// Ends the snapshots idle readers no longer need, so that checkpoints can move past
    /// them.
    fn release_stale(&self) {
        let generation = self.generation.load(Ordering::Acquire);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        for reader in idle.iter_mut() {
            if reader.snapshot.is_some() && !reader.fresh(generation) {
                reader.end_snapshot();
            }
        }
    }
}

/// A SQLite connection lent to one operation: the writer, or a reader.
pub(crate) struct SqliteConn<'a> {
    handle: Handle<'a>,
}

enum Handle<'a> {
    /// The writer, and the generation counter to bump when done with it.
    Writer(tokio::sync::MutexGuard<'a, Connection>, &'a AtomicU64),
    Reader(Option<Reader>, &'a Readers),
}

impl SqliteConn<'_> {
    pub(crate) fn connection(&self) -> &Connection {
        match &self.handle {
            Handle::Writer(c, _) => c,
            Handle::Reader(Some(r), _) => &r.conn,
            // Only `Drop` empties it.
            Handle::Reader(None, _) => unreachable_reader(),
        }
    }

    /// Commits the writer's transaction.
    pub(crate) fn commit(self) -> Result<(), StoreError> {
        match &self.handle {
            Handle::Writer(c, _) if !c.is_autocommit() => {
                c.execute_batch("COMMIT").map_err(map_sqlite_error)
            }
            _ => Ok(()),
        }
    }
}

#[allow(clippy::panic)]
fn unreachable_reader() -> ! {
    panic!("a reader connection was used after it was returned")
}

impl Drop for SqliteConn<'_> {
    fn drop(&mut self) {
        match &mut self.handle {
            Handle::Writer(c, generation) => {
                // A transaction left open (an error, or a dropped future) is rolled back
                // before the connection serves anyone else.
                if !c.is_autocommit() {
                    let _ = c.execute_batch("ROLLBACK");
                }
                // Before the caller answers: readers must take a new snapshot.
                generation.fetch_add(1, Ordering::Release);
            }
            Handle::Reader(r, readers) => {
                if let Some(r) = r.take() {
                    readers.give_back(r);
                }
            }
        }
    }
}

/// A create waiting for a group commit.
struct CreateJob {
    tenant: TenantId,
    app: Option<AppId>,
    input: NewUser,
    reply: tokio::sync::oneshot::Sender<Result<(UserView, Created), Error>>,
}

type Outcome = Result<(UserView, Created), Error>;

pub struct SqliteBackend {
    writer: Arc<tokio::sync::Mutex<Connection>>,
    /// Creates queued for the next holder of the writer, who commits them all at once.
    creates: Mutex<Vec<CreateJob>>,
    /// `None` in memory: the one connection is the database.
    readers: Option<Arc<Readers>>,
    /// Bumped whenever the writer is released (for readers' snapshots).
    generation: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl SqliteBackend {
    pub(crate) async fn connect(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        let location = parse_url(url)?;
        let generation = Arc::new(AtomicU64::new(0));
        let (writer, readers) = match location {
            Location::Memory => {
                let conn = Connection::open_in_memory().map_err(map_sqlite_error)?;
                configure(&conn, 32 * 1024)?;
                (conn, None)
            }
            Location::File(path) => {
                let mut attempt = 0;
                let conn = loop {
                    attempt += 1;
                    match open_writer(&path) {
                        // Opening can meet another process's WAL recovery or checkpoint,
                        // for which SQLite does not wait: wait here, briefly.
                        Err(StoreError::Unavailable(_)) if attempt < 40 => {
                            tokio::time::sleep(Duration::from_millis(25)).await
                        }
                        opened => break opened?,
                    }
                };
                let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
                let keep = (options.max_connections as usize).clamp(1, cores * 2);
                (
                    conn,
                    Some(Arc::new(Readers {
                        path,
                        idle: Mutex::new(Vec::new()),
                        keep,
                        generation: generation.clone(),
                    })),
                )
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        if let Some(readers) = &readers {
            spawn_checkpointer(readers.clone(), stop.clone())?;
        }
        Ok(Self {
            writer: Arc::new(tokio::sync::Mutex::new(writer)),
            creates: Mutex::new(Vec::new()),
            readers,
            generation,
            stop,
        })
    }

    /// Several processes may start on one file at once: a migration that loses the race
    /// fails, and is tried again against the version the winner left.
    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.writer.lock().await;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let done = adopt_earlier_migrations(&conn).and_then(|()| {
                migrations()
                    .to_latest(&mut conn)
                    .map_err(|e| StoreError::Other(format!("migration failed: {e}")))
            });
            match done {
                Err(_) if attempt < 20 => tokio::time::sleep(Duration::from_millis(50)).await,
                done => return done,
            }
        }
    }

    fn check_open(&self) -> Result<(), StoreError> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(StoreError::Unavailable("the database is closed".into()));
        }
        Ok(())
    }

    /// A connection for reads: a reader, or in memory the one connection. `fresh` takes
    /// a new snapshot, which also shows what other processes wrote a moment ago.
    pub(crate) async fn read(&self, fresh: bool) -> Result<Db<'_>, StoreError> {
        self.check_open()?;
        match &self.readers {
            Some(readers) => Ok(Db::Sqlite(SqliteConn {
                handle: Handle::Reader(Some(readers.take(fresh)?), readers),
            })),
            None => self.write().await,
        }
    }

    /// The writer, outside a transaction.
    pub(crate) async fn write(&self) -> Result<Db<'_>, StoreError> {
        self.check_open()?;
        Ok(Db::Sqlite(SqliteConn {
            handle: Handle::Writer(self.writer.lock().await, &self.generation),
        }))
    }

    /// The writer inside `BEGIN IMMEDIATE`: the write lock is taken up front, so a
    /// transaction never fails half-way on another process's lock.
    pub(crate) async fn begin(&self) -> Result<Db<'_>, StoreError> {
        self.check_open()?;
        let guard = self.writer.lock().await;
        guard
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(map_sqlite_error)?;
        Ok(Db::Sqlite(SqliteConn {
            handle: Handle::Writer(guard, &self.generation),
        }))
    }

    /// Group commit: the create joins the queue, and whoever next holds the writer writes
    /// every queued create in one transaction and answers each after the commit. Concurrent
    /// creates so share one WAL write instead of queueing for the writer one by one.
    pub(crate) async fn create_user(
        &self,
        tenant: &TenantId,
        app: Option<&AppId>,
        input: &NewUser,
    ) -> Outcome {
        let (reply, mut answer) = tokio::sync::oneshot::channel();
        self.creates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(CreateJob {
                tenant: tenant.clone(),
                app: app.cloned(),
                input: input.clone(),
                reply,
            });
        let closed = || Error::Unavailable("the database is closed".into());
        tokio::select! {
            biased;
            // An earlier holder of the writer has written this create already.
            done = &mut answer => return done.map_err(|_| closed())?,
            guard = self.writer.lock() => {
                self.check_open()?;
                let jobs = std::mem::take(&mut *self.creates.lock().unwrap_or_else(PoisonError::into_inner));
                if !jobs.is_empty() {
                    guard.execute_batch("BEGIN IMMEDIATE").map_err(map_sqlite_error)?;
                    let db = Db::Sqlite(SqliteConn { handle: Handle::Writer(guard, &self.generation) });
                    commit_group(db, jobs).await;
                }
            }
        }
        answer.await.map_err(|_| closed())?
    }

    pub(crate) async fn close(&self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(readers) = &self.readers {
            readers
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clear();
        }
        let conn = self.writer.lock().await;
        if self.readers.is_some() {
            let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
        }
    }
}

impl Drop for SqliteBackend {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A database made before migrations were tracked in `user_version` recorded them in
/// `_sqlx_migrations`; start from there.
fn adopt_earlier_migrations(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(map_sqlite_error)?;
    if version != 0 {
        return Ok(());
    }
    let tracked: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            [],
            |r| r.get(0),
        )
        .map_err(map_sqlite_error)?;
    if tracked == 0 {
        return Ok(());
    }
    let applied: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM _sqlx_migrations WHERE success",
            [],
            |r| r.get(0),
        )
        .map_err(map_sqlite_error)?;
    conn.pragma_update(None, "user_version", applied)
        .map_err(map_sqlite_error)
}

/// Copies committed WAL frames into the database file in the background, so that no
/// request waits for the fsync a checkpoint needs.
fn spawn_checkpointer(readers: Arc<Readers>, stop: Arc<AtomicBool>) -> Result<(), StoreError> {
    let conn = Connection::open_with_flags(
        &readers.path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(map_sqlite_error)?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(map_sqlite_error)?;
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(CHECKPOINT_EVERY);
                readers.release_stale();
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "WAL checkpoint failed");
                }
            }
        })
        .map_err(|e| StoreError::Other(format!("cannot start the checkpoint thread: {e}")))?;
    Ok(())
}

/// Writes queued creates, grouped by tenant and app, in the open transaction `db`, commits,
/// and only then answers them. With several groups each has a savepoint, so that a group
/// that fails takes only its own writes back.
async fn commit_group(mut db: Db<'_>, mut jobs: Vec<CreateJob>) {
    let mut answers: Vec<(CreateJob, Outcome)> = Vec::with_capacity(jobs.len());
    let mut failed = false;
    while let Some(first) = jobs.first() {
        let (tenant, app) = (first.tenant.clone(), first.app.clone());
        let (group, rest): (Vec<_>, Vec<_>) = jobs
            .into_iter()
            .partition(|j| j.tenant == tenant && j.app == app);
        jobs = rest;
        let alone = answers.is_empty() && jobs.is_empty();
        let inputs: Vec<&NewUser> = group.iter().map(|j| &j.input).collect();
        let written = if alone {
            users::create_batch(&mut db, &tenant, app.as_ref(), &inputs).await
        } else {
            match db.savepoint(Savepoint::Set, "grp").await {
                Ok(()) => users::create_batch(&mut db, &tenant, app.as_ref(), &inputs).await,
                Err(e) => Err(e.into()),
            }
        };
        let results: Vec<Outcome> = match written {
            Ok(results) => {
                if !alone {
                    let _ = db.savepoint(Savepoint::Release, "grp").await;
                }
                results
            }
            Err(e) => {
                if alone {
                    failed = true;
                } else {
                    let _ = db.savepoint(Savepoint::Undo, "grp").await;
                }
                group.iter().map(|_| Err(e.clone())).collect()
            }
        };
        answers.extend(group.into_iter().zip(results));
    }
    // A lone group that failed wrote nothing worth keeping: dropping `db` rolls back.
    let committed = if failed {
        Ok(())
    } else {
        db.commit().await.map_err(Error::from)
    };
    for (job, outcome) in answers {
        let outcome = match &committed {
            Ok(()) => outcome,
            Err(e) => Err(e.clone()),
        };
        // The caller may have gone; the user is created all the same.
        let _ = job.reply.send(outcome);
    }
}
