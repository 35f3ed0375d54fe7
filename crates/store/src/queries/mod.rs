//! Queries, written once for both backends over [`Db`](crate::db::Db), one file per
//! resource. Each function runs on the connection or transaction it is given; the caller
//! decides which.

pub(crate) mod apps;
pub(crate) mod clients;
pub(crate) mod common;
pub(crate) mod device_keys;
pub(crate) mod filter_sql;
pub(crate) mod groups;
pub(crate) mod keys;
pub(crate) mod passwords;
pub(crate) mod refresh_tokens;
pub(crate) mod retired;
pub(crate) mod seed;
pub(crate) mod tenants;
pub(crate) mod users_create;
pub(crate) mod users_read;
pub(crate) mod users_write;
