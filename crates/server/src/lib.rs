//! The `roster` binary's pieces: command line, configuration, telemetry, bootstrap, serving.

pub mod admin;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod connections;
pub mod seed;
pub mod serve;
pub mod telemetry;
