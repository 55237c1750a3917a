use sqlx::FromRow;

use crate::domain::views::AttemptView;

use super::{rfc3339, Db};

/// Closes an execution's queued or running attempt (there is at most one) as `status`,
/// when its execution was taken from it: cancelled, or interrupted by a dead worker.
pub async fn close_open(
    db: &Db,
    conn: &mut sqlx::AnyConnection,
    execution_id: i64,
    status: &str,
    error: Option<(&str, &str)>,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(db.sql(
        "UPDATE execution_attempts
            SET status = ?, error_code = ?, error = ?, finished_at = ?,
                duration_ms = CASE WHEN started_at IS NULL THEN NULL ELSE ? - started_at END
          WHERE execution_id = ? AND status IN ('queued', 'running')",
    ))
    .bind(status)
    .bind(error.map(|(code, _)| code))
    .bind(error.map(|(_, message)| message))
    .bind(now)
    .bind(now)
    .bind(execution_id)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct AttemptRow {
    pub number: i64,
    pub trigger: String,
    pub status: String,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub provider_id: Option<String>,
    pub request_json: String,
    pub queued_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub duration_ms: Option<i64>,
}

impl AttemptRow {
    pub fn into_view(self) -> AttemptView {
        AttemptView {
            number: self.number,
            trigger: self.trigger,
            status: self.status,
            error_code: self.error_code,
            error: self.error,
            provider_id: self.provider_id,
            queued_at: rfc3339(self.queued_at),
            started_at: self.started_at.map(rfc3339),
            finished_at: self.finished_at.map(rfc3339),
            duration_ms: self.duration_ms,
            request: serde_json::from_str(&self.request_json).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// Every attempt of every execution of a job, by execution, oldest first.
pub async fn list_for_job(db: &Db, job_id: &str) -> sqlx::Result<Vec<(i64, AttemptRow)>> {
    let rows: Vec<JobAttemptRow> = sqlx::query_as(db.sql(
        "SELECT a.execution_id, a.number, a.trigger, a.status, a.error_code, a.error, a.provider_id,
                a.request_json, a.queued_at, a.started_at, a.finished_at, a.duration_ms
           FROM execution_attempts a JOIN executions e ON e.id = a.execution_id
          WHERE e.job_id = ? ORDER BY a.execution_id, a.number",
    ))
    .bind(job_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.execution_id, r.attempt)).collect())
}

#[derive(sqlx::FromRow)]
struct JobAttemptRow {
    execution_id: i64,
    #[sqlx(flatten)]
    attempt: AttemptRow,
}

/// Every attempt of one execution, oldest first.
pub async fn list_for_execution(db: &Db, execution_id: i64) -> sqlx::Result<Vec<AttemptRow>> {
    sqlx::query_as(db.sql(
        "SELECT number, trigger, status, error_code, error, provider_id, request_json, queued_at,
                started_at, finished_at, duration_ms
           FROM execution_attempts WHERE execution_id = ? ORDER BY number",
    ))
    .bind(execution_id)
    .fetch_all(&db.pool)
    .await
}
