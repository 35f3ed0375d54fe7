//! `roster serve`: open the store, migrate, load keys, bootstrap, serve until a signal.

use crate::bootstrap;
use crate::config::Config;
use crate::connections;
use crate::seed;
use anyhow::Context;
use roster_api::hasher::Hasher;
use roster_api::key_file::KeyFile;
use roster_api::revocation::RECHECK;
use roster_api::routes::reset::Resets;
use roster_api::throttle::ClientThrottle;
use roster_api::{AppState, KeyRing};
use roster_core::time::Clock;
use roster_store::{Store, StoreOptions};
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;

pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(
        config.database_url.expose_secret(),
        &StoreOptions {
            max_connections: config.db_max_connections,
        },
    )
    .await
    .context("cannot open the database")?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    Ok(store)
}

pub async fn run(config: Config) -> anyhow::Result<()> {
    let started = Instant::now();
    // A bad seed is refused before anything else happens.
    let mut plan = config.seed.as_deref().map(seed::load).transpose()?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let local = listener.local_addr()?;
    let store = open_store(&config).await?;
    let keys = Arc::new(
        KeyRing::load(
            &store,
            config.public_url(local),
            key_file(&config)?.as_ref(),
        )
        .await
        .context("cannot load the token signing key")?,
    );
    let hasher = Hasher::new(config.password_hashing)
        .map_err(|e| anyhow::anyhow!("password hashing: {e}"))?;
    let mut seeded = HashMap::new();
    if let (Some(plan), Some(path)) = (&mut plan, &config.seed) {
        let ids = seed::apply(&store, &hasher, path, plan).await?;
        seeded = ids
            .into_iter()
            .zip(std::mem::take(&mut plan.tenants))
            .collect();
        tracing::info!(tenants = seeded.len(), "seed applied");
    }
    match &config.bootstrap {
        Some(creds) => {
            bootstrap::ensure_configured(&store, creds)
                .await
                .context("bootstrap failed")?;
        }
        None => {
            if let Some(creds) = bootstrap::first_start(&store)
                .await
                .context("bootstrap failed")?
            {
                bootstrap::print_generated(&creds);
            }
        }
    }
    background(&store);
    let cap = connections::connection_cap(
        config.connections.max_connections,
        config.db_max_connections,
    );
    let app = roster_api::router(AppState {
        store: store.clone(),
        keys,
        hasher: Arc::new(hasher),
        clock: Arc::new(Clock::default()),
        throttle: Arc::new(ClientThrottle::new(
            NonZeroU32::new(config.token_failure_limit).unwrap_or(NonZeroU32::MIN),
        )),
        resets: config.allow_reset.then(|| Arc::new(Resets::new(seeded))),
    });
    tracing::info!(
        addr = %local,
        database = store.backend_name(),
        startup_ms = started.elapsed().as_millis() as u64,
        "roster ready"
    );
    announce(local, config.ready_file.as_deref())?;
    let timeout = config.shutdown_timeout;
    let shutdown = async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        // Bound the drain: a stuck client must not keep the process alive forever.
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            tracing::warn!("in-flight requests did not finish in time; exiting");
            std::process::exit(1);
        });
    };
    connections::serve(listener, app, config.connections, cap, shutdown).await;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The store's upkeep: deleting the users resets leave behind (once at start too, for what
/// a crash left), and following the resets other processes on the database make (nodes on
/// PostgreSQL, a second server on a SQLite file).
fn background(store: &Store) {
    let purging = store.clone();
    tokio::spawn(async move {
        loop {
            match purging.purge_retired().await {
                Ok(_) => purging.retired_key().await,
                Err(e) => {
                    tracing::warn!(error = %e, "could not delete a reset tenant's old users");
                    tokio::time::sleep(RECHECK).await;
                }
            }
        }
    });
    let following = store.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(RECHECK).await;
            if let Err(e) = following.refresh_tenant_keys().await {
                tracing::warn!(error = %e, "could not read which tenants were reset");
            }
        }
    });
}

/// The key file's sealing key, when one is configured.
fn key_file(config: &Config) -> anyhow::Result<Option<KeyFile>> {
    let Some(path) = &config.key_file else {
        return Ok(None);
    };
    let contents = std::fs::read(path)
        .with_context(|| format!("cannot read the key file {}", path.display()))?;
    KeyFile::from_contents(&contents)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("key file {}: {e}", path.display()))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Tells a test runner where the server listens: one line on stdout and, when asked, the
/// URL in a file, written whole (a temporary file renamed) so it is never read half-done.
fn announce(
    local: std::net::SocketAddr,
    ready_file: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use std::io::Write;
    let url = format!("http://{local}");
    if let Some(path) = ready_file {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".{}.tmp", std::process::id()));
        std::fs::write(&tmp, format!("{url}\n"))
            .and_then(|()| std::fs::rename(&tmp, path))
            .with_context(|| format!("cannot write the ready file {}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    // A closed stdout is no reason to stop serving.
    let _ = writeln!(out, "roster listening on {url}").and_then(|()| out.flush());
    Ok(())
}
