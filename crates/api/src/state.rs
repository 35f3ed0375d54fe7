//! Shared state of the HTTP layer: concrete, not generic over the database.

use crate::hasher::Hasher;
use crate::tokens::KeyRing;
use roster_store::Store;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub keys: Arc<KeyRing>,
    pub hasher: Arc<Hasher>,
}
