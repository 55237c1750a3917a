//! The statements of a retry's acceptance. They run on one connection inside the caller's
//! write transaction, so the facts read, the decision and the update cannot interleave with
//! another request's.

use sqlx::AnyConnection;

use crate::domain::{AttemptStatus, ExecutionStatus, JobStatus, Trigger};

use super::executions::{ExecutionRow, SELECT_ROW};

use super::{assembled, now_ms, Db};

/// Reads the facts a retry is decided on, locking the row on PostgreSQL so simultaneous
/// requests for one execution (on any instance) take turns from here to the commit. The
/// job's status is read next, once, by `jobs::lock_status` (execution first, then job: the
/// order every writer locks in).
pub async fn load(db: &Db, conn: &mut AnyConnection, id: i64) -> sqlx::Result<Option<ExecutionRow>> {
    let lock = match db.dialect {
        super::Dialect::Sqlite => "",
        super::Dialect::Postgres => " FOR UPDATE OF e",
    };
    sqlx::query_as(assembled(format!("{SELECT_ROW} WHERE e.id = $1{lock}")))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Moves a failed execution to `retrying` and queues its attempt. The `WHERE` re-states the
/// rules that matter for exactly-once (still failed, retries left), so even without the
/// surrounding transaction two requests could not both succeed; the job's status was locked
/// and checked by the caller. Returns the new `(retry_count, updated_at)`, or `None` when
/// the row no longer qualifies.
pub async fn accept(
    conn: &mut AnyConnection,
    row: &ExecutionRow,
    job_status: JobStatus,
    trigger: Trigger,
) -> sqlx::Result<Option<(i64, i64)>> {
    let now = now_ms();
    let failures = ExecutionStatus::sql(&ExecutionStatus::FAILURES);
    let accepted: Option<(i64, i64)> = sqlx::query_as(assembled(format!(
        "UPDATE executions
            SET status = $1, retry_count = retry_count + 1, last_retry_at = $2, updated_at = $2,
                lease_owner = NULL, lease_expires_at = NULL
          WHERE id = $3 AND status IN {failures} AND retry_count < max_retries
      RETURNING retry_count, updated_at"
    )))
    .bind(ExecutionStatus::Retrying)
    .bind(now)
    .bind(row.id)
    .fetch_optional(&mut *conn)
    .await?;
    if accepted.is_some() {
        super::attempts::open(&mut *conn, row.id, trigger, AttemptStatus::Queued, &row.request_json, now).await?;
        // A queued retry makes its job active again, whatever it was (cancelled jobs are
        // refused before this): its status is `running` without reading the job again.
        if job_status != JobStatus::Running {
            super::jobs::set_status(conn, &row.job_id, JobStatus::Running).await?;
        }
    }
    Ok(accepted)
}

pub async fn find_idempotent(
    conn: &mut AnyConnection,
    key: &str,
    execution_id: i64,
) -> sqlx::Result<Option<(i64, String)>> {
    sqlx::query_as("SELECT status_code, body FROM idempotency_keys WHERE key = $1 AND execution_id = $2")
        .bind(key)
        .bind(execution_id)
        .fetch_optional(conn)
        .await
}

pub async fn remember_idempotent(
    conn: &mut AnyConnection,
    key: &str,
    execution_id: i64,
    status_code: u16,
    body: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO idempotency_keys (key, execution_id, status_code, body, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key, execution_id) DO NOTHING",
    )
    .bind(key)
    .bind(execution_id)
    .bind(i64::from(status_code))
    .bind(body)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}
