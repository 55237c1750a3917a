//! What expires (SAFETY.md §5): Idempotency-Keys after 24 hours, browser sessions when their
//! week is over, failed-login records after their window. One task removes them every few
//! minutes; reads also ignore what has expired, so an answer never depends on the timing.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::server::db::{self, Db};

const EVERY: Duration = Duration::from_secs(300);

pub fn start(db: Db, stop: CancellationToken) {
    tokio::spawn(async move {
        loop {
            match db::retries::forget_expired(&db).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "removed expired idempotency keys, sessions and login failures"),
                Err(err) => tracing::warn!(%err, "could not remove expired records; will try again"),
            }
            tokio::select! {
                _ = tokio::time::sleep(EVERY) => {}
                _ = stop.cancelled() => return,
            }
        }
    });
}
