//! Copies committed WAL frames into the database file in the background, so that no
//! request waits for the fsync a checkpoint needs.

use super::open::open_checkpointer;
use super::readers::Readers;
use roster_core::StoreError;
use rusqlite::Connection;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// How often the background checkpoint moves the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// A WAL longer than this many pages is restarted once a passive copy has caught up with
/// it: the restart then copies and syncs little while it holds the writer.
const RESTART_AFTER_PAGES: i64 = 16 * 1024;

/// A WAL longer than this is restarted even when the passive copy is behind. Under steady
/// writes a passive checkpoint never catches up with the writer, so the WAL only grows,
/// and with it every read's search of the WAL index (gigabytes after a million
/// bulk-created users); the restart then copies the rest and syncs while writes wait.
const FORCE_RESTART_AFTER_PAGES: i64 = 4 * RESTART_AFTER_PAGES;

/// How long a restart waits for readers of older snapshots; writes wait meanwhile, so a
/// reader busy with a long scan only puts the restart off to a later round.
const RESTART_WAIT: Duration = Duration::from_millis(100);

/// Copies what it can without waiting. When the WAL has grown long, it takes the writer
/// between two transactions (a restart cannot win the lock from a busy writer), restarts
/// the WAL from there and cuts its file to nothing: left to the next write, shrinking a
/// large WAL file would happen inside that write's commit.
fn checkpoint(
    conn: &Connection,
    writer: &Mutex<Connection>,
    readers: &Readers,
) -> rusqlite::Result<()> {
    let (pages, copied): (i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(1)?, r.get(2)?))
        })?;
    if !restart_due(pages, copied) {
        return Ok(());
    }
    let writer = writer.blocking_lock();
    // Idle readers keep their snapshots open between reads; a restart waits for all.
    readers.release_all();
    writer.busy_timeout(RESTART_WAIT)?;
    let blocked = writer.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
        r.get::<_, i64>(0)
    });
    writer.busy_timeout(Duration::ZERO)?;
    if blocked? != 0 {
        // A reader still used the WAL after the wait: the next round tries again.
        tracing::debug!(pages, "WAL restart put off by a reader");
    }
    Ok(())
}

/// Whether a WAL of `pages`, of which a passive checkpoint has copied `copied`, is to be
/// restarted now.
fn restart_due(pages: i64, copied: i64) -> bool {
    pages > FORCE_RESTART_AFTER_PAGES || (pages > RESTART_AFTER_PAGES && copied >= pages)
}

/// Also ends idle readers' stale snapshots, which would hold the checkpoint back.
pub(super) fn spawn(
    readers: Arc<Readers>,
    writer: Arc<Mutex<Connection>>,
    stop: Arc<AtomicBool>,
) -> Result<(), StoreError> {
    let conn = open_checkpointer(&readers.path)?;
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(CHECKPOINT_EVERY);
                readers.release_stale();
                if let Err(e) = checkpoint(&conn, &writer, &readers) {
                    tracing::warn!(error = %e, "WAL checkpoint failed");
                }
            }
        })
        .map_err(|e| StoreError::Other(format!("cannot start the checkpoint thread: {e}")))?;
    Ok(())
}
