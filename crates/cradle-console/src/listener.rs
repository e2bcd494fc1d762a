//! The accept loop of the console: HTTP/1.1 connections served by hyper
//! with limits that a slow or silent client cannot wear down.
//!
//! - **Header-read timeout** ([`Limits::header_read`]): a connection must
//!   send a request's head within this time (also for every later request
//!   on a kept-alive connection), or it is closed.
//! - **Idle timeout** ([`Limits::idle`]): a kept-alive connection with no
//!   request in flight is closed after this long.
//! - **A cap on open connections** ([`Limits::max_connections`], by default
//!   derived from the process's open-file limit): when it is reached, the
//!   connection idle the longest (one that has no request in flight — a
//!   silent client, or a kept-alive one) is closed to make room. A health
//!   check connects and asks at once, so it is served even while thousands
//!   of silent connections arrive: they push each other out, not it.
//! - **Graceful shutdown**: when the shutdown future completes the loop
//!   stops accepting, and requests in flight finish (for at most
//!   [`Limits::drain`]).
//!
//! axum's own `serve` has no header or idle timeouts and accepts until the
//! open-file limit is exhausted, at which point `/health` cannot connect.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tower::ServiceExt;

/// How connections are bounded.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read: Duration,
    pub idle: Duration,
    pub max_connections: usize,
    /// How long shutdown waits for requests in flight.
    pub drain: Duration,
}

/// File descriptors kept free of connections: the catalog's and the state
/// database's connections, index files, the log, the model.
const RESERVED_FILES: u64 = 128;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read: Duration::from_secs(10),
            idle: Duration::from_secs(60),
            max_connections: default_max_connections(),
            drain: Duration::from_secs(10),
        }
    }
}

/// Connections the open-file limit leaves room for (raised to its hard
/// maximum first), at most 10,000.
pub fn default_max_connections() -> usize {
    let limit = raise_file_limit().unwrap_or(1024);
    usize::try_from(limit.saturating_sub(RESERVED_FILES).clamp(16, 10_000)).unwrap_or(10_000)
}

/// Raises the soft open-file limit to the hard one, as servers do; returns
/// the limit in force.
fn raise_file_limit() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let mut limit = getrlimit(Resource::Nofile);
        if let (Some(current), Some(maximum)) = (limit.current, limit.maximum)
            && current < maximum
        {
            limit.current = Some(maximum);
            if setrlimit(Resource::Nofile, limit).is_err() {
                limit.current = Some(current);
            }
        }
        limit.current
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// One open connection, as the table sees it (a clone shares the state).
#[derive(Debug, Clone)]
struct Connection {
    /// Requests in flight; 0 means idle.
    busy: Arc<AtomicUsize>,
    /// Milliseconds since the loop started at which it last became idle.
    idle_since: Arc<AtomicU64>,
    close: Arc<Notify>,
}

/// The open connections, by the order they were accepted.
#[derive(Debug, Default)]
struct Table {
    open: BTreeMap<u64, Connection>,
}

impl Table {
    /// Closes the connection idle the longest; `false` if every connection
    /// has a request in flight.
    fn shed_idlest(&mut self) -> bool {
        let idlest = self
            .open
            .iter()
            .filter(|(_, c)| c.busy.load(Ordering::Acquire) == 0)
            .min_by_key(|(id, c)| (c.idle_since.load(Ordering::Acquire), **id))
            .map(|(id, _)| *id);
        match idlest.and_then(|id| self.open.remove(&id)) {
            Some(connection) => {
                connection.close.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown`
/// completes, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let started = Instant::now();
    let now = move || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let table = Arc::new(Mutex::new(Table::default()));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let drained = Arc::new(Notify::new());
    let mut next_id = 0u64;
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors (or a connection reset before
                    // it was accepted): make room and try again shortly.
                    tracing::warn!(%error, "accept failed");
                    table.lock().unwrap_or_else(|e| e.into_inner()).shed_idlest();
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            busy: Arc::new(AtomicUsize::new(0)),
            idle_since: Arc::new(AtomicU64::new(now())),
            close: Arc::new(Notify::new()),
        };
        {
            let mut table = table.lock().unwrap_or_else(|e| e.into_inner());
            if table.open.len() >= limits.max_connections && !table.shed_idlest() {
                // Every connection is working: this one has to wait for a
                // free place, which closing it at once asks for.
                drop(stream);
                continue;
            }
            table.open.insert(next_id, connection.clone());
        }
        let id = next_id;
        next_id += 1;
        let table = table.clone();
        let router = router.clone();
        let in_flight = in_flight.clone();
        let drained = drained.clone();
        tokio::spawn(async move {
            let busy = connection.busy.clone();
            let idle_since = connection.idle_since.clone();
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let router = router.clone();
                let busy = busy.clone();
                let idle_since = idle_since.clone();
                let in_flight = in_flight.clone();
                let drained = drained.clone();
                busy.fetch_add(1, Ordering::AcqRel);
                in_flight.fetch_add(1, Ordering::AcqRel);
                async move {
                    let response = router.oneshot(request.map(Body::new)).await;
                    idle_since.store(now(), Ordering::Release);
                    busy.fetch_sub(1, Ordering::AcqRel);
                    if in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
                        drained.notify_waiters();
                    }
                    response
                }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read)
                .keep_alive(true);
            let served = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(served);
            loop {
                tokio::select! {
                    result = served.as_mut() => {
                        if let Err(error) = result {
                            tracing::debug!(%error, "connection ended with an error");
                        }
                        break;
                    }
                    () = connection.close.notified() => break,
                    () = tokio::time::sleep(limits.idle) => {
                        let idle_for = now().saturating_sub(connection.idle_since.load(Ordering::Acquire));
                        if connection.busy.load(Ordering::Acquire) == 0
                            && idle_for >= u64::try_from(limits.idle.as_millis()).unwrap_or(u64::MAX)
                        {
                            break;
                        }
                    }
                }
            }
            table
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .open
                .remove(&id);
        });
    }
    drop(listener);
    // Requests in flight finish; idle connections are closed.
    let waiting = async {
        while in_flight.load(Ordering::Acquire) > 0 {
            let notified = drained.notified();
            if in_flight.load(Ordering::Acquire) == 0 {
                break;
            }
            notified.await;
        }
    };
    let _ = tokio::time::timeout(limits.drain, waiting).await;
    let mut table = table.lock().unwrap_or_else(|e| e.into_inner());
    for connection in table.open.values() {
        connection.close.notify_one();
    }
    table.open.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(busy: usize, idle_since: u64) -> Connection {
        Connection {
            busy: Arc::new(AtomicUsize::new(busy)),
            idle_since: Arc::new(AtomicU64::new(idle_since)),
            close: Arc::new(Notify::new()),
        }
    }

    #[test]
    fn the_idlest_connection_without_a_request_is_shed_first() {
        let mut table = Table::default();
        table.open.insert(0, connection(1, 0));
        table.open.insert(1, connection(0, 50));
        table.open.insert(2, connection(0, 10));
        assert!(table.shed_idlest());
        assert!(!table.open.contains_key(&2));
        assert!(table.shed_idlest());
        assert!(!table.open.contains_key(&1));
        // Only a busy one is left: nothing is shed.
        assert!(!table.shed_idlest());
        assert!(table.open.contains_key(&0));
    }
}
