//! A SQLite connection lent to one operation: the writer, or a reader.

use super::readers::{Reader, Readers};
use crate::error::map_sqlite_error;
use roster_core::StoreError;
use rusqlite::Connection;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a write waits for another process's lock before answering 503 (SQLite's busy
/// timeout, waited here with async sleeps so the worker thread goes on serving).
const BUSY_WAIT: Duration = Duration::from_secs(5);

pub(crate) struct SqliteConn<'a> {
    handle: Handle<'a>,
}

enum Handle<'a> {
    /// The writer, the generation counter to bump when done with it, and whether it was
    /// used (a release that wrote nothing leaves readers' snapshots valid).
    Writer {
        conn: tokio::sync::MutexGuard<'a, Connection>,
        generation: &'a AtomicU64,
        used: std::cell::Cell<bool>,
    },
    Reader(Option<Reader>, &'a Readers),
}

impl<'a> SqliteConn<'a> {
    pub(super) fn writer(
        conn: tokio::sync::MutexGuard<'a, Connection>,
        generation: &'a AtomicU64,
    ) -> Self {
        Self {
            handle: Handle::Writer {
                conn,
                generation,
                used: std::cell::Cell::new(false),
            },
        }
    }

    pub(super) fn reader(reader: Reader, readers: &'a Readers) -> Self {
        Self {
            handle: Handle::Reader(Some(reader), readers),
        }
    }

    pub(crate) fn connection(&self) -> &Connection {
        match &self.handle {
            Handle::Writer { conn, used, .. } => {
                used.set(true);
                conn
            }
            Handle::Reader(Some(r), _) => &r.conn,
            // Only `Drop` empties it.
            Handle::Reader(None, _) => unreachable_reader(),
        }
    }

    /// Begins a transaction on the writer that takes the write lock up front, so that it
    /// never fails half-way on another process's lock.
    pub(crate) async fn begin_immediate(&mut self) -> Result<(), StoreError> {
        self.run(|conn| {
            conn.execute_batch("BEGIN IMMEDIATE")
                .map_err(map_sqlite_error)
        })
        .await
    }

    /// Runs `step` on the connection. On the writer outside a transaction, a lock held by
    /// another process (`Busy`, which the writer reports at once) is waited for with async
    /// sleeps, up to `BUSY_WAIT`; such a step took no effect, so trying it again is safe.
    /// Inside a transaction begun with `BEGIN IMMEDIATE` the lock is already held.
    pub(crate) async fn run<T>(
        &mut self,
        step: impl Fn(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let waits = matches!(&self.handle, Handle::Writer { conn, .. } if conn.is_autocommit());
        let deadline = Instant::now() + BUSY_WAIT;
        let mut pause = Duration::from_millis(1);
        loop {
            match step(self.connection()) {
                Err(StoreError::Busy) if waits && Instant::now() < deadline => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                done => return done,
            }
        }
    }

    /// Commits the writer's transaction.
    pub(crate) fn commit(self) -> Result<(), StoreError> {
        match &self.handle {
            Handle::Writer { conn, .. } if !conn.is_autocommit() => {
                conn.execute_batch("COMMIT").map_err(map_sqlite_error)
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
            Handle::Writer {
                conn,
                generation,
                used,
            } => {
                // A transaction left open (an error, or a dropped future) is rolled back
                // before the connection serves anyone else.
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                // Before the caller answers: readers must take a new snapshot.
                if used.get() {
                    generation.fetch_add(1, Ordering::Release);
                }
            }
            Handle::Reader(r, readers) => {
                if let Some(r) = r.take() {
                    readers.give_back(r);
                }
            }
        }
    }
}
