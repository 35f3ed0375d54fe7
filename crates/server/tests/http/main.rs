//! HTTP behaviour through the real router.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod apps;
mod auth;
mod envelope;
mod tokens;
