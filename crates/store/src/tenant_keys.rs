//! The key each live tenant's rows are stored under. It is the tenant's public id until a
//! test suite resets the tenant, which moves it to a fresh key; only those moved tenants
//! are listed here. Also the wake-up of the purge of retired keys.

use crate::queries::tenants::Located;
use roster_core::TenantId;
use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use tokio::sync::Notify;

#[derive(Default)]
pub(crate) struct TenantKeys {
    moved: RwLock<HashMap<TenantId, TenantId>>,
    purge: Notify,
}

impl TenantKeys {
    pub(crate) fn key(&self, public: &TenantId) -> TenantId {
        let moved = self.moved.read().unwrap_or_else(PoisonError::into_inner);
        moved.get(public).unwrap_or(public).clone()
    }

    pub(crate) fn moved_to(&self, public: &TenantId, key: &TenantId) {
        let mut moved = self.moved.write().unwrap_or_else(PoisonError::into_inner);
        moved.insert(public.clone(), key.clone());
        self.purge.notify_one();
    }

    /// Takes what the database says, after another node or process moved a tenant.
    pub(crate) fn replace(&self, all: Vec<Located>) {
        let all = all.into_iter().map(|l| (l.public, l.key)).collect();
        *self.moved.write().unwrap_or_else(PoisonError::into_inner) = all;
    }

    /// Waits until a tenant moved on this node (at once if one moved since the last call).
    pub(crate) async fn retired(&self) {
        self.purge.notified().await;
    }
}
