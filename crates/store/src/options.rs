//! Connection settings beyond the URL.

#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Pool size for PostgreSQL, and for SQLite readers (SQLite has one writer).
    pub max_connections: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
        }
    }
}
