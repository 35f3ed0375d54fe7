//! Serving HTTP/1.1 connections with limits: a cap on open connections that fits the
//! file-descriptor limit, a reserve past the cap that still answers `/healthz`, and
//! connections closed when they stay silent (see [`activity`]).

mod activity;
mod io;

use crate::config::ConnectionLimits;
use activity::Activity;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::server::graceful::GracefulShutdown;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Semaphore};
use tower::ServiceExt;

/// Connections open past the cap, each serving only `/healthz`, briefly; a new one
/// closes the oldest.
const RESERVE: usize = 32;
/// Descriptors kept for everything that is not a client connection (log, database files,
/// the listener, DNS, ...), on top of the database pool and the reserve.
const SPARE_DESCRIPTORS: u64 = 64;
/// How long a reserve connection may take to send its one request.
const RESERVE_TIMEOUT: Duration = Duration::from_secs(2);

/// Raises the soft file-descriptor limit to the hard one and returns the connection cap
/// that fits under it: `configured`, or less when descriptors are short.
pub fn connection_cap(configured: u32, db_connections: u32) -> usize {
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    let kept = SPARE_DESCRIPTORS + RESERVE as u64 + 2 * u64::from(db_connections);
    let fits = limit.saturating_sub(kept).max(1);
    let cap = u64::from(configured).min(fits);
    if cap < u64::from(configured) {
        tracing::warn!(
            configured,
            cap,
            nofile = limit,
            "the file-descriptor limit lowers the connection cap"
        );
    }
    usize::try_from(cap).unwrap_or(usize::MAX)
}

/// Accepts and serves connections until `shutdown` resolves, then lets the open ones
/// finish their requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    cap: usize,
    shutdown: impl Future<Output = ()>,
) {
    let regular = Arc::new(Semaphore::new(cap));
    let mut reserve = VecDeque::with_capacity(RESERVE);
    let graceful = GracefulShutdown::new();
    let mut saturated = false;
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: wait, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Past the cap a connection takes a reserve slot, evicting the oldest reserve one
        // if need be: a health check sends its request at once, an idle flood does not.
        let (permit, evicted) = match Arc::clone(&regular).try_acquire_owned() {
            Ok(permit) => {
                saturated = false;
                (Some(permit), None)
            }
            Err(_) => {
                if !saturated {
                    tracing::warn!(cap, "connection cap reached; new connections get 503");
                    saturated = true;
                }
                if reserve.len() == RESERVE {
                    reserve.pop_front();
                }
                let (evict, evicted) = oneshot::channel::<()>();
                reserve.push_back(evict);
                (None, Some(evicted))
            }
        };
        let healthz_only = evicted.is_some();
        let _ = stream.set_nodelay(true);
        let (header_timeout, idle_timeout) = if healthz_only {
            (RESERVE_TIMEOUT, RESERVE_TIMEOUT)
        } else {
            (limits.header_timeout, limits.idle_timeout)
        };
        let activity = Activity::new();
        let io = io::Io::new(stream, Arc::clone(&activity));
        let service = {
            let activity = Arc::clone(&activity);
            let app = app.clone();
            hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                let guard = activity.begin();
                let app = app.clone();
                async move {
                    let response = if healthz_only && req.uri().path() != "/healthz" {
                        over_capacity()
                    } else if head_bytes(&req) > HEAD_MAX_BYTES {
                        headers_too_large()
                    } else {
                        app.oneshot(req)
                            .await
                            .unwrap_or_else(|e: Infallible| match e {})
                    };
                    drop(guard);
                    Ok::<_, Infallible>(response)
                }
            })
        };
        let conn = http1::Builder::new()
            .keep_alive(!healthz_only)
            .serve_connection(io, service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            tokio::select! {
                _ = conn => {}
                () = activity.expired(header_timeout, idle_timeout) => {}
                () = async {
                    match evicted {
                        Some(evicted) => drop(evicted.await),
                        None => std::future::pending().await,
                    }
                } => {}
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Largest request head taken (431 past it). hyper has its own bound on the bytes it
/// buffers, but a head that arrives whole can pass it, so this one is exact.
const HEAD_MAX_BYTES: usize = 64 * 1024;

fn head_bytes<B>(req: &hyper::Request<B>) -> usize {
    req.headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum::<usize>()
        + req.uri().path().len()
        + req.uri().query().map_or(0, str::len)
}

fn headers_too_large() -> Response {
    let body = serde_json::json!({ "message": "request headers too large", "error_code": 431 });
    (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, Json(body)).into_response()
}

fn over_capacity() -> Response {
    let body = serde_json::json!({ "message": "too many open connections", "error_code": 503 });
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}
