use clap::Parser;
use roster_server::cli::{Cli, Command};
use roster_server::config::Config;
use roster_server::{admin, seed, serve, telemetry};
use std::process::ExitCode;

/// jemalloc with its background purging: memory freed after a burst of large requests
/// goes back to the system within seconds instead of staying in the allocator's arenas.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(&cli.options) {
        Ok(c) => c,
        Err(reason) => {
            eprintln!("roster: {reason}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format, &config.log_level);
    #[cfg(not(target_env = "msvc"))]
    if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
        tracing::warn!(error = %e, "freed memory is returned only as the allocator is used");
    }
    // At least two workers: the SQLite writer's holder can block one on another process's
    // lock (up to the busy timeout), and every other request must still be served.
    let workers = std::env::var("TOKIO_WORKER_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(2)
        .max(2);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("roster: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve => serve::run(config).await,
            Command::Migrate => {
                let store = serve::open_store(&config).await?;
                store.close().await;
                eprintln!("roster: database is up to date");
                Ok(())
            }
            Command::Admin(command) => admin::run(command, &config).await,
            Command::Seed { file } => seed::run(&file, &config).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => match e.downcast_ref::<seed::Invalid>() {
            Some(invalid) => {
                eprintln!("{invalid}");
                ExitCode::from(2)
            }
            None => {
                eprintln!("roster: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}
