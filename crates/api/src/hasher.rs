//! Argon2id off the async executor: every hash and verification runs on the blocking pool,
//! at most one per core at a time, so that a flood of logins queues here instead of
//! starving the requests that need no hashing.

use roster_core::password::{verify, HashParams, Password, PasswordHash};
use std::sync::Arc;
use tokio::sync::Semaphore;

pub struct Hasher {
    params: HashParams,
    permits: Arc<Semaphore>,
}

impl Hasher {
    pub fn new(params: HashParams) -> Result<Self, String> {
        params.validate()?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(cores)),
        })
    }

    pub fn params(&self) -> HashParams {
        self.params
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let permit = self.permits.clone().acquire_owned().await.ok()?;
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .ok()
    }

    /// A new hash with a fresh salt; `None` only if the worker failed.
    pub async fn hash(&self, password: Password) -> Option<PasswordHash> {
        let params = self.params;
        self.run(move || params.hash(&password).ok())
            .await
            .flatten()
    }

    /// Whether `password` matches any of `hashes` (the current password and its history).
    pub async fn matches_any(&self, hashes: Vec<PasswordHash>, password: Password) -> bool {
        if hashes.is_empty() {
            return false;
        }
        self.run(move || hashes.iter().any(|h| verify(h, &password)))
            .await
            .unwrap_or(false)
    }
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("params", &self.params)
            .finish()
    }
}
