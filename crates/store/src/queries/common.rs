//! Helpers every query file uses.

use crate::db::{Arg, Db};
use crate::error::json_error;
use roster_core::StoreError;

/// Runs a `DELETE` that must remove something: `NotFound` when it removed nothing.
pub(crate) async fn delete_some(
    db: &mut Db<'_>,
    sql: &str,
    args: &[Arg<'_>],
) -> Result<(), StoreError> {
    match db.execute(sql, args).await? {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(json_error)
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(json_error)
}

pub(crate) async fn ping(db: &mut Db<'_>) -> Result<(), StoreError> {
    db.query("SELECT 1 AS one", &[]).await.map(|_| ())
}

/// `$from, $from+1, ...`: `n` numbered placeholders.
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
