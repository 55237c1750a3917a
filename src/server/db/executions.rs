use sqlx::FromRow;

use crate::domain::views::ExecutionView;
use crate::domain::ExecutionStatus;

use super::{now_ms, rfc3339, Db};

#[derive(Debug, Clone, FromRow)]
pub struct ExecutionRow {
    pub id: i64,
    pub job_id: String,
    pub region: String,
    pub model_id: String,
    pub question_id: String,
    pub question_index: i64,
    pub status: String,
    pub provider_id: Option<String>,
    pub output: Option<String>,
    pub error: Option<String>,
    pub error_code: Option<String>,
    pub original_error: Option<String>,
    pub original_error_code: Option<String>,
    pub retry_count: i64,
    pub max_retries: i64,
    pub last_retry_at: Option<i64>,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub request_json: String,
    pub attempts: i64,
}

impl ExecutionRow {
    pub fn status(&self) -> ExecutionStatus {
        // The column only ever receives `ExecutionStatus::as_str` values.
        ExecutionStatus::parse(&self.status).unwrap_or(ExecutionStatus::Error)
    }

    pub fn into_view(self) -> ExecutionView {
        ExecutionView {
            status: self.status(),
            id: self.id,
            job_id: self.job_id,
            region: self.region,
            model_id: self.model_id,
            question_id: self.question_id,
            question_index: self.question_index,
            provider_id: self.provider_id,
            output: self.output,
            error: self.error,
            error_code: self.error_code,
            original_error: self.original_error,
            original_error_code: self.original_error_code,
            retry_count: self.retry_count,
            max_retries: self.max_retries,
            last_retry_at: self.last_retry_at.map(rfc3339),
            started_at: self.started_at.map(rfc3339),
            completed_at: self.completed_at.map(rfc3339),
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
            duration_ms: self.duration_ms,
            attempts: self.attempts,
        }
    }
}

const SELECT_ROW: &str = "SELECT e.id, e.job_id, e.region, e.model_id, e.question_id, e.question_index,
        e.status, e.provider_id, e.output, e.error, e.error_code, e.original_error,
        e.original_error_code, e.retry_count, e.max_retries, e.last_retry_at, e.started_at,
        e.completed_at, e.duration_ms, e.created_at, e.updated_at, e.request_json,
        (SELECT COUNT(*) FROM execution_attempts a WHERE a.execution_id = e.id) AS attempts
   FROM executions e";

/// A job's executions in table order: region, model, question.
pub async fn list_for_job(db: &Db, job_id: &str) -> sqlx::Result<Vec<ExecutionRow>> {
    sqlx::query_as(db.sql_owned(format!(
        "{SELECT_ROW} WHERE e.job_id = ? ORDER BY e.region, e.model_id, e.question_index"
    )))
    .bind(job_id)
    .fetch_all(&db.pool)
    .await
}

pub async fn get(db: &Db, id: i64) -> sqlx::Result<Option<ExecutionRow>> {
    sqlx::query_as(db.sql_owned(format!("{SELECT_ROW} WHERE e.id = ?")))
        .bind(id)
        .fetch_optional(&db.pool)
        .await
}

/// Work the runner has claimed: it holds the lease until it finishes or stops renewing.
#[derive(Debug, Clone, FromRow)]
pub struct Claimed {
    pub id: i64,
    pub job_id: String,
    pub request_json: String,
    pub attempt_id: i64,
}

/// Claims the oldest queued execution of `region` (a pending row, or a retry waiting for its
/// turn) for `owner` until `lease_until`, and opens its attempt, in one transaction. A row
/// is claimed by one owner only: the update re-checks that nobody holds it.
pub async fn claim_next(
    db: &Db,
    region: &str,
    owner: &str,
    lease_until: i64,
) -> sqlx::Result<Option<Claimed>> {
    let now = now_ms();
    let mut tx = db.write_tx().await?;
    // On PostgreSQL the sub-select skips rows another instance is claiming right now, so
    // instances never queue behind each other and never take the same row.
    let claimed: Option<(i64, String, String, String)> = sqlx::query_as(db.sql_owned(format!(
        "UPDATE executions
            SET status = CASE WHEN status = 'pending' THEN 'running' ELSE status END,
                started_at = ?, lease_owner = ?, lease_expires_at = ?, updated_at = ?
          WHERE id = (SELECT id FROM executions
                       WHERE region = ? AND status IN ('pending', 'retrying') AND lease_owner IS NULL
                       ORDER BY updated_at, id LIMIT 1{})
            AND status IN ('pending', 'retrying') AND lease_owner IS NULL
      RETURNING id, job_id, request_json, status",
        db.skip_locked()
    )))
    .bind(now)
    .bind(owner)
    .bind(lease_until)
    .bind(now)
    .bind(region)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id, job_id, request_json, status)) = claimed else {
        return Ok(None);
    };
    // A retry's attempt was queued when the retry was accepted; an initial attempt opens now.
    let queued: Option<(i64,)> = sqlx::query_as(db.sql(
        "UPDATE execution_attempts SET status = 'running', started_at = ?
          WHERE execution_id = ? AND status = 'queued' RETURNING id"),
    )
    .bind(now)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let attempt_id = match queued {
        Some((attempt_id,)) => attempt_id,
        None => {
            let trigger = if status == ExecutionStatus::Retrying.as_str() { "manual" } else { "initial" };
            let (attempt_id,): (i64,) = sqlx::query_as(db.sql(
                "INSERT INTO execution_attempts
                     (execution_id, number, trigger, status, request_json, queued_at, started_at)
                 VALUES (?, (SELECT COALESCE(MAX(number), 0) + 1 FROM execution_attempts WHERE execution_id = ?),
                         ?, 'running', ?, ?, ?)
                 RETURNING id"),
            )
            .bind(id)
            .bind(id)
            .bind(trigger)
            .bind(&request_json)
            .bind(now)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            attempt_id
        }
    };
    super::jobs::recompute_in(db, &mut tx, &job_id).await?;
    tx.commit().await?;
    Ok(Some(Claimed { id, job_id, request_json, attempt_id }))
}

/// Extends the lease while the router call is alive. False when the row is no longer ours
/// (cancelled, or swept after we stalled): the caller must then abandon the call.
pub async fn renew_lease(db: &Db, id: i64, owner: &str, lease_until: i64) -> sqlx::Result<bool> {
    let renewed = sqlx::query(db.sql(
        "UPDATE executions SET lease_expires_at = ?
          WHERE id = ? AND lease_owner = ? AND status IN ('running', 'retrying')"),
    )
    .bind(lease_until)
    .bind(id)
    .bind(owner)
    .execute(&db.pool)
    .await?;
    Ok(renewed.rows_affected() == 1)
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: ExecutionStatus,
    pub output: Option<String>,
    pub provider_id: Option<String>,
    pub error_code: Option<String>,
    pub error: Option<String>,
}

/// Records an attempt's outcome on the attempt and on its execution, if the execution is
/// still ours. Returns false when it was not (cancelled or swept meanwhile): the outcome is
/// then kept in the attempt's history only.
pub async fn finish(
    db: &Db,
    claimed: &Claimed,
    owner: &str,
    outcome: &Outcome,
) -> sqlx::Result<bool> {
    let now = now_ms();
    let mut tx = db.write_tx().await?;
    let execution = sqlx::query(db.sql(
        "UPDATE executions
            SET status = ?, output = ?, provider_id = COALESCE(?, provider_id),
                error = ?, error_code = ?,
                original_error = COALESCE(original_error, ?),
                original_error_code = COALESCE(original_error_code, ?),
                completed_at = ?, duration_ms = ? - started_at, updated_at = ?,
                lease_owner = NULL, lease_expires_at = NULL
          WHERE id = ? AND lease_owner = ? AND status IN ('running', 'retrying')"),
    )
    .bind(outcome.status.as_str())
    .bind(&outcome.output)
    .bind(&outcome.provider_id)
    .bind(&outcome.error)
    .bind(&outcome.error_code)
    .bind(&outcome.error)
    .bind(&outcome.error_code)
    .bind(now)
    .bind(now)
    .bind(now)
    .bind(claimed.id)
    .bind(owner)
    .execute(&mut *tx)
    .await?;
    let still_ours = execution.rows_affected() == 1;
    if still_ours {
        super::jobs::recompute_in(db, &mut tx, &claimed.job_id).await?;
    }
    // An attempt that lost its row was already closed (cancelled/interrupted) by whoever took
    // it; only an attempt still running gets this outcome.
    sqlx::query(db.sql(
        "UPDATE execution_attempts
            SET status = ?, error_code = ?, error = ?, provider_id = ?, finished_at = ?,
                duration_ms = ? - started_at
          WHERE id = ? AND status = 'running'"),
    )
    .bind(outcome.status.as_str())
    .bind(&outcome.error_code)
    .bind(&outcome.error)
    .bind(&outcome.provider_id)
    .bind(now)
    .bind(now)
    .bind(claimed.attempt_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(still_ours)
}

pub const INTERRUPTED_MESSAGE: &str =
    "Interrupted: the worker running this execution stopped before the router answered";

/// Turns every running or retrying row whose lease has expired into `error`/`INTERRUPTED`
/// and closes its open attempt, and recomputes their jobs. Returns the affected jobs.
pub async fn sweep_expired_leases(db: &Db) -> sqlx::Result<Vec<String>> {
    let now = now_ms();
    let mut tx = db.write_tx().await?;
    let swept: Vec<(i64, String)> = sqlx::query_as(db.sql(
        "UPDATE executions
            SET status = 'error', error_code = 'INTERRUPTED', error = ?,
                original_error = COALESCE(original_error, ?),
                original_error_code = COALESCE(original_error_code, 'INTERRUPTED'),
                completed_at = ?, updated_at = ?, lease_owner = NULL, lease_expires_at = NULL
          WHERE lease_owner IS NOT NULL AND lease_expires_at < ?
            AND status IN ('running', 'retrying')
      RETURNING id, job_id"),
    )
    .bind(INTERRUPTED_MESSAGE)
    .bind(INTERRUPTED_MESSAGE)
    .bind(now)
    .bind(now)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    for (id, _) in &swept {
        super::attempts::close_open(db, &mut tx, *id, "interrupted", Some(("INTERRUPTED", INTERRUPTED_MESSAGE)), now).await?;
    }
    let mut jobs: Vec<String> = swept.into_iter().map(|(_, job)| job).collect();
    jobs.sort();
    jobs.dedup();
    for job in &jobs {
        super::jobs::recompute_in(db, &mut tx, job).await?;
    }
    tx.commit().await?;
    Ok(jobs)
}
