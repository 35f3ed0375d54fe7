//! HTTP behaviour through the real router.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod apps;
mod auth;
mod device_keys;
mod envelope;
mod groups;
mod login;
mod password_limits;
mod passwords;
mod revocation;
mod throttle;
mod tokens;
mod users;
mod users_bulk;
mod users_concurrency;
mod users_contacts;
mod users_create;
mod users_link;
mod users_list;
mod users_lookup;
mod users_membership;
mod users_search;
mod users_update;
