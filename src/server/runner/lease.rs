//! Leases make "running" honest: a row is running only while somebody renews its lease.
//! When a process dies, its leases expire and the sweeper turns those rows into
//! `error`/`INTERRUPTED`, closing their attempts, so nothing stays running forever.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::InFlight;
use crate::server::db::{self, now_ms, Db};

pub fn spawn_sweeper(db: Db, lease: Duration, shutdown: CancellationToken) {
    let every = (lease / 2).clamp(Duration::from_millis(200), Duration::from_secs(10));
    tokio::spawn(async move {
        loop {
            if let Err(err) = sweep_once(&db).await {
                tracing::error!(%err, "lease sweep failed; will try again");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    });
}

/// One pass: expire leases (their jobs are recomputed in the same transaction).
pub async fn sweep_once(db: &Db) -> sqlx::Result<usize> {
    let jobs = db::executions::sweep_expired_leases(db).await?;
    if !jobs.is_empty() {
        tracing::warn!(jobs = ?jobs, "recovered executions whose worker stopped");
    }
    Ok(jobs.len())
}

/// Keeps the leases of this instance's calls in flight, all of them in one statement every
/// quarter of a lease, from a thread of its own with a runtime and a database connection of its
/// own (SAFETY.md §3): however busy the server's threads and its connection pool are with
/// reads, renewals go out on time, so no live call is ever swept as interrupted.
///
/// The thread holds nothing of the server's once connected, and only a weak reference to the
/// calls in flight: when the server is dropped without being stopped (an embedding process or
/// a test that ends), the keeper notices and exits, closing its connection.
pub fn spawn_keeper(db: Db, lease: Duration, in_flight: Arc<InFlight>, stop: CancellationToken) {
    let in_flight = Arc::downgrade(&in_flight);
    // Four renewals per lease: a renewal may be late by three quarters of a lease before the
    // sweeper could take the row.
    let every = (lease / 4).max(Duration::from_millis(100));
    let spawned = std::thread::Builder::new().name("beacon-leases".into()).spawn(move || {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(err) => return tracing::error!(%err, "could not start the lease keeper"),
        };
        runtime.block_on(async move {
            // Connections made here belong to this thread's runtime and are polled by it alone.
            let shared = db;
            let db = loop {
                match shared.with_own_connections(1).await {
                    Ok(db) => break db,
                    Err(err) => {
                        tracing::error!(%err, "the lease keeper could not connect; trying again");
                        tokio::select! {
                            _ = tokio::time::sleep(every) => {}
                            _ = stop.cancelled() => return,
                        }
                    }
                }
            };
            drop(shared);
            // Claims found taken: renewing them again would be pointless.
            let mut lost: HashSet<String> = HashSet::new();
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stop.cancelled() => return,
                }
                let Some(in_flight) = in_flight.upgrade() else { return };
                let claims: Vec<String> = {
                    let in_flight = in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    in_flight.values().map(|(claimed, _)| claimed.claim.clone()).collect()
                };
                lost.retain(|claim| claims.contains(claim));
                let claims: Vec<String> = claims.into_iter().filter(|claim| !lost.contains(claim)).collect();
                if claims.is_empty() {
                    continue;
                }
                let until = now_ms() + lease.as_millis() as i64;
                match db::executions::renew_leases(&db, &claims, until).await {
                    Ok(held) => {
                        let held: HashSet<String> = held.into_iter().collect();
                        for claim in claims.into_iter().filter(|claim| !held.contains(claim)) {
                            tracing::info!(%claim, "a call's claim was taken (cancelled or swept); its answer will be kept as late");
                            lost.insert(claim);
                        }
                    }
                    Err(err) => tracing::warn!(%err, "could not renew leases; will try again"),
                }
            }
        });
    });
    if let Err(err) = spawned {
        tracing::error!(%err, "could not start the lease keeper thread");
    }
}
