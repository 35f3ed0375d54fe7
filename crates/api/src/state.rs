//! Shared state of the HTTP layer: concrete, not generic over the database.

use crate::hasher::Hasher;
use crate::throttle::ClientThrottle;
use crate::tokens::KeyRing;
use roster_core::time::Clock;
use roster_store::Store;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub keys: Arc<KeyRing>,
    pub hasher: Arc<Hasher>,
    /// The time logins and password changes go by (tests move it).
    pub clock: Arc<Clock>,
    /// Failed client authentications at the token endpoint.
    pub throttle: Arc<ClientThrottle>,
    /// With `--allow-reset`: the seed to restore on `POST /roster/v1/reset`.
    pub resets: Option<Arc<crate::routes::reset::Resets>>,
}
