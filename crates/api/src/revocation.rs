//! Tokens of deleted clients and apps stop working (`DECISIONS.md`): a token's client must
//! still exist. Each node looks again at most every [`RECHECK`], so a deletion made on
//! another node shows within that time; the node that deletes forgets at once.

use roster_core::Principal;
use roster_store::Store;
use std::time::Duration;

/// How long one node trusts what it last read about a client.
pub const RECHECK: Duration = Duration::from_secs(2);
/// Clients remembered at once; the rest are read again when they next call.
const REMEMBERED: u64 = 100_000;

pub struct LiveClients {
    /// Whether each client_id (with its tenant) existed when last read.
    known: moka::sync::Cache<String, bool>,
}

impl Default for LiveClients {
    fn default() -> Self {
        Self {
            known: moka::sync::Cache::builder()
                .max_capacity(REMEMBERED)
                .time_to_live(RECHECK)
                .build(),
        }
    }
}

impl LiveClients {
    /// Whether the principal's client still exists in its tenant. A database error counts
    /// as alive: an outage must not log every caller out, and the route's own query fails
    /// anyway.
    pub async fn alive(&self, store: &Store, principal: &Principal) -> bool {
        let key = principal.client_id.as_str();
        if let Some(alive) = self.known.get(key) {
            return alive;
        }
        let alive = match store.client_credentials(key).await {
            Ok(found) => found.is_some_and(|c| c.tenant_id == principal.tenant_id),
            Err(e) => {
                tracing::warn!(error = %e, "could not check a token's client");
                return true;
            }
        };
        self.known.insert(key.to_owned(), alive);
        alive
    }

    /// Forgets every client, after a deletion on this node.
    pub fn forget(&self) {
        self.known.invalidate_all();
    }
}
