//! Shared state of the HTTP layer: concrete, not generic over the database.

use crate::tokens::KeyRing;
use roster_store::Store;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub keys: Arc<KeyRing>,
}
