//! SQLite through `rusqlite`: WAL journal, foreign keys, one writer and a pool of
//! read-only readers, each statement run on the calling thread.

mod checkpoint;
mod conn;
mod open;
mod readers;

pub(crate) use conn::SqliteConn;

use crate::options::StoreOptions;
use open::Location;
use readers::Readers;
use roster_core::StoreError;
use rusqlite::Connection;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub(crate) struct SqliteBackend {
    /// Shared with the checkpoint thread, which restarts the WAL between two writes.
    writer: Arc<tokio::sync::Mutex<Connection>>,
    /// `None` in memory: the one connection is the database.
    readers: Option<Arc<Readers>>,
    /// Bumped whenever the writer is released after use (for readers' snapshots).
    generation: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl SqliteBackend {
    pub(crate) async fn connect(url: &str, options: &StoreOptions) -> Result<Self, StoreError> {
        let generation = Arc::new(AtomicU64::new(0));
        let (writer, readers) = match open::parse_url(url)? {
            Location::Memory => (open::open_memory()?, None),
            Location::File(path) => {
                let conn = open_writer_waiting(&path).await?;
                let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
                let keep = (options.max_connections as usize).clamp(1, cores * 2);
                let readers = Readers::new(path, keep, generation.clone());
                (conn, Some(Arc::new(readers)))
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        let writer = Arc::new(tokio::sync::Mutex::new(writer));
        if let Some(readers) = &readers {
            checkpoint::spawn(readers.clone(), writer.clone(), stop.clone())?;
        }
        Ok(Self {
            writer,
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
            match open::migrate(&mut conn) {
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
    pub(crate) async fn read(&self, fresh: bool) -> Result<SqliteConn<'_>, StoreError> {
        self.check_open()?;
        match &self.readers {
            Some(readers) => Ok(SqliteConn::reader(readers.take(fresh)?, readers)),
            None => self.write().await,
        }
    }

    /// The writer, outside a transaction. Waiting for it is asynchronous; only its holder
    /// can block a worker thread (on another process's lock, up to the busy timeout).
    pub(crate) async fn write(&self) -> Result<SqliteConn<'_>, StoreError> {
        self.check_open()?;
        let conn = self.writer.lock().await;
        self.check_open()?;
        Ok(SqliteConn::writer(conn, &self.generation))
    }

    /// The writer inside `BEGIN IMMEDIATE`.
    pub(crate) async fn begin(&self) -> Result<SqliteConn<'_>, StoreError> {
        let mut conn = self.write().await?;
        conn.begin_immediate().await?;
        Ok(conn)
    }

    pub(crate) async fn close(&self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(readers) = &self.readers {
            readers.close();
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

/// Opening can meet another process's WAL recovery or checkpoint, for which SQLite does
/// not wait: wait here, briefly.
async fn open_writer_waiting(path: &std::path::Path) -> Result<Connection, StoreError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match open::open_writer(path) {
            Err(StoreError::Unavailable(_) | StoreError::Busy) if attempt < 40 => {
                tokio::time::sleep(Duration::from_millis(25)).await
            }
            opened => return opened,
        }
    }
}
