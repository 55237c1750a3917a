use std::collections::HashMap;

use sqlx::FromRow;

use crate::domain::views::JobView;
use crate::domain::{ExecutionStatus, JobId, JobStatus, Progress, Region};

use super::codec::JsonText;
use super::{assembled, now_ms, rfc3339, Db};

#[derive(Debug, Clone, FromRow)]
pub struct JobRow {
    pub id: JobId,
    pub status: JobStatus,
    /// In job order: a question's position is its `question_index`.
    pub questions: JsonText<Vec<String>>,
    pub models: JsonText<Vec<String>>,
    pub regions: JsonText<Vec<Region>>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl JobRow {
    pub fn into_view(self, progress: Progress) -> JobView {
        let (questions, models, regions) = (self.questions.0, self.models.0, self.regions.0);
        JobView {
            total_executions: (questions.len() * models.len() * regions.len()) as i64,
            status: self.status,
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
    pub region: Region,
    pub model_id: String,
    pub question_id: String,
    pub question_index: i64,
    pub request_json: String,
}

pub struct NewJob {
    pub id: JobId,
    pub questions: Vec<String>,
    pub models: Vec<String>,
    pub regions: Vec<Region>,
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
    let inserted = sqlx::query(
        "INSERT INTO jobs (id, status, questions, models, regions, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&job.id)
    .bind(JobStatus::Enqueued)
    .bind(JsonText(&job.questions))
    .bind(JsonText(&job.models))
    .bind(JsonText(&job.regions))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(InsertOutcome::IdTaken);
    }
    for execution in &job.executions {
        sqlx::query(
            "INSERT INTO executions (job_id, region, model_id, question_id, question_index, status,
                                     max_retries, created_at, updated_at, request_json)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)",
        )
        .bind(&job.id)
        .bind(execution.region)
        .bind(&execution.model_id)
        .bind(&execution.question_id)
        .bind(execution.question_index)
        .bind(ExecutionStatus::Pending)
        .bind(job.max_retries)
        .bind(now)
        .bind(&execution.request_json)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(InsertOutcome::Created)
}

pub async fn get(db: &Db, id: &JobId) -> sqlx::Result<Option<JobRow>> {
    sqlx::query_as("SELECT * FROM jobs WHERE id = $1").bind(id).fetch_optional(&db.pool).await
}

/// Newest first.
pub async fn list(db: &Db, limit: i64) -> sqlx::Result<Vec<JobRow>> {
    sqlx::query_as("SELECT * FROM jobs ORDER BY created_at DESC, id DESC LIMIT $1")
        .bind(limit)
        .fetch_all(&db.pool)
        .await
}

/// Several jobs by id, in one query (unknown ids are left out).
pub async fn get_many(db: &Db, ids: &[&JobId]) -> sqlx::Result<Vec<JobRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT * FROM jobs WHERE id IN ({})", placeholders(ids.len()));
    let mut query = sqlx::query_as(assembled(sql));
    for id in ids {
        query = query.bind(*id);
    }
    query.fetch_all(&db.pool).await
}

pub async fn progress(db: &Db, job_id: &JobId) -> sqlx::Result<Progress> {
    Ok(progress_of(db, &[job_id]).await?.remove(job_id).unwrap_or_default())
}

/// The progress of several jobs, in one query: what the jobs list and the live feed need.
pub async fn progress_of(db: &Db, job_ids: &[&JobId]) -> sqlx::Result<HashMap<JobId, Progress>> {
    count_progress(&db.pool, job_ids).await
}

/// `$1, $2, …, $n`
pub fn placeholders(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

async fn count_progress<'e, E>(executor: E, job_ids: &[&JobId]) -> sqlx::Result<HashMap<JobId, Progress>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut counts: HashMap<JobId, Progress> = HashMap::new();
    if job_ids.is_empty() {
        return Ok(counts);
    }
    let sql = format!(
        "SELECT job_id, status, COUNT(*),
                CAST(SUM(CASE WHEN retry_count >= max_retries THEN 1 ELSE 0 END) AS BIGINT)
           FROM executions WHERE job_id IN ({}) GROUP BY job_id, status",
        placeholders(job_ids.len())
    );
    let mut query = sqlx::query_as::<_, (JobId, ExecutionStatus, i64, i64)>(assembled(sql));
    for id in job_ids {
        query = query.bind(*id);
    }
    for (job_id, status, count, out_of_retries) in query.fetch_all(executor).await? {
        let progress = counts.entry(job_id).or_default();
        progress.add(status, count);
        if status.is_failure() {
            progress.exhausted += out_of_retries;
        }
    }
    Ok(counts)
}

/// Derives the job's status from its executions and stores it, inside the transaction that
/// changed them, so the stored status never lags (the earlier system's bug 7). Lock order
/// everywhere: execution rows first, then the job row. `known` is the job's status when the
/// caller has already read (and on PostgreSQL locked) the job row in this transaction.
pub async fn recompute_in(
    db: &Db,
    conn: &mut sqlx::AnyConnection,
    job_id: &JobId,
    known: Option<JobStatus>,
) -> sqlx::Result<Option<JobStatus>> {
    let current = match known {
        Some(status) => status,
        // Locked on PostgreSQL: two recomputations of one job take turns, so the later one
        // counts what the earlier one committed.
        None => match lock_status(db, &mut *conn, job_id).await? {
            Some(status) => status,
            None => return Ok(None),
        },
    };
    let progress = count_progress(&mut *conn, &[job_id]).await?.remove(job_id).unwrap_or_default();
    let status = progress.job_status(current == JobStatus::Cancelled);
    if status != current {
        sqlx::query("UPDATE jobs SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status)
            .bind(now_ms())
            .bind(job_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(Some(status))
}

/// The job's status, locked on PostgreSQL until the transaction ends (after the execution
/// rows it is about to change: the order every writer locks in).
pub async fn lock_status(db: &Db, conn: &mut sqlx::AnyConnection, job_id: &JobId) -> sqlx::Result<Option<JobStatus>> {
    sqlx::query_scalar(assembled(format!("SELECT status FROM jobs WHERE id = $1{}", db.lock_rows())))
        .bind(job_id)
        .fetch_optional(conn)
        .await
}

/// What cancelling found.
pub enum CancelOutcome {
    Cancelled,
    NotFound,
    /// Already finished (or cancelled): nothing changed.
    AlreadyFinished(JobStatus),
}

/// Marks the job cancelled, and with it every execution that had not finished, closing their
/// open attempts. Only a job that is still active can be cancelled.
pub async fn cancel(db: &Db, job_id: &JobId) -> sqlx::Result<CancelOutcome> {
    let now = now_ms();
    let mut tx = db.write_tx().await?;
    // Execution rows first, then the job row: the order every writer locks in.
    let active = ExecutionStatus::sql(&ExecutionStatus::ACTIVE);
    let cancelled: Vec<(i64,)> = sqlx::query_as(assembled(format!(
        "UPDATE executions
            SET status = $1, updated_at = $2, completed_at = $2,
                lease_owner = NULL, lease_expires_at = NULL
          WHERE job_id = $3 AND status IN {active}
      RETURNING id"
    )))
    .bind(ExecutionStatus::Cancelled)
    .bind(now)
    .bind(job_id)
    .fetch_all(&mut *tx)
    .await?;
    let Some(status) = lock_status(db, &mut tx, job_id).await? else {
        return Ok(CancelOutcome::NotFound);
    };
    // Nothing was active and the job is finished: a finished job's results stay as they are.
    if cancelled.is_empty() && status.is_finished() {
        return Ok(CancelOutcome::AlreadyFinished(status));
    }
    for (id,) in cancelled {
        super::attempts::close_open(&mut tx, id, crate::domain::AttemptStatus::Cancelled, None, now).await?;
    }
    sqlx::query("UPDATE jobs SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(JobStatus::Cancelled)
        .bind(now)
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(CancelOutcome::Cancelled)
}
