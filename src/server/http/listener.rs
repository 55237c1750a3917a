//! The accept loop. `axum::serve` offers neither a header-read time-out nor a way to let
//! connections drain after the runner has finished, so Beacon drives hyper itself: a client
//! that stops in the middle of its headers is dropped after [`HEADER_READ_TIMEOUT`], and on
//! shutdown open connections finish their current request and close.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::server::conn::http1::Builder;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// SAFETY.md §3: a client that stops sending its request headers is disconnected in 30 s; so
/// is one that opens a connection and sends nothing at all (hyper's own time-out starts only
/// with the first byte, and idle connections once held every file descriptor).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections one address may hold open at once; a trusted proxy's many clients share its
/// address, so trusted proxies are not counted.
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 256;
/// How long open connections get to finish after the listener closed.
const DRAIN: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `stop` is cancelled, then lets open connections finish
/// (live streams end on their own, from the same signal) for up to [`DRAIN`].
pub async fn serve(listener: TcpListener, app: Router, stop: CancellationToken, trusted_proxies: Vec<ipnet::IpNet>) {
    // HTTP/1 only, and hyper's HTTP/1 connection itself rather than the auto-detecting one:
    // the header-read time-out is an HTTP/1 setting, and while detecting the version a
    // connection that sent only "P" (HTTP/2's preface begins so) waited forever. Without TLS
    // browsers speak HTTP/1 anyway (a TLS proxy in front may speak HTTP/2 to clients).
    let mut builder = Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    let per_address = ConnectionCounts::default();
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(%err, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.cancelled() => break,
        };
        let trusted = trusted_proxies.iter().any(|net| net.contains(&remote.ip()));
        let Some(counted) = (if trusted { Some(None) } else { per_address.open(remote.ip()).map(Some) }) else {
            // Over its share: closed at once, before it costs more than a descriptor.
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = app.clone().map_request(move |mut request: axum::extract::Request<_>| {
            request.extensions_mut().insert(ConnectInfo::<SocketAddr>(remote));
            request
        });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _counted = counted;
            // A connection that says nothing is not kept.
            let mut first = [0u8; 1];
            match tokio::time::timeout(HEADER_READ_TIMEOUT, stream.peek(&mut first)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return,
            }
            let connection = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            // Resets and time-outs of single connections are the client's business.
            let _ = watcher.watch(connection).await;
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("some connections were still open after {DRAIN:?}; closing them");
    }
}

/// Open connections per client address.
#[derive(Clone, Default)]
struct ConnectionCounts(std::sync::Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>);

/// One counted connection; dropping it (the connection ended) frees its place.
struct Counted {
    counts: ConnectionCounts,
    address: std::net::IpAddr,
}

impl ConnectionCounts {
    fn open(&self, address: std::net::IpAddr) -> Option<Counted> {
        let mut counts = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let open = counts.entry(address).or_insert(0);
        if *open >= MAX_CONNECTIONS_PER_ADDRESS {
            return None;
        }
        *open += 1;
        Some(Counted { counts: self.clone(), address })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(open) = counts.get_mut(&self.address) {
            *open -= 1;
            if *open == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_its_share_of_connections() {
        let counts = ConnectionCounts::default();
        let a: std::net::IpAddr = [10, 0, 0, 1].into();
        let held: Vec<Counted> = (0..MAX_CONNECTIONS_PER_ADDRESS).map(|_| counts.open(a).unwrap()).collect();
        assert!(counts.open(a).is_none());
        assert!(counts.open([10, 0, 0, 2].into()).is_some(), "others are not affected");
        drop(held);
        let _again = counts.open(a).unwrap();
        assert_eq!(counts.0.lock().unwrap().get(&a), Some(&1));
    }
}
