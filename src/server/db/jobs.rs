use sqlx::FromRow;

use crate::domain::views::JobView;
use crate::domain::{ExecutionStatus, JobStatus, Progress};

use super::{now_ms, rfc3339, Db};

#[derive(Debug, Clone, FromRow)]
pub struct JobRow {
    pub id: String,
    pub status: String,
    pub questions: String,
    pub models: String,
    pub regions: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl JobRow {
    pub fn question_ids(&self) -> Vec<String> {
        serde_json::from_str(&self.questions).unwrap_or_default()
    }

    pub fn into_view(self, progress: Progress) -> JobView {
        let questions = self.question_ids();
        let models: Vec<String> = serde_json::from_str(&self.models).unwrap_or_default();
        let regions: Vec<String> = serde_json::from_str(&self.regions).unwrap_or_default();
        JobView {
            total_executions: (questions.len() * models.len() * regions.len()) as i64,
            status: JobStatus::parse(&self.status).unwrap_or(JobStatus::Running),
            id: self.id,
            questions,
            models,
            regions,
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
            progress,
        }
    }
}

/// One execution to create with its job.
pub struct NewExecution {
    pub region: String,
    pub model_id: String,
    pub question_id: String,
    pub question_index: i64,
    pub request_json: String,
}

pub struct NewJob {
    pub id: String,
    pub questions: Vec<String>,
    pub models: Vec<String>,
    pub regions: Vec<String>,
    pub max_retries: i64,
    pub executions: Vec<NewExecution>,
}

pub enum InsertOutcome {
    Created,
    IdTaken,
}

/// Creates the job and every one of its executions, `pending`, in one transaction: progress
/// is "done / expected" from the first moment, and a half-created job cannot exist.
pub async fn insert(db: &Db, job: &NewJob) -> sqlx::Result<InsertOutcome> {
    let now = now_ms();
    let mut tx = db.write_tx().await?;
    let inserted = sqlx::query(db.sql(
        "INSERT INTO jobs (id, status, questions, models, regions, created_at, updated_at)
         VALUES (?, 'enqueued', ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"),
    )
    .bind(&job.id)
    .bind(serde_json::to_string(&job.questions).unwrap_or_default())
    .bind(serde_json::to_string(&job.models).unwrap_or_default())
    .bind(serde_json::to_string(&job.regions).unwrap_or_default())
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(InsertOutcome::IdTaken);
    }
    for execution in &job.executions {
        sqlx::query(db.sql(
            "INSERT INTO executions (job_id, region, model_id, question_id, question_index, status,
                                     max_retries, created_at, updated_at, request_json)
             VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)"),
        )
        .bind(&job.id)
        .bind(&execution.region)
        .bind(&execution.model_id)
        .bind(&execution.question_id)
        .bind(execution.question_index)
        .bind(job.max_retries)
        .bind(now)
        .bind(now)
        .bind(&execution.request_json)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(InsertOutcome::Created)
}

pub async fn get(db: &Db, id: &str) -> sqlx::Result<Option<JobRow>> {
    sqlx::query_as(db.sql("SELECT * FROM jobs WHERE id = ?")).bind(id).fetch_optional(&db.pool).await
}

/// Newest first.
pub async fn list(db: &Db, limit: i64) -> sqlx::Result<Vec<JobRow>> {
    sqlx::query_as(db.sql("SELECT * FROM jobs ORDER BY created_at DESC, id DESC LIMIT ?"))
        .bind(limit)
        .fetch_all(&db.pool)
        .await
}

pub async fn progress(db: &Db, job_id: &str) -> sqlx::Result<Progress> {
    count_progress(db, &db.pool, job_id).await
}

async fn count_progress<'e, E>(db: &Db, executor: E, job_id: &str) -> sqlx::Result<Progress>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(db.sql(
        "SELECT status, COUNT(*), CAST(SUM(CASE WHEN retry_count >= max_retries THEN 1 ELSE 0 END) AS BIGINT)
           FROM executions WHERE job_id = ? GROUP BY status"),
    )
    .bind(job_id)
    .fetch_all(executor)
    .await?;
    let mut progress = Progress::default();
    for (status, count, out_of_retries) in rows {
        if let Some(status) = ExecutionStatus::parse(&status) {
            progress.add(status, count);
            if status.is_failure() {
                progress.exhausted += out_of_retries;
            }
        }
    }
    Ok(progress)
}

/// Derives the job's status from its executions and stores it, inside the transaction that
/// changed them, so the stored status never lags (the earlier system's bug 7). Lock order
/// everywhere: execution rows first, then the job row.
pub async fn recompute_in(db: &Db, conn: &mut sqlx::AnyConnection, job_id: &str) -> sqlx::Result<Option<JobStatus>> {
    // Locked on PostgreSQL: two recomputations of one job take turns, so the later one
    // counts what the earlier one committed.
    let current: Option<(String,)> =
        sqlx::query_as(db.sql_owned(format!("SELECT status FROM jobs WHERE id = ?{}", db.lock_rows())))
            .bind(job_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((current,)) = current else { return Ok(None) };
    let cancelled = current == JobStatus::Cancelled.as_str();
    let status = count_progress(db, &mut *conn, job_id).await?.job_status(cancelled);
    if status.as_str() != current {
        sqlx::query(db.sql("UPDATE jobs SET status = ?, updated_at = ? WHERE id = ?"))
            .bind(status.as_str())
            .bind(now_ms())
            .bind(job_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(Some(status))
}

/// Marks the job cancelled, and with it every execution that had not finished, closing their
/// open attempts. Returns false when the job does not exist.
pub async fn cancel(db: &Db, job_id: &str) -> sqlx::Result<bool> {
    let now = now_ms();
    let mut tx = db.write_tx().await?;
    // Execution rows first, then the job row: the order every writer locks in.
    let cancelled: Vec<(i64,)> = sqlx::query_as(db.sql(
        "UPDATE executions
            SET status = 'cancelled', updated_at = ?, completed_at = ?,
                lease_owner = NULL, lease_expires_at = NULL
          WHERE job_id = ? AND status IN ('pending', 'running', 'retrying')
      RETURNING id",
    ))
    .bind(now)
    .bind(now)
    .bind(job_id)
    .fetch_all(&mut *tx)
    .await?;
    for (id,) in cancelled {
        super::attempts::close_open(db, &mut tx, id, "cancelled", None, now).await?;
    }
    let updated = sqlx::query(db.sql("UPDATE jobs SET status = 'cancelled', updated_at = ? WHERE id = ?"))
        .bind(now)
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Ok(false);
    }
    tx.commit().await?;
    Ok(true)
}
