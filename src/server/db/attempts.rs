use sqlx::FromRow;

use crate::domain::views::{AttemptView, Usage};
use crate::domain::{AttemptStatus, JobId, Region, Trigger};

use super::{assembled, Db};
use crate::domain::Timestamp;

/// Opens the next attempt (numbered after its last) of each execution in `execution_ids`, with
/// the execution's own request, in one statement per 500 rows. A running attempt starts now;
/// a queued one waits for the runner. Returns `(execution_id, attempt_id)` pairs.
pub async fn open(
    conn: &mut sqlx::AnyConnection,
    execution_ids: &[i64],
    trigger: Trigger,
    requested_by: Option<&str>,
    status: AttemptStatus,
    now: i64,
) -> sqlx::Result<Vec<(i64, i64)>> {
    let started_at = (status == AttemptStatus::Running).then_some(now);
    let mut opened = Vec::with_capacity(execution_ids.len());
    for chunk in execution_ids.chunks(500) {
        let list = super::placeholders(6, chunk.len());
        let mut insert = sqlx::query_as::<_, (i64, i64)>(assembled(format!(
            "INSERT INTO execution_attempts (execution_id, number, trigger, status, request_json, queued_at, started_at, requested_by, region)
             SELECT e.id, (SELECT COALESCE(MAX(a.number), 0) + 1 FROM execution_attempts a WHERE a.execution_id = e.id),
                    $1, $2, e.request_json, $3, $4, $5, e.region
               FROM executions e WHERE e.id IN ({list})
             RETURNING execution_id, id"
        )))
        .bind(trigger)
        .bind(status)
        .bind(now)
        .bind(started_at)
        .bind(requested_by);
        for id in chunk {
            insert = insert.bind(*id);
        }
        opened.extend(insert.fetch_all(&mut *conn).await?);
    }
    Ok(opened)
}

/// Closes an execution's queued or running attempt (there is at most one) as `status`,
/// when its execution was taken from it: cancelled, or interrupted by a dead worker.
pub async fn close_open(
    conn: &mut sqlx::AnyConnection,
    execution_id: i64,
    status: AttemptStatus,
    error: Option<(&str, &str)>,
    now: i64,
) -> sqlx::Result<()> {
    let open = AttemptStatus::sql(&AttemptStatus::OPEN);
    sqlx::query(assembled(format!(
        "UPDATE execution_attempts
            SET status = $1, error_code = $2, error = $3, finished_at = $4,
                duration_ms = CASE WHEN started_at IS NULL THEN NULL ELSE $4 - started_at END
          WHERE execution_id = $5 AND status IN {open}"
    )))
    .bind(status)
    .bind(error.map(|(code, _)| code))
    .bind(error.map(|(_, message)| message))
    .bind(now)
    .bind(execution_id)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct AttemptRow {
    pub number: i64,
    pub trigger: Trigger,
    pub status: AttemptStatus,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub provider_id: Option<String>,
    pub request_json: String,
    pub queued_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub output: Option<String>,
    pub late_at: Option<i64>,
    pub requested_by: Option<String>,
    pub provider_kind: Option<String>,
    pub region: Option<Region>,
    pub served_model: Option<String>,
    pub finish_reason: Option<String>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub system_fingerprint: Option<String>,
    pub request_hash: Option<String>,
    pub backoff_ms: Option<i64>,
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
            queued_at: Timestamp::from_millis(self.queued_at),
            started_at: self.started_at.map(Timestamp::from_millis),
            finished_at: self.finished_at.map(Timestamp::from_millis),
            duration_ms: self.duration_ms,
            // Written by Beacon from a serialised request; kept as text if it ever is not JSON.
            request: serde_json::from_str(&self.request_json).unwrap_or(serde_json::Value::String(self.request_json)),
            output: self.output,
            late: self.late_at.is_some(),
            requested_by: self.requested_by,
            provider_kind: self.provider_kind,
            region: self.region,
            served_model: self.served_model,
            finish_reason: self.finish_reason,
            usage: (self.prompt_tokens.is_some() || self.completion_tokens.is_some())
                .then_some(Usage { prompt_tokens: self.prompt_tokens, completion_tokens: self.completion_tokens }),
            system_fingerprint: self.system_fingerprint,
            request_hash: self.request_hash,
            backoff_ms: self.backoff_ms,
        }
    }
}

/// The provenance columns an [`AttemptRow`] reads.
const PROVENANCE_COLUMNS: &str =
    "provider_kind, region, served_model, finish_reason, prompt_tokens, completion_tokens, system_fingerprint, request_hash, backoff_ms";

/// Every attempt of the given executions (one page of a job's), by execution, oldest first.
pub async fn list_for_executions(db: &Db, execution_ids: &[i64]) -> sqlx::Result<Vec<(i64, AttemptRow)>> {
    if execution_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT execution_id, number, trigger, status, error_code, error, provider_id,
                request_json, queued_at, started_at, finished_at, duration_ms, output, late_at, requested_by, {PROVENANCE_COLUMNS}
           FROM execution_attempts WHERE execution_id IN ({}) ORDER BY execution_id, number",
        super::placeholders(1, execution_ids.len())
    );
    let mut query = sqlx::query_as::<_, JobAttemptRow>(assembled(sql));
    for id in execution_ids {
        query = query.bind(*id);
    }
    Ok(query.fetch_all(&db.pool).await?.into_iter().map(|r| (r.execution_id, r.attempt)).collect())
}

#[derive(sqlx::FromRow)]
struct JobAttemptRow {
    execution_id: i64,
    #[sqlx(flatten)]
    attempt: AttemptRow,
}

/// Every attempt of one execution, oldest first.
pub async fn list_for_execution(db: &Db, execution_id: i64) -> sqlx::Result<Vec<AttemptRow>> {
    sqlx::query_as(assembled(format!(
        "SELECT number, trigger, status, error_code, error, provider_id, request_json, queued_at,
                started_at, finished_at, duration_ms, output, late_at, requested_by, {PROVENANCE_COLUMNS}
           FROM execution_attempts WHERE execution_id = $1 ORDER BY number"
    )))
    .bind(execution_id)
    .fetch_all(&db.pool)
    .await
}

/// How a job's attempts ended, counted by attempt number, status and error code (the
/// analysis's success by attempt and failures by code): one grouped query, a few rows back.
/// A job's failed attempts by code and message, counted: the reasons in words come from both.
pub async fn failure_messages_for_job(db: &Db, job_id: &JobId) -> sqlx::Result<Vec<(String, Option<String>, i64)>> {
    use crate::domain::text_enum::sql_list;
    let ended_failing =
        sql_list(&[AttemptStatus::Failed, AttemptStatus::Timeout, AttemptStatus::Error, AttemptStatus::Interrupted], AttemptStatus::as_str);
    sqlx::query_as(assembled(format!(
        "SELECT a.error_code, a.error, COUNT(*)
           FROM execution_attempts a JOIN executions e ON e.id = a.execution_id
          WHERE e.job_id = $1 AND a.error_code IS NOT NULL AND a.status IN {ended_failing}
          GROUP BY a.error_code, a.error"
    )))
    .bind(job_id)
    .fetch_all(&db.pool)
    .await
}

pub async fn outcomes_for_job(db: &Db, job_id: &JobId) -> sqlx::Result<Vec<(i64, AttemptStatus, Option<String>, i64)>> {
    sqlx::query_as(
        "SELECT a.number, a.status, a.error_code, COUNT(*)
           FROM execution_attempts a JOIN executions e ON e.id = a.execution_id
          WHERE e.job_id = $1
          GROUP BY a.number, a.status, a.error_code
          ORDER BY a.number",
    )
    .bind(job_id)
    .fetch_all(&db.pool)
    .await
}
