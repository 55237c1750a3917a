//! The statements of a retry's acceptance. They run on one connection inside the caller's
//! write transaction, so the facts read, the decision and the update cannot interleave with
//! another request's.

use sqlx::AnyConnection;

use super::{now_ms, Db};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RetryRow {
    pub id: i64,
    pub job_id: String,
    pub region: String,
    pub model_id: String,
    pub question_id: String,
    pub question_index: i64,
    pub status: String,
    pub retry_count: i64,
    pub max_retries: i64,
    pub request_json: String,
    pub job_status: String,
}

/// Reads the facts a retry is decided on, locking the row on PostgreSQL so simultaneous
/// requests for one execution (on any instance) take turns from here to the commit.
pub async fn load(db: &Db, conn: &mut AnyConnection, id: i64) -> sqlx::Result<Option<RetryRow>> {
    let lock = match db.dialect {
        super::Dialect::Sqlite => "",
        // The job row is locked next, by `lock_job_status`.
        super::Dialect::Postgres => " FOR UPDATE OF e",
    };
    sqlx::query_as(db.sql_owned(format!(
        "SELECT e.id, e.job_id, e.region, e.model_id, e.question_id, e.question_index, e.status,
                e.retry_count, e.max_retries, e.request_json, j.status AS job_status
           FROM executions e JOIN jobs j ON j.id = e.job_id
          WHERE e.id = ?{lock}"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Moves a failed execution to `retrying` and queues its attempt. The `WHERE` re-states the
/// rules that matter for exactly-once (still failed, retries left, job not cancelled), so even
/// without the surrounding transaction two requests could not both succeed. Returns the new
/// `(retry_count, updated_at)`, or `None` when the row no longer qualifies.
/// The job's status, locked on PostgreSQL after the execution row (the order every writer
/// locks in), so a retry and a cancel of the same job take turns.
pub async fn lock_job_status(db: &Db, conn: &mut AnyConnection, job_id: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(db.sql_owned(format!("SELECT status FROM jobs WHERE id = ?{}", db.lock_rows())))
        .bind(job_id)
        .fetch_optional(conn)
        .await
}

pub async fn accept(
    db: &Db,
    conn: &mut AnyConnection,
    row: &RetryRow,
    trigger: &str,
) -> sqlx::Result<Option<(i64, i64)>> {
    let now = now_ms();
    let accepted: Option<(i64, i64)> = sqlx::query_as(db.sql(
        "UPDATE executions
            SET status = 'retrying', retry_count = retry_count + 1, last_retry_at = ?, updated_at = ?,
                lease_owner = NULL, lease_expires_at = NULL
          WHERE id = ? AND status IN ('failed', 'timeout', 'error') AND retry_count < max_retries
            AND job_id IN (SELECT id FROM jobs WHERE status <> 'cancelled')
      RETURNING retry_count, updated_at"),
    )
    .bind(now)
    .bind(now)
    .bind(row.id)
    .fetch_optional(&mut *conn)
    .await?;
    if accepted.is_some() {
        sqlx::query(db.sql(
            "INSERT INTO execution_attempts (execution_id, number, trigger, status, request_json, queued_at)
             VALUES (?, (SELECT COALESCE(MAX(number), 0) + 1 FROM execution_attempts WHERE execution_id = ?),
                     ?, 'queued', ?, ?)"),
        )
        .bind(row.id)
        .bind(row.id)
        .bind(trigger)
        .bind(&row.request_json)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        super::jobs::recompute_in(db, conn, &row.job_id).await?;
    }
    Ok(accepted)
}

pub async fn find_idempotent(
    db: &Db,
    conn: &mut AnyConnection,
    key: &str,
    execution_id: i64,
) -> sqlx::Result<Option<(i64, String)>> {
    sqlx::query_as(db.sql("SELECT status_code, body FROM idempotency_keys WHERE key = ? AND execution_id = ?"))
        .bind(key)
        .bind(execution_id)
        .fetch_optional(conn)
        .await
}

pub async fn remember_idempotent(
    db: &Db,
    conn: &mut AnyConnection,
    key: &str,
    execution_id: i64,
    status_code: u16,
    body: &str,
) -> sqlx::Result<()> {
    sqlx::query(db.sql(
        "INSERT INTO idempotency_keys (key, execution_id, status_code, body, created_at)
         VALUES (?, ?, ?, ?, ?) ON CONFLICT (key, execution_id) DO NOTHING"),
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
