//! Retrying failed executions (PRODUCT.md §4). The rules are `domain::retry::decide`; this
//! module applies them atomically: the idempotency look-up, the facts, the decision, the
//! conditional update and the queued attempt share one write transaction (a savepoint in a
//! group commit, see [`RetryCommitter`]), so of any number of simultaneous requests for one
//! execution exactly one is accepted.

use crate::domain::retry::decide;
use crate::domain::views::{BatchRetryResult, ExecutionFilter, RetryAccepted, SkippedRetry};
use crate::domain::{ExecutionId, ExecutionStatus, JobId, JobStatus, Region, Trigger};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::server::db::{self, rfc3339, Db};
use crate::server::error::AppError;
use crate::server::runner::Runner;
use crate::server::state::AppState;

/// A retry request as a caller sent it: the region as written (code or router region).
#[derive(Debug, Clone)]
pub struct RetryRequest<'a> {
    pub execution_id: ExecutionId,
    pub region: &'a str,
    pub question_index: i64,
    pub idempotency_key: Option<&'a str>,
    /// The account asking (None with accounts off).
    pub requested_by: Option<String>,
}

const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

pub async fn retry(state: &AppState, request: RetryRequest<'_>, trigger: Trigger) -> Result<RetryAccepted, AppError> {
    let result = retry_decided(state, request, trigger).await;
    let decision = match &result {
        Ok(_) => "accepted".to_string(),
        Err(err) => err.code().to_string(),
    };
    state.metrics.retries.with_label_values(&[trigger.as_str(), decision.as_str()]).inc();
    result
}

async fn retry_decided(state: &AppState, request: RetryRequest<'_>, trigger: Trigger) -> Result<RetryAccepted, AppError> {
    let region = resolve_region(state, request.region).ok_or_else(|| {
        AppError::invalid_request(format!("region: unknown region {:?} (use a region id or alias, see GET /api/v1/regions)", request.region))
    })?;
    if request.question_index < 0 {
        return Err(AppError::invalid_request("question_index: must be 0 or more"));
    }
    if let Some(key) = request.idempotency_key {
        if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(AppError::invalid_request(format!(
                "Idempotency-Key: must be 1–{MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"
            )));
        }
    }

    let (answer, answered) = oneshot::channel();
    let pending = Pending {
        execution_id: request.execution_id,
        region,
        question_index: request.question_index,
        idempotency_key: request.idempotency_key.map(str::to_string),
        requested_by: request.requested_by,
        trigger,
        answer,
    };
    if state.retries.queue.send(pending).await.is_err() {
        return Err(AppError::Internal(anyhow::anyhow!("the retry committer has stopped")));
    }
    answered.await.map_err(|_| AppError::Internal(anyhow::anyhow!("the retry committer dropped a request")))?
}

/// A validated retry waiting for the group commit, and where its answer goes.
struct Pending {
    execution_id: ExecutionId,
    region: Region,
    question_index: i64,
    idempotency_key: Option<String>,
    requested_by: Option<String>,
    trigger: Trigger,
    answer: oneshot::Sender<Result<RetryAccepted, AppError>>,
}

/// Retries accepted together: requests that arrive while a transaction is being written go
/// into the next one, each inside its own savepoint, so N concurrent acceptances cost one
/// commit instead of N. Each still reads, decides and updates in turn inside that one
/// transaction, so exactly-once holds as for a lone request.
pub struct RetryCommitter {
    queue: mpsc::Sender<Pending>,
}

/// Retries one transaction accepts at most.
const MAX_GROUP: usize = 128;

impl RetryCommitter {
    pub fn start(db: Db, runner: Arc<Runner>, shutdown: CancellationToken) -> Arc<RetryCommitter> {
        let (queue, pending) = mpsc::channel(4096);
        tokio::spawn(commit_retries(db, runner, pending, shutdown));
        Arc::new(RetryCommitter { queue })
    }
}

async fn commit_retries(db: Db, runner: Arc<Runner>, mut queue: mpsc::Receiver<Pending>, shutdown: CancellationToken) {
    loop {
        let first = tokio::select! {
            pending = queue.recv() => match pending {
                Some(pending) => pending,
                None => return,
            },
            _ = shutdown.cancelled() => return,
        };
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(pending) => group.push(pending),
                Err(_) => break,
            }
        }
        // One order for every group: on PostgreSQL concurrent groups lock rows alike.
        group.sort_by_key(|pending| pending.execution_id);
        let answers = match commit_group(&db, &group).await {
            Ok(answers) => answers,
            // The group's transaction failed as a whole (on PostgreSQL, a deadlock with another
            // instance's group): each request is tried alone, as if it had come alone.
            Err(err) => {
                tracing::warn!(error = %err, retries = group.len(), "a group of retries failed; accepting each alone");
                let mut answers = Vec::with_capacity(group.len());
                for pending in &group {
                    let alone = commit_group(&db, std::slice::from_ref(pending)).await;
                    answers.push(alone.map_or_else(Err, |mut one| one.pop().unwrap_or_else(|| Err(AppError::Internal(anyhow::anyhow!("no answer"))))));
                }
                answers
            }
        };
        let mut accepted = false;
        for (pending, answer) in group.into_iter().zip(answers) {
            if let Ok(retry) = &answer {
                accepted = true;
                tracing::info!(execution = retry.execution_id, attempt = retry.retry_attempt, trigger = pending.trigger.as_str(), "retry accepted");
            }
            let _ = pending.answer.send(answer);
        }
        if accepted {
            runner.wake();
        }
    }
}

/// One transaction for the group, a savepoint per retry: an unexpected failure of one undoes
/// that one only. Returns each retry's answer, accepted or refused.
async fn commit_group(db: &Db, group: &[Pending]) -> Result<Vec<Result<RetryAccepted, AppError>>, AppError> {
    let mut tx = db.write_tx().await?;
    let mut answers = Vec::with_capacity(group.len());
    for pending in group {
        let mut one = sqlx::Connection::begin(&mut *tx).await?;
        match accept_one(db, &mut one, pending).await {
            Ok(answer) => {
                one.commit().await?;
                answers.push(answer);
            }
            Err(internal) => {
                one.rollback().await?;
                answers.push(Err(internal));
            }
        }
    }
    tx.commit().await?;
    Ok(answers)
}

/// One retry inside the group's transaction: the idempotency look-up, the facts, the decision,
/// the conditional update and the queued attempt. The outer error is an unexpected failure
/// (its savepoint is rolled back); the inner result is the answer.
async fn accept_one(
    db: &Db,
    conn: &mut sqlx::AnyConnection,
    pending: &Pending,
) -> Result<Result<RetryAccepted, AppError>, AppError> {
    // Locks the execution (PostgreSQL; SQLite's writer lock is already held), so requests for
    // it, with or without the same key, take turns until this one commits.
    let id = pending.execution_id.get();
    let row = db::retries::load(db, conn, id).await?;
    // The job row, read once and (PostgreSQL) locked after the execution row.
    let job_status = match &row {
        Some(row) => db::jobs::lock_status(db, conn, &row.job_id).await?.map(|(status, _)| status),
        None => None,
    };
    let key = pending.idempotency_key.as_deref();
    if let (Some(key), Some(_)) = (key, &row) {
        if let Some((status, body)) = db::retries::find_idempotent(conn, key, id).await? {
            return Ok(replay(status, &body));
        }
    }
    let result = decide_and_accept(conn, row.zip(job_status), pending).await;
    if let Err(AppError::Internal(err)) = result {
        return Err(AppError::Internal(err));
    }
    // Every answer after the id and body were valid is remembered: the key replays it.
    if let Some(key) = key {
        let (status, body) = match &result {
            Ok(accepted) => (202, serde_json::to_value(accepted).map_err(anyhow::Error::from)?),
            Err(refusal) => (refusal.status().as_u16(), refusal.to_api_error().body()),
        };
        // Remembering needs an existing execution row (foreign key); "not found" is not stored.
        if !matches!(result, Err(AppError::NotFound(_))) {
            db::retries::remember_idempotent(conn, key, id, status, &body.to_string()).await?;
        }
    }
    Ok(result)
}

async fn decide_and_accept(
    tx: &mut sqlx::AnyConnection,
    row: Option<(db::executions::ExecutionRow, JobStatus)>,
    pending: &Pending,
) -> Result<RetryAccepted, AppError> {
    let (row, job_status) =
        row.ok_or_else(|| AppError::NotFound(format!("execution {} not found", pending.execution_id)))?;
    decide(&row.retry_facts(job_status), &pending.region, pending.question_index)?;
    let (_, retry_count, updated_at) = db::retries::accept(tx, &row.job_id, job_status, &[row.id], pending.trigger, pending.requested_by.as_deref())
        .await?
        .pop()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("retry of {} decided but not applied", row.id)))?;
    Ok(RetryAccepted {
        execution_id: row.id.to_string(),
        job_id: row.job_id,
        region: row.region,
        model_id: row.model_id,
        question_id: row.question_id,
        question_index: row.question_index,
        status: ExecutionStatus::Retrying,
        retry_attempt: retry_count,
        max_retries: row.max_retries,
        updated_at: rfc3339(updated_at),
    })
}

fn replay(status: i64, body: &str) -> Result<RetryAccepted, AppError> {
    if status == 202 {
        return Ok(serde_json::from_str(body).map_err(anyhow::Error::from)?);
    }
    let mut answer: crate::domain::ApiError = serde_json::from_str(body).map_err(anyhow::Error::from)?;
    answer.status = u16::try_from(status).map_err(anyhow::Error::from)?;
    Err(AppError::Replayed(answer))
}

/// Narrows "retry all failed" to one region and/or one model.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(utoipa::ToSchema)]
pub struct BatchFilter {
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub model_id: Option<String>,
}

/// Puts every failed execution of the job (optionally of one region / model) through the same
/// rules as a single retry, and accepts the eligible ones together: one transaction, a few
/// statements per 500 rows, so thousands answer in well under a second and exactly-once
/// holds as for one (the rows are locked, and the update re-checks each). Accepted retries are
/// queued; the runner paces them through the per-region limit.
pub async fn retry_all_failed(
    state: &AppState,
    job_id: &JobId,
    filter: &BatchFilter,
    requested_by: Option<&str>,
) -> Result<BatchRetryResult, AppError> {
    let region = match filter.region.as_deref() {
        Some(raw) => Some(resolve_region(state, raw).ok_or_else(|| AppError::invalid_request(format!("region: unknown region {raw:?}")))?),
        None => None,
    };
    let model = match filter.model_id.as_deref() {
        Some(raw) => Some(state.config.setup.catalogue.model(raw).ok_or_else(|| AppError::invalid_request(format!("model_id: unknown model {raw:?}")))?),
        None => None,
    };
    let scope = ExecutionFilter { statuses: ExecutionStatus::FAILURES.to_vec(), region, model: model.map(|m| m.id.to_string()) };

    let db = &state.db;
    let mut tx = db.write_tx().await?;
    let rows = db::retries::load_failures(db, &mut tx, job_id, &scope).await?;
    let (job_status, _) = db::jobs::lock_status(db, &mut tx, job_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("job {:?} not found", job_id.as_str())))?;
    let mut result = BatchRetryResult::default();
    let mut eligible = Vec::with_capacity(rows.len());
    for row in &rows {
        // The batch asks for each row's own region and question: the other rules decide.
        match decide(&row.retry_facts(job_status), &row.region, row.question_index) {
            Ok(()) => eligible.push(row.id),
            Err(refusal) => result.skipped.push(SkippedRetry { id: row.id, code: refusal.code().to_string() }),
        }
    }
    let accepted = db::retries::accept(&mut tx, job_id, job_status, &eligible, Trigger::Batch, requested_by).await?;
    tx.commit().await?;
    result.queued = accepted.into_iter().map(|(id, _, _)| id).collect();
    let counted = state.metrics.retries.clone();
    counted.with_label_values(&[Trigger::Batch.as_str(), "accepted"]).inc_by(result.queued.len() as u64);
    for skipped in &result.skipped {
        counted.with_label_values(&[Trigger::Batch.as_str(), skipped.code.as_str()]).inc();
    }
    if !result.queued.is_empty() {
        state.runner.wake();
        tracing::info!(job = %job_id, queued = result.queued.len(), skipped = result.skipped.len(), "batch retry accepted");
    }
    Ok(result)
}

/// A region as a caller wrote it: a configured id or alias, in any case.
fn resolve_region(state: &AppState, raw: &str) -> Option<Region> {
    state.config.setup.catalogue.region(raw).map(|info| info.id.clone())
}
