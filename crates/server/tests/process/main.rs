//! The real `roster` binary: bootstrap, configuration, signals, two nodes sharing one
//! PostgreSQL database, whole client flows, and hostile clients.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod flows;
mod harness;
mod hostile;
mod key_file;
mod lifecycle;
mod ready;
mod seed;
