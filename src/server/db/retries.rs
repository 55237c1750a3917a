//! The statements of a retry's acceptance. They run on one connection inside the caller's
//! write transaction, so the facts read, the decision and the update cannot interleave with
//! another request's.

use sqlx::AnyConnection;

use crate::domain::retry::RetryFacts;
use crate::domain::views::ExecutionFilter;
use crate::domain::{AttemptStatus, ExecutionStatus, JobId, JobStatus, Region, Trigger};

use super::executions::filter_conditions;

use super::{assembled, now_ms, Db};

/// What deciding and answering a retry needs of its execution: a few columns, not the whole
/// row (no output, no attempt count).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RetryTarget {
    pub id: i64,
    pub job_id: JobId,
    pub region: Region,
    pub model_id: String,
    pub question_id: String,
    pub question_index: i64,
    pub status: ExecutionStatus,
    pub retry_count: i64,
    pub max_retries: i64,
    pub sample_index: i64,
}

const TARGET_COLUMNS: &str = "SELECT e.id, e.job_id, e.region, e.model_id, e.question_id, e.question_index, e.status,
        e.retry_count, e.max_retries, e.sample_index FROM executions e";

impl RetryTarget {
    pub fn retry_facts(&self, job_status: JobStatus) -> RetryFacts {
        RetryFacts {
            status: self.status,
            job_cancelled: job_status == JobStatus::Cancelled,
            region: self.region.clone(),
            question_index: self.question_index,
            retry_count: self.retry_count,
            max_retries: self.max_retries,
        }
    }
}

/// Reads the executions a group of retries asks for, in one statement, locking them on
/// PostgreSQL so requests for the same executions (on any instance) take turns from here to
/// the commit. Their jobs are locked next, by [`lock_job_statuses`]: executions first, then
/// jobs, each in id order, the order every writer locks in.
pub async fn load_targets(db: &Db, conn: &mut AnyConnection, ids: &[i64]) -> sqlx::Result<Vec<RetryTarget>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = super::placeholders(1, ids.len());
    let lock = db.lock_rows_of("e");
    let mut query = sqlx::query_as(assembled(format!("{TARGET_COLUMNS} WHERE e.id IN ({list}) ORDER BY e.id{lock}")));
    for id in ids {
        query = query.bind(*id);
    }
    query.fetch_all(conn).await
}

/// The status of each job in `job_ids` (sorted, distinct), locked on PostgreSQL.
/// Each job's status and samples per cell (an accepted retry's answer names the sample when
/// there are several).
pub async fn lock_job_statuses(db: &Db, conn: &mut AnyConnection, job_ids: &[&JobId]) -> sqlx::Result<Vec<(JobId, JobStatus, i64)>> {
    if job_ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = super::placeholders(1, job_ids.len());
    let lock = db.lock_rows();
    let mut query = sqlx::query_as(assembled(format!("SELECT id, status, samples FROM jobs WHERE id IN ({list}) ORDER BY id{lock}")));
    for id in job_ids {
        query = query.bind(*id);
    }
    query.fetch_all(conn).await
}

/// The job's failures in `scope`, locked on PostgreSQL (execution rows first, then the job:
/// the order every writer locks in), for "retry all failed".
pub async fn load_failures(db: &Db, conn: &mut AnyConnection, job_id: &JobId, scope: &ExecutionFilter) -> sqlx::Result<Vec<RetryTarget>> {
    let lock = db.lock_rows_of("e");
    let mut conditions = "e.job_id = $1".to_string();
    let binds = filter_conditions(scope, &mut conditions, 2);
    let mut query = sqlx::query_as(assembled(format!("{TARGET_COLUMNS} WHERE {conditions} ORDER BY e.id{lock}"))).bind(job_id);
    for bind in binds {
        query = query.bind(bind);
    }
    query.fetch_all(conn).await
}

/// Rows per statement when accepting many retries.
const ACCEPT_CHUNK: usize = 500;

/// Moves failed executions of one job to `retrying` and queues an attempt for each (see
/// [`mark_retrying`]), then makes the job active again. The job's status was locked and checked
/// by the caller (`job_status`). Returns `(id, retry_count, updated_at)` of each accepted row.
pub async fn accept(
    conn: &mut AnyConnection,
    job_id: &JobId,
    job_status: JobStatus,
    ids: &[i64],
    trigger: Trigger,
    requested_by: Option<&str>,
) -> sqlx::Result<Vec<(i64, i64, i64)>> {
    let accepted = mark_retrying(conn, ids, trigger, requested_by).await?;
    if !accepted.is_empty() && job_status != JobStatus::Running {
        mark_job_running(conn, job_id).await?;
    }
    Ok(accepted)
}

/// Moves failed executions (of any jobs) to `retrying` and queues an attempt for each, a few
/// statements for any number of rows. The `WHERE` re-states the rules that matter for
/// exactly-once (still failed, retries left), so even without the surrounding transaction no
/// retry could be accepted twice. Returns `(id, retry_count, updated_at)` of each accepted
/// row; a row that no longer qualifies is left out.
pub async fn mark_retrying(
    conn: &mut AnyConnection,
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
    Ok(accepted)
}

/// A queued retry makes its job active again, whatever it was (cancelled jobs are refused
/// before this).
pub async fn mark_job_running(conn: &mut AnyConnection, job_id: &JobId) -> sqlx::Result<()> {
    super::jobs::set_status(conn, job_id, JobStatus::Running).await
}

pub async fn find_idempotent(conn: &mut AnyConnection, key: &str, execution_id: i64) -> sqlx::Result<Option<(i64, String)>> {
    sqlx::query_as("SELECT status_code, body FROM idempotency_keys WHERE key = $1 AND execution_id = $2 AND created_at >= $3")
        .bind(key)
        .bind(execution_id)
        .bind(idempotency_cutoff())
        .fetch_optional(conn)
        .await
}

pub async fn remember_idempotent(conn: &mut AnyConnection, key: &str, execution_id: i64, status_code: u16, body: &str) -> sqlx::Result<()> {
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
