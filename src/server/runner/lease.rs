//! Leases make "running" honest: a row is running only while somebody renews its lease.
//! When a process dies, its leases expire and the sweeper turns those rows into
//! `error`/`INTERRUPTED`, closing their attempts, so nothing stays running forever.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::server::db::{self, Db};

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
