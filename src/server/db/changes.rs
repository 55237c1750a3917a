//! The change log (see migrations/0004): what changed, in order, for live streams.

use crate::domain::JobId;

use super::Db;

/// The newest change's sequence number (0 when nothing ever changed).
pub async fn latest_seq(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM changes").fetch_one(&db.pool).await
}

/// The oldest change still kept; a cursor before it cannot be caught up change by change.
pub async fn oldest_seq(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COALESCE(MIN(seq), 0) FROM changes").fetch_one(&db.pool).await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Change {
    pub seq: i64,
    pub job_id: JobId,
    pub execution_id: Option<i64>,
}

/// Changes after `after`, oldest first, at most `limit`.
pub async fn after(db: &Db, after: i64, limit: i64) -> sqlx::Result<Vec<Change>> {
    sqlx::query_as("SELECT seq, job_id, execution_id FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2")
        .bind(after)
        .bind(limit)
        .fetch_all(&db.pool)
        .await
}

/// Changes of one job after `after`, oldest first, at most `limit`.
pub async fn after_for_job(db: &Db, job_id: &JobId, after: i64, limit: i64) -> sqlx::Result<Vec<Change>> {
    sqlx::query_as("SELECT seq, job_id, execution_id FROM changes WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
        .bind(job_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&db.pool)
        .await
}

/// Keeps the newest `keep` changes.
pub async fn prune(db: &Db, keep: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM changes WHERE seq <= (SELECT MAX(seq) FROM changes) - $1").bind(keep).execute(&db.pool).await?;
    Ok(done.rows_affected())
}
