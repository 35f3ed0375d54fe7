//! The key each live tenant's rows are stored under. It is the tenant's public id until a
//! test suite resets the tenant, which moves it to a fresh key; only those moved tenants
//! are listed here. Also the wake-up of the purge of retired keys.

use crate::queries::tenants::Located;
use roster_core::TenantId;
use std::collections::HashMap;
use std::sync::{PoisonError, RwLock, RwLockWriteGuard};
use tokio::sync::Notify;

#[derive(Default)]
pub(crate) struct TenantKeys {
    moved: RwLock<Moved>,
    purge: Notify,
}

#[derive(Default)]
struct Moved {
    keys: HashMap<TenantId, TenantId>,
    /// Counts the moves made on this node: a re-read that began before one is stale.
    local: u64,
}

impl TenantKeys {
    pub(crate) fn key(&self, public: &TenantId) -> TenantId {
        let moved = self.moved.read().unwrap_or_else(PoisonError::into_inner);
        moved.keys.get(public).unwrap_or(public).clone()
    }

    fn write(&self) -> RwLockWriteGuard<'_, Moved> {
        self.moved.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn moved_to(&self, public: &TenantId, key: &TenantId) {
        let mut moved = self.write();
        moved.keys.insert(public.clone(), key.clone());
        moved.local += 1;
        self.purge.notify_one();
    }

    /// What [`Self::replace`] needs to know that no local move happened since.
    pub(crate) fn local_moves(&self) -> u64 {
        self.moved
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .local
    }

    /// Takes what the database says (after another node or process moved a tenant), as
    /// read after `local_moves` returned `seen`; a read older than a local move is dropped,
    /// since it may predate that move's commit.
    pub(crate) fn replace(&self, all: Vec<Located>, seen: u64) {
        let mut moved = self.write();
        if moved.local == seen {
            moved.keys = all.into_iter().map(|l| (l.public, l.key)).collect();
        }
    }

    /// Waits until a tenant moved on this node (at once if one moved since the last call).
    pub(crate) async fn retired(&self) {
        self.purge.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn located(public: &TenantId, key: &TenantId) -> Located {
        Located {
            public: public.clone(),
            key: key.clone(),
        }
    }

    #[test]
    fn a_re_read_older_than_a_local_move_does_not_undo_it() {
        let keys = TenantKeys::default();
        let (public, k1, k2) = (
            TenantId::generate(),
            TenantId::generate(),
            TenantId::generate(),
        );
        assert_eq!(keys.key(&public), public);
        // A re-read starts, a local reset moves the tenant, the re-read ends.
        let seen = keys.local_moves();
        keys.moved_to(&public, &k2);
        keys.replace(vec![located(&public, &k1)], seen);
        assert_eq!(keys.key(&public), k2);
        // A re-read that starts after the move is taken whole.
        let seen = keys.local_moves();
        keys.replace(vec![located(&public, &k1)], seen);
        assert_eq!(keys.key(&public), k1);
        keys.replace(vec![], keys.local_moves());
        assert_eq!(keys.key(&public), public);
    }
}
