//! The statements of a retry's acceptance. They run on one connection inside the caller's
//! write transaction, so the facts read, the decision and the update cannot interleave with
//! another request's.

use sqlx::AnyConnection;

use crate::domain::views::ExecutionFilter;
use crate::domain::{AttemptStatus, ExecutionStatus, JobId, JobStatus, Trigger};

use super::executions::{filter_conditions, ExecutionRow, SELECT_ROW};

use super::{assembled, now_ms, Db};

/// Reads the facts a retry is decided on, locking the row on PostgreSQL so simultaneous
/// requests for one execution (on any instance) take turns from here to the commit. The
/// job's status is read next, once, by `jobs::lock_status` (execution first, then job: the
/// order every writer locks in).
pub async fn load(db: &Db, conn: &mut AnyConnection, id: i64) -> sqlx::Result<Option<ExecutionRow>> {
    let lock = db.lock_rows_of("e");
    sqlx::query_as(assembled(format!("{SELECT_ROW} WHERE e.id = $1{lock}")))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The job's failures in `scope`, locked on PostgreSQL (execution rows first, then the job:
/// the order every writer locks in), for "retry all failed".
pub async fn load_failures(
    db: &Db,
    conn: &mut AnyConnection,
    job_id: &JobId,
    scope: &ExecutionFilter,
) -> sqlx::Result<Vec<ExecutionRow>> {
    let lock = db.lock_rows_of("e");
    let mut conditions = "e.job_id = $1".to_string();
    let binds = filter_conditions(scope, &mut conditions, 2);
    let mut query = sqlx::query_as(assembled(format!("{SELECT_ROW} WHERE {conditions} ORDER BY e.id{lock}"))).bind(job_id);
    for bind in binds {
        query = query.bind(bind);
    }
    query.fetch_all(conn).await
}

/// Rows per statement when accepting many retries.
const ACCEPT_CHUNK: usize = 500;

/// Moves failed executions to `retrying` and queues an attempt for each, a few statements for
/// any number of rows. The `WHERE` re-states the rules that matter for exactly-once (still
/// failed, retries left), so even without the surrounding transaction no retry could be
/// accepted twice; the job's status was locked and checked by the caller (`job_status`).
/// Returns `(id, retry_count, updated_at)` of each accepted row; a row that no longer
/// qualifies is left out.
pub async fn accept(
    conn: &mut AnyConnection,
    job_id: &JobId,
    job_status: JobStatus,
    ids: &[i64],
    trigger: Trigger,
    requested_by: Option<&str>,
) -> sqlx::Result<Vec<(i64, i64, i64)>> {
    let now = now_ms();
    let failures = ExecutionStatus::sql(&ExecutionStatus::FAILURES);
    let mut accepted = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(ACCEPT_CHUNK) {
        let list = super::placeholders(3, chunk.len());
        let mut update = sqlx::query_as::<_, (i64, i64, i64)>(assembled(format!(
            "UPDATE executions
                SET status = $1, retry_count = retry_count + 1, last_retry_at = $2, updated_at = $2,
                    -- Each manual or batch retry starts the automatic budget afresh.
                    auto_retry_count = 0, next_attempt_at = NULL,
                    lease_owner = NULL, lease_expires_at = NULL
              WHERE id IN ({list}) AND status IN {failures} AND retry_count < max_retries
          RETURNING id, retry_count, updated_at"
        )))
        .bind(ExecutionStatus::Retrying)
        .bind(now);
        for id in chunk {
            update = update.bind(*id);
        }
        let rows = update.fetch_all(&mut *conn).await?;
        if rows.is_empty() {
            continue;
        }
        let ids: Vec<i64> = rows.iter().map(|(id, _, _)| *id).collect();
        super::attempts::open(&mut *conn, &ids, trigger, requested_by, AttemptStatus::Queued, now).await?;
        accepted.extend(rows);
    }
    // A queued retry makes its job active again, whatever it was (cancelled jobs are refused
    // before this): its status is `running` without reading the job again.
    if !accepted.is_empty() && job_status != JobStatus::Running {
        super::jobs::set_status(conn, job_id, JobStatus::Running).await?;
    }
    Ok(accepted)
}

pub async fn find_idempotent(
    conn: &mut AnyConnection,
    key: &str,
    execution_id: i64,
) -> sqlx::Result<Option<(i64, String)>> {
    sqlx::query_as("SELECT status_code, body FROM idempotency_keys WHERE key = $1 AND execution_id = $2 AND created_at >= $3")
        .bind(key)
        .bind(execution_id)
        .bind(idempotency_cutoff())
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
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (key, execution_id) DO UPDATE
         SET status_code = excluded.status_code, body = excluded.body, created_at = excluded.created_at
         WHERE idempotency_keys.created_at < $6",
    )
    .bind(key)
    .bind(execution_id)
    .bind(i64::from(status_code))
    .bind(body)
    .bind(now_ms())
    .bind(idempotency_cutoff())
    .execute(conn)
    .await?;
    Ok(())
}

/// How long an Idempotency-Key is remembered (SAFETY.md §5).
pub const IDEMPOTENCY_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// Keys stored before this have expired: a reuse is a new request.
fn idempotency_cutoff() -> i64 {
    now_ms() - IDEMPOTENCY_TTL_MS
}

/// Removes expired idempotency keys, browser sessions and failed-login records; returns how
/// many rows went.
pub async fn forget_expired(db: &super::Db) -> sqlx::Result<u64> {
    let now = now_ms();
    let mut removed = 0;
    for (sql, before) in [
        ("DELETE FROM idempotency_keys WHERE created_at < $1", idempotency_cutoff()),
        ("DELETE FROM sessions WHERE expires_at < $1", now),
        ("DELETE FROM login_failures WHERE at < $1", now - 10 * 60 * 1000),
    ] {
        removed += sqlx::query(sql).bind(before).execute(&db.pool).await?.rows_affected();
    }
    Ok(removed)
}
