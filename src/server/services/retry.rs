//! Retrying failed executions (PRODUCT.md §4). The rules are `domain::retry::decide`; this
//! module applies them atomically: the idempotency look-up, the facts, the decision, the
//! conditional update and the queued attempt share one write transaction, so of any number
//! of simultaneous requests for one execution exactly one is accepted.

use crate::domain::retry::decide;
use crate::domain::views::{BatchRetryResult, ExecutionFilter, RetryAccepted, SkippedRetry};
use crate::domain::{ExecutionId, ExecutionStatus, JobId, JobStatus, Model, Region, Trigger};
use crate::server::db::{self, rfc3339};
use crate::server::error::AppError;
use crate::server::state::AppState;

/// A retry request as a caller sent it: the region as written (code or router region).
#[derive(Debug, Clone)]
pub struct RetryRequest<'a> {
    pub execution_id: ExecutionId,
    pub region: &'a str,
    pub question_index: i64,
    pub idempotency_key: Option<&'a str>,
}

const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

pub async fn retry(state: &AppState, request: RetryRequest<'_>, trigger: Trigger) -> Result<RetryAccepted, AppError> {
    let region = Region::parse(request.region).ok_or_else(|| {
        AppError::invalid_request(format!("region: unknown region {:?} (use US, EU, ASIA/APAC or a router region)", request.region))
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

    let db = &state.db;
    let mut tx = db.write_tx().await?;
    // Locks the execution (PostgreSQL; SQLite's writer lock is already held), so requests for
    // it, with or without the same key, take turns until this one commits.
    let id = request.execution_id.get();
    let row = db::retries::load(db, &mut tx, id).await?;
    // The job row, read once and (PostgreSQL) locked after the execution row.
    let job_status = match &row {
        Some(row) => db::jobs::lock_status(db, &mut tx, &row.job_id).await?.map(|(status, _)| status),
        None => None,
    };
    if let (Some(key), Some(_)) = (request.idempotency_key, &row) {
        if let Some((status, body)) = db::retries::find_idempotent(&mut tx, key, id).await? {
            tx.commit().await?;
            return replay(status, &body);
        }
    }
    let result = decide_and_accept(&mut tx, row.zip(job_status), &request, region, trigger).await;
    let result = match result {
        Err(AppError::Internal(err)) => return Err(AppError::Internal(err)),
        other => other,
    };
    // Every answer after the id and body were valid is remembered: the key replays it.
    if let Some(key) = request.idempotency_key {
        let (status, body) = match &result {
            Ok(accepted) => (202, serde_json::to_value(accepted).map_err(anyhow::Error::from)?),
            Err(refusal) => (refusal.status().as_u16(), refusal.to_api_error().body()),
        };
        // Remembering needs an existing execution row (foreign key); "not found" is not stored.
        if !matches!(result, Err(AppError::NotFound(_))) {
            db::retries::remember_idempotent(&mut tx, key, id, status, &body.to_string()).await?;
        }
    }
    tx.commit().await?;
    if let Ok(accepted) = &result {
        state.runner.wake();
        tracing::info!(execution = accepted.execution_id, attempt = accepted.retry_attempt, trigger = trigger.as_str(), "retry accepted");
    }
    result
}

async fn decide_and_accept(
    tx: &mut sqlx::AnyConnection,
    row: Option<(db::executions::ExecutionRow, JobStatus)>,
    request: &RetryRequest<'_>,
    region: Region,
    trigger: Trigger,
) -> Result<RetryAccepted, AppError> {
    let (row, job_status) =
        row.ok_or_else(|| AppError::NotFound(format!("execution {} not found", request.execution_id)))?;
    decide(&row.retry_facts(job_status), region, request.question_index)?;
    let (_, retry_count, updated_at) = db::retries::accept(tx, &row.job_id, job_status, &[row.id], trigger)
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
pub async fn retry_all_failed(state: &AppState, job_id: &JobId, filter: &BatchFilter) -> Result<BatchRetryResult, AppError> {
    let region = match filter.region.as_deref() {
        Some(raw) => Some(Region::parse(raw).ok_or_else(|| AppError::invalid_request(format!("region: unknown region {raw:?}")))?),
        None => None,
    };
    let model = match filter.model_id.as_deref() {
        Some(raw) => Some(Model::find(raw).ok_or_else(|| AppError::invalid_request(format!("model_id: unknown model {raw:?}")))?),
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
        match decide(&row.retry_facts(job_status), row.region, row.question_index) {
            Ok(()) => eligible.push(row.id),
            Err(refusal) => result.skipped.push(SkippedRetry { id: row.id, code: refusal.code().to_string() }),
        }
    }
    let accepted = db::retries::accept(&mut tx, job_id, job_status, &eligible, Trigger::Batch).await?;
    tx.commit().await?;
    result.queued = accepted.into_iter().map(|(id, _, _)| id).collect();
    if !result.queued.is_empty() {
        state.runner.wake();
        tracing::info!(job = %job_id, queued = result.queued.len(), skipped = result.skipped.len(), "batch retry accepted");
    }
    Ok(result)
}
