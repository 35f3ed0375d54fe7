//! Copies committed WAL frames into the database file in the background, so that no
//! request waits for the fsync a checkpoint needs.

use super::open::open_checkpointer;
use super::readers::Readers;
use roster_core::StoreError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How often the background checkpoint moves the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Also ends idle readers' stale snapshots, which would hold the checkpoint back.
pub(super) fn spawn(readers: Arc<Readers>, stop: Arc<AtomicBool>) -> Result<(), StoreError> {
    let conn = open_checkpointer(&readers.path)?;
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
