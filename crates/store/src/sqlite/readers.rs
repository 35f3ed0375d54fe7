//! Read-only connections, reused, each keeping its snapshot (read transaction) open
//! between reads until the writer is next released.
//!
//! Beginning and ending a transaction is a good part of a point read's cost. Every
//! release of the writer bumps `generation` before its caller is answered, so a read that
//! starts after an answered write always takes a new snapshot and sees it.

use super::open::open_reader;
use crate::error::map_sqlite_error;
use roster_core::StoreError;
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a reader may keep reading one snapshot while this process writes nothing;
/// this bounds how late writes of another process on the same file are seen.
const SNAPSHOT_MAX_AGE: Duration = Duration::from_millis(500);

/// A read-only connection, with the snapshot it holds open, if any.
pub(crate) struct Reader {
    pub(super) conn: Connection,
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

pub(crate) struct Readers {
    pub(super) path: PathBuf,
    idle: Mutex<Vec<Reader>>,
    keep: usize,
    generation: Arc<AtomicU64>,
}

impl Readers {
    pub(super) fn new(path: PathBuf, keep: usize, generation: Arc<AtomicU64>) -> Self {
        Self {
            path,
            idle: Mutex::new(Vec::new()),
            keep,
            generation,
        }
    }

    /// A reader, opened if none is free; `fresh` forces a new snapshot, for reads that must
    /// see other processes' writes at once.
    pub(super) fn take(&self, fresh: bool) -> Result<Reader, StoreError> {
        let generation = self.generation.load(Ordering::Acquire);
        let pooled = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut reader = match pooled {
            Some(r) => r,
            None => Reader {
                conn: open_reader(&self.path)?,
                snapshot: None,
            },
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

    /// A snapshot gone stale while the reader was out ends now, not at its next use:
    /// idle, it would hold checkpoints back.
    pub(super) fn give_back(&self, mut reader: Reader) {
        if reader.snapshot.is_some() && !reader.fresh(self.generation.load(Ordering::Acquire)) {
            reader.end_snapshot();
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.keep {
            idle.push(reader);
        }
    }

    /// Ends the snapshots idle readers no longer need, so that checkpoints can move past
    /// them.
    pub(super) fn release_stale(&self) {
        self.release(false);
    }

    /// Ends every idle reader's snapshot: a WAL restart waits for all of them. Readers out
    /// now end theirs when given back.
    pub(super) fn release_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.release(true);
    }

    fn release(&self, all: bool) {
        let generation = self.generation.load(Ordering::Acquire);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        for reader in idle.iter_mut() {
            if reader.snapshot.is_some() && (all || !reader.fresh(generation)) {
                reader.end_snapshot();
            }
        }
    }

    pub(super) fn close(&self) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
