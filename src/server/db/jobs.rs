use sqlx::FromRow;

use crate::domain::views::JobView;
use crate::domain::{ExecutionStatus, JobId, JobStatus, Progress, Region};

use super::codec::JsonText;
use super::{assembled, now_ms, placeholders, Db};
use crate::domain::Timestamp;

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
    /// The account that submitted the job (None with accounts off).
    pub created_by: Option<String>,
    /// What researchers call the job (UI.md §7); None when not given.
    pub name: Option<String>,
    pub auto_retries: i64,
    pub warmup: i64,
    pub question_set: Option<String>,
    pub samples: i64,
    pub temperature: Option<f64>,
    pub max_tokens: Option<i64>,
    pub seed: Option<i64>,
    #[sqlx(flatten)]
    pub counters: Counters,
}

/// A job's progress as its row keeps it (migrations/*/0006_job_counters.sql): maintained by
/// the database in the same transaction as every execution change, so reading it costs the
/// same for any size of job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromRow)]
pub struct Counters {
    pub pending: i64,
    pub running: i64,
    pub retrying: i64,
    pub completed: i64,
    pub failed: i64,
    pub cancelled: i64,
    pub exhausted: i64,
}

impl Counters {
    pub fn progress(self) -> Progress {
        let Counters { pending, running, retrying, completed, failed, cancelled, exhausted } = self;
        Progress {
            total: pending + running + retrying + completed + failed + cancelled,
            pending,
            running,
            retrying,
            completed,
            failed,
            cancelled,
            exhausted,
        }
    }
}

impl JobRow {
    pub fn progress(&self) -> Progress {
        self.counters.progress()
    }

    pub fn into_view(self) -> JobView {
        let progress = self.progress();
        let (questions, models, regions) = (self.questions.0, self.models.0, self.regions.0);
        JobView {
            total_executions: (questions.len() * models.len() * regions.len()) as i64 * self.samples,
            status: self.status,
            id: self.id,
            questions,
            models,
            regions,
            created_at: Timestamp::from_millis(self.created_at),
            updated_at: Timestamp::from_millis(self.updated_at),
            created_by: self.created_by,
            name: self.name,
            auto_retries: self.auto_retries,
            warmup: self.warmup != 0,
            question_set: self.question_set,
            samples: self.samples,
            temperature: self.temperature,
            max_tokens: self.max_tokens,
            seed: self.seed,
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
    pub sample_index: i64,
    /// Shared by a cell's samples (one request, asked several times).
    pub request_json: std::sync::Arc<str>,
}

/// What the job asked for (RESEARCH.md §2), recorded on the job as well as in each request.
pub struct JobParameters {
    pub question_set: Option<String>,
    pub samples: i64,
    pub temperature: f64,
    pub max_tokens: i64,
    pub seed: Option<i64>,
}

pub struct NewJob {
    pub id: JobId,
    pub questions: Vec<String>,
    /// Each question's text as the requests were built with it.
    pub texts: Vec<String>,
    pub models: Vec<String>,
    pub regions: Vec<Region>,
    pub max_retries: i64,
    pub auto_retries: i64,
    /// With warm-up: the (provider, region, model) to warm before the job's rows go there.
    pub warmups: Option<Vec<(String, Region, String)>>,
    pub executions: Vec<NewExecution>,
    pub parameters: JobParameters,
    pub created_by: Option<String>,
    pub name: Option<crate::domain::JobName>,
}

/// Executions of every job by status, from the jobs' counters (no scan of executions): what
/// `/metrics` reports. Failures (failed, timeout, error) are one figure, as the counters keep them.
pub async fn totals(db: &Db) -> sqlx::Result<Vec<(&'static str, i64)>> {
    let (pending, running, retrying, completed, failed, cancelled): (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(pending), 0) AS BIGINT), CAST(COALESCE(SUM(running), 0) AS BIGINT),
                CAST(COALESCE(SUM(retrying), 0) AS BIGINT), CAST(COALESCE(SUM(completed), 0) AS BIGINT),
                CAST(COALESCE(SUM(failed), 0) AS BIGINT), CAST(COALESCE(SUM(cancelled), 0) AS BIGINT)
           FROM jobs",
    )
    .fetch_one(&db.pool)
    .await?;
    Ok(vec![
        ("pending", pending),
        ("running", running),
        ("retrying", retrying),
        ("completed", completed),
        ("failed", failed),
        ("cancelled", cancelled),
    ])
}

/// Rows after which a submission refreshes PostgreSQL's statistics.
const ANALYZE_AFTER: usize = 5_000;

/// Rows per multi-row insert: 6 parameters each (plus 5 shared), well under SQLite's and PostgreSQL's limits.
const EXECUTIONS_PER_INSERT: usize = 500;

pub enum InsertOutcome {
    Created,
    IdTaken,
    /// A question was edited or deleted after its text was read: nothing was stored.
    QuestionsChanged,
}

/// Creates the job and every one of its executions, `pending`, in one transaction: progress
/// is "done / expected" from the first moment, and a half-created job cannot exist.
pub async fn insert(db: &Db, job: &NewJob) -> sqlx::Result<InsertOutcome> {
    let now = now_ms();
    let mut tx = db.write_tx().await?;
    let inserted = sqlx::query(
        "INSERT INTO jobs (id, status, questions, models, regions, created_at, updated_at, created_by, auto_retries, warmup,
                           question_set, samples, temperature, max_tokens, seed, name)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&job.id)
    .bind(JobStatus::Enqueued)
    .bind(JsonText(&job.questions))
    .bind(JsonText(&job.models))
    .bind(JsonText(&job.regions))
    .bind(now)
    .bind(&job.created_by)
    .bind(job.auto_retries)
    .bind(i64::from(job.warmups.is_some()))
    .bind(&job.parameters.question_set)
    .bind(job.parameters.samples)
    .bind(job.parameters.temperature)
    .bind(job.parameters.max_tokens)
    .bind(job.parameters.seed)
    .bind(job.name.as_ref().map(|name| name.as_str()))
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(InsertOutcome::IdTaken);
    }
    // From now on these questions are part of a study's record and never change. Marked
    // first, then compared with the texts the requests were built from: an edit or delete that
    // won the race shows here (PostgreSQL's row locks make a later one wait and then refuse),
    // and the job steps back instead of asking a text its question no longer has.
    super::questions::mark_in_use(&mut tx, &job.questions).await?;
    let stored = super::questions::texts_in(&mut tx, &job.questions).await?;
    if job.questions.iter().zip(&job.texts).any(|(id, text)| stored.get(id) != Some(text)) {
        return Ok(InsertOutcome::QuestionsChanged);
    }
    // Many rows per statement: a 30,000-execution job is 60 statements, not 30,000.
    for chunk in job.executions.chunks(EXECUTIONS_PER_INSERT) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|row| {
                let n = row * 6;
                format!("($1, ${}, ${}, ${}, ${}, ${}, $2, $3, $4, $4, ${}, $5)", n + 6, n + 7, n + 8, n + 9, n + 10, n + 11)
            })
            .collect();
        let sql = format!(
            "INSERT INTO executions (job_id, region, model_id, question_id, question_index, sample_index, status,
                                     max_retries, created_at, updated_at, request_json, auto_retries)
             VALUES {}",
            rows.join(", ")
        );
        let mut insert =
            sqlx::query(assembled(sql)).bind(&job.id).bind(ExecutionStatus::Pending).bind(job.max_retries).bind(now).bind(job.auto_retries);
        for execution in chunk {
            insert = insert
                .bind(&execution.region)
                .bind(&execution.model_id)
                .bind(&execution.question_id)
                .bind(execution.question_index)
                .bind(execution.sample_index)
                .bind(&*execution.request_json);
        }
        insert.execute(&mut *tx).await?;
    }
    if let Some(warmups) = &job.warmups {
        super::warmups::insert(&mut tx, &job.id, warmups).await?;
    }
    tx.commit().await?;
    // PostgreSQL plans from statistics that autovacuum refreshes only later: right after a large
    // study is submitted it would still take the table for small and read a page of the job's
    // rows by sorting all of them. A fresh sample now keeps its pages and its runner on indexes.
    if db.dialect == super::Dialect::Postgres && job.executions.len() >= ANALYZE_AFTER {
        sqlx::query("ANALYZE executions").execute(&db.pool).await?;
    }
    Ok(InsertOutcome::Created)
}

pub async fn get(db: &Db, id: &JobId) -> sqlx::Result<Option<JobRow>> {
    sqlx::query_as("SELECT * FROM jobs WHERE id = $1").bind(id).fetch_optional(&db.pool).await
}

/// Newest first.
pub async fn list(db: &Db, limit: i64) -> sqlx::Result<Vec<JobRow>> {
    sqlx::query_as("SELECT * FROM jobs ORDER BY created_at DESC, id DESC LIMIT $1").bind(limit).fetch_all(&db.pool).await
}

/// Several jobs by id, in one query (unknown ids are left out).
pub async fn get_many(db: &Db, ids: &[&JobId]) -> sqlx::Result<Vec<JobRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT * FROM jobs WHERE id IN ({})", placeholders(1, ids.len()));
    let mut query = sqlx::query_as(assembled(sql));
    for id in ids {
        query = query.bind(*id);
    }
    query.fetch_all(&db.pool).await
}

/// Every job whose stored counters differ from a full recount of its executions, with both:
/// what `beacon check` reports. With `repair`, the stored counters are set to the recount.
pub async fn check_counters(db: &Db, repair: bool) -> sqlx::Result<Vec<(JobId, Counters, Counters)>> {
    let failures = ExecutionStatus::sql(&ExecutionStatus::FAILURES);
    let recount = format!(
        "SELECT j.id,
                j.pending, j.running, j.retrying, j.completed, j.failed, j.cancelled, j.exhausted,
                {}
           FROM jobs j LEFT JOIN executions e ON e.job_id = j.id
          GROUP BY j.id, j.pending, j.running, j.retrying, j.completed, j.failed, j.cancelled, j.exhausted",
        [
            format!("e.status IN {}", ExecutionStatus::sql(&[ExecutionStatus::Pending])),
            format!("e.status IN {}", ExecutionStatus::sql(&[ExecutionStatus::Running])),
            format!("e.status IN {}", ExecutionStatus::sql(&[ExecutionStatus::Retrying])),
            format!("e.status IN {}", ExecutionStatus::sql(&[ExecutionStatus::Completed])),
            format!("e.status IN {failures}"),
            format!("e.status IN {}", ExecutionStatus::sql(&[ExecutionStatus::Cancelled])),
            format!("e.status IN {failures} AND e.retry_count >= e.max_retries"),
        ]
        .iter()
        .map(|condition| format!("CAST(COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0) AS BIGINT)"))
        .collect::<Vec<_>>()
        .join(", ")
    );
    let mut tx = db.write_tx().await?;
    type Recount = (JobId, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64);
    let rows: Vec<Recount> = sqlx::query_as(assembled(recount)).fetch_all(&mut *tx).await?;
    let mut drifted = Vec::new();
    for (id, a, b, c, d, e, f, g, h, i, j, k, l, m, n) in rows {
        let stored = Counters { pending: a, running: b, retrying: c, completed: d, failed: e, cancelled: f, exhausted: g };
        let actual = Counters { pending: h, running: i, retrying: j, completed: k, failed: l, cancelled: m, exhausted: n };
        if stored != actual {
            drifted.push((id, stored, actual));
        }
    }
    if repair {
        for (id, _, actual) in &drifted {
            sqlx::query(
                "UPDATE jobs SET pending = $1, running = $2, retrying = $3, completed = $4, failed = $5,
                                 cancelled = $6, exhausted = $7 WHERE id = $8",
            )
            .bind(actual.pending)
            .bind(actual.running)
            .bind(actual.retrying)
            .bind(actual.completed)
            .bind(actual.failed)
            .bind(actual.cancelled)
            .bind(actual.exhausted)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            recompute_in(db, &mut tx, id).await?;
        }
    }
    tx.commit().await?;
    Ok(drifted)
}

/// Recomputes every job in `jobs` once, in id order (the lock order), then commits: how every
/// write that touched executions of several jobs ends.
pub async fn recompute_and_commit<J: std::borrow::Borrow<JobId> + Ord>(db: &Db, mut tx: super::WriteTx, jobs: &mut Vec<J>) -> sqlx::Result<()> {
    jobs.sort();
    jobs.dedup();
    for job in jobs.iter() {
        recompute_in(db, &mut tx, job.borrow()).await?;
    }
    tx.commit().await
}

/// Derives the job's status from its counters and stores it, inside the transaction that
/// changed its executions (whose triggers have just moved the counters), so the stored status
/// never lags (the earlier system's bug 7). One read of the job row, locked on PostgreSQL so
/// two recomputations of one job take turns; lock order everywhere: execution rows first, then
/// the job row. Returns the job's status and progress, `None` when there is no such job.
pub async fn recompute_in(db: &Db, conn: &mut sqlx::AnyConnection, job_id: &JobId) -> sqlx::Result<Option<(JobStatus, Progress)>> {
    let Some((current, counters)) = lock_status(db, &mut *conn, job_id).await? else { return Ok(None) };
    let progress = counters.progress();
    let status = progress.job_status(current == JobStatus::Cancelled);
    if status != current {
        set_status(conn, job_id, status).await?;
    }
    Ok(Some((status, progress)))
}

pub async fn set_status(conn: &mut sqlx::AnyConnection, job_id: &JobId, status: JobStatus) -> sqlx::Result<()> {
    sqlx::query("UPDATE jobs SET status = $1, updated_at = $2 WHERE id = $3").bind(status).bind(now_ms()).bind(job_id).execute(conn).await?;
    Ok(())
}

/// The job's status and counters, locked on PostgreSQL until the transaction ends (after the
/// execution rows it is about to change: the order every writer locks in).
pub async fn lock_status(db: &Db, conn: &mut sqlx::AnyConnection, job_id: &JobId) -> sqlx::Result<Option<(JobStatus, Counters)>> {
    #[derive(FromRow)]
    struct Locked {
        status: JobStatus,
        #[sqlx(flatten)]
        counters: Counters,
    }
    let locked: Option<Locked> = sqlx::query_as(assembled(format!(
        "SELECT status, pending, running, retrying, completed, failed, cancelled, exhausted
           FROM jobs WHERE id = $1{}",
        db.lock_rows()
    )))
    .bind(job_id)
    .fetch_optional(conn)
    .await?;
    Ok(locked.map(|l| (l.status, l.counters)))
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
    let Some((status, _)) = lock_status(db, &mut tx, job_id).await? else {
        return Ok(CancelOutcome::NotFound);
    };
    // Nothing was active and the job is finished: a finished job's results stay as they are.
    if cancelled.is_empty() && status.is_finished() {
        return Ok(CancelOutcome::AlreadyFinished(status));
    }
    for (id,) in cancelled {
        super::attempts::close_open(&mut tx, id, crate::domain::AttemptStatus::Cancelled, None, now).await?;
    }
    // Warm-ups not yet finished are for work that will not come: none is sent.
    sqlx::query(
        "UPDATE warmups SET status = 'failed', error = 'the job was cancelled', finished_at = $2, lease_expires_at = NULL
          WHERE job_id = $1 AND status IN ('pending', 'running')",
    )
    .bind(job_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    set_status(&mut tx, job_id, JobStatus::Cancelled).await?;
    tx.commit().await?;
    Ok(CancelOutcome::Cancelled)
}
