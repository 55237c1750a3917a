//! Retrying failed executions (PRODUCT.md §4). The rules are `domain::retry::decide`; this
//! module applies them atomically: the idempotency look-up, the facts, the decision, the
//! conditional update and the queued attempt share one write transaction (a group commit, see
//! [`RetryCommitter`]), so of any number of simultaneous requests for one execution exactly one
//! is accepted.

use crate::domain::retry::decide;
use crate::domain::views::{BatchRetryResult, ExecutionFilter, RetryAccepted, SkippedRetry};
use crate::domain::{Catalogue, ExecutionId, ExecutionStatus, IdempotencyKey, JobId, JobStatus, ModelId, Region, Timestamp, Trigger};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::server::db::group_commit::{GroupCommitter, GroupWrite};
use crate::server::db::{self, Db};
use crate::server::error::AppError;
use crate::server::runner::Runner;
use crate::server::telemetry::metrics::Metrics;

/// A retry request, parsed at the edge (the REST handler, the Retry button's server function).
#[derive(Debug, Clone)]
pub struct RetryRequest {
    pub execution_id: ExecutionId,
    /// The region the caller believes the execution is in: a check that the right row is retried.
    pub region: Region,
    /// The execution's `question_index`, the same check.
    pub question_index: i64,
    pub idempotency_key: Option<IdempotencyKey>,
    /// The account asking (None with accounts off).
    pub requested_by: Option<String>,
}

impl RetryRequest {
    /// The request's own checks: the region is a configured one (id or alias, in any case)
    /// and the index is not negative. Whether they match the execution is the rules' call.
    pub fn parse(
        catalogue: &Catalogue,
        execution_id: ExecutionId,
        region: &str,
        question_index: i64,
        idempotency_key: Option<IdempotencyKey>,
        requested_by: Option<String>,
    ) -> Result<RetryRequest, AppError> {
        let region = resolve_region(catalogue, region).ok_or_else(|| {
            AppError::invalid_request(format!("region: unknown region {region:?} (use a region id or alias, see GET /api/v1/regions)"))
        })?;
        if question_index < 0 {
            return Err(AppError::invalid_request("question_index: must be 0 or more"));
        }
        Ok(RetryRequest { execution_id, region, question_index, idempotency_key, requested_by })
    }
}

pub async fn retry(retries: &RetryCommitter, request: RetryRequest, trigger: Trigger) -> Result<RetryAccepted, AppError> {
    let RetryRequest { execution_id, region, question_index, idempotency_key, requested_by } = request;
    let pending = Pending { execution_id, region, question_index, idempotency_key, requested_by, trigger };
    // Until answered: the runner's writes step aside for the group this request joins.
    let waiting = retries.db.request_waiting();
    let result = retries.group.submit(pending).await.unwrap_or_else(|| Err(AppError::Internal(anyhow::anyhow!("the retry committer has stopped"))));
    drop(waiting);
    let decision = match &result {
        Ok(_) => "accepted".to_string(),
        Err(err) => err.code().to_string(),
    };
    retries.metrics.retries.with_label_values(&[trigger.as_str(), decision.as_str()]).inc();
    result
}

/// A validated retry waiting for the group commit.
struct Pending {
    execution_id: ExecutionId,
    region: Region,
    question_index: i64,
    idempotency_key: Option<IdempotencyKey>,
    requested_by: Option<String>,
    trigger: Trigger,
}

/// Retries accepted together (see [`db::group_commit`]): N concurrent acceptances cost one
/// commit and a handful of statements instead of N commits of six to eight statements each.
/// The group is decided in order inside that one transaction, each request on the state the
/// earlier ones left, so exactly-once holds as for a lone request.
///
/// It is also everything the retry service uses: the database, the runner to wake, and the
/// counters.
pub struct RetryCommitter {
    group: GroupCommitter<RetryWrites>,
    db: Db,
    runner: Arc<Runner>,
    metrics: Arc<Metrics>,
}

impl RetryCommitter {
    pub fn start(db: Db, runner: Arc<Runner>, metrics: Arc<Metrics>, shutdown: CancellationToken) -> Arc<RetryCommitter> {
        let (group, queue) = GroupCommitter::new();
        tokio::spawn(queue.run(db.clone(), RetryWrites { runner: Arc::clone(&runner) }, shutdown));
        Arc::new(RetryCommitter { group, db, runner, metrics })
    }
}

struct RetryWrites {
    /// Woken when a group accepted something: there is work to claim.
    runner: Arc<Runner>,
}

impl GroupWrite for RetryWrites {
    type Item = Pending;
    type Answer = Result<RetryAccepted, AppError>;
    type Error = AppError;

    fn order_key(&self, pending: &Pending) -> i64 {
        pending.execution_id.get()
    }

    fn write<'a>(
        &'a self,
        db: &'a Db,
        tx: sqlx::Result<db::WriteTx>,
        group: &'a [Pending],
    ) -> impl std::future::Future<Output = Result<Vec<Self::Answer>, AppError>> + Send + 'a {
        commit_group(db, tx, group)
    }

    fn failed(&self, error: AppError) -> Self::Answer {
        Err(error)
    }

    fn committed(&self, group: &[Pending], answers: &[Option<Self::Answer>]) {
        let mut accepted = false;
        for (pending, answer) in group.iter().zip(answers) {
            if let Some(Ok(retry)) = answer {
                accepted = true;
                tracing::info!(execution = retry.execution_id, attempt = retry.retry_attempt, trigger = pending.trigger.as_str(), "retry accepted");
            }
        }
        if accepted {
            self.runner.wake();
        }
    }
}

/// One transaction for the group, its statements set-wise: every execution asked for is read
/// (and locked) in one statement and every job in another, each request is decided in turn
/// against what the requests before it in the group did, and the accepted ones are updated and
/// their attempts queued together. A failure of any statement fails the group, and the caller
/// then tries each request alone.
async fn commit_group(db: &Db, tx: sqlx::Result<db::WriteTx>, group: &[Pending]) -> Result<Vec<Result<RetryAccepted, AppError>>, AppError> {
    let mut tx = tx?;
    let answers = accept_group(db, &mut tx, group).await?;
    tx.commit().await?;
    Ok(answers)
}

/// How one request of a group was decided, before the updates run.
enum Decided {
    Answered(Result<RetryAccepted, AppError>),
    /// Accepted: the answer needs the updated row.
    Accepted,
    /// The same Idempotency-Key and execution as an earlier request of the group: its answer.
    SameAs(usize),
}

async fn accept_group(db: &Db, conn: &mut sqlx::AnyConnection, group: &[Pending]) -> Result<Vec<Result<RetryAccepted, AppError>>, AppError> {
    let mut ids: Vec<i64> = group.iter().map(|pending| pending.execution_id.get()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut targets: HashMap<i64, db::retries::RetryTarget> =
        db::retries::load_targets(db, conn, &ids).await?.into_iter().map(|target| (target.id, target)).collect();
    let mut job_ids: Vec<&JobId> = targets.values().map(|target| &target.job_id).collect();
    job_ids.sort_unstable();
    job_ids.dedup();
    let locked_jobs = db::retries::lock_job_statuses(db, conn, &job_ids).await?;
    let mut jobs: HashMap<JobId, JobStatus> = locked_jobs.iter().map(|(id, status, _)| (id.clone(), *status)).collect();
    let samples: HashMap<&JobId, i64> = locked_jobs.iter().map(|(id, _, samples)| (id, *samples)).collect();

    // Decided in the group's order, each on the state the earlier ones left: a second request
    // for an execution just accepted sees it `retrying`, exactly as if it had come later.
    let mut decided = Vec::with_capacity(group.len());
    let mut keys_seen: HashMap<(&str, i64), usize> = HashMap::new();
    let mut to_accept: Vec<usize> = Vec::new();
    for (index, pending) in group.iter().enumerate() {
        let id = pending.execution_id.get();
        let key = pending.idempotency_key.as_ref().map(IdempotencyKey::as_str);
        let Some(target) = targets.get_mut(&id) else {
            decided.push(Decided::Answered(Err(AppError::NotFound(format!("execution {} not found", pending.execution_id)))));
            continue;
        };
        if let Some(key) = key {
            if let Some(&first) = keys_seen.get(&(key, id)) {
                decided.push(Decided::SameAs(first));
                continue;
            }
            keys_seen.insert((key, id), index);
            if let Some((status, body)) = db::retries::find_idempotent(conn, key, id).await? {
                decided.push(Decided::Answered(replay(status, &body)));
                continue;
            }
        }
        let job_status = jobs.get(&target.job_id).copied().unwrap_or(JobStatus::Running);
        match decide(&target.retry_facts(job_status), &pending.region, pending.question_index) {
            Ok(()) => {
                target.status = ExecutionStatus::Retrying;
                target.retry_count += 1;
                jobs.insert(target.job_id.clone(), JobStatus::Running);
                to_accept.push(index);
                decided.push(Decided::Accepted);
            }
            Err(refusal) => decided.push(Decided::Answered(Err(refusal.into()))),
        }
    }

    // The updates: one per (trigger, account) among the accepted (usually one), then each job
    // a retry made active again.
    let mut updated: HashMap<i64, (i64, i64)> = HashMap::with_capacity(to_accept.len());
    let mut by_origin: BTreeMap<(Trigger, Option<&str>), Vec<i64>> = BTreeMap::new();
    for &index in &to_accept {
        let pending = &group[index];
        by_origin.entry((pending.trigger, pending.requested_by.as_deref())).or_default().push(pending.execution_id.get());
    }
    for ((trigger, requested_by), ids) in by_origin {
        for (id, retry_count, updated_at) in db::retries::mark_retrying(conn, &ids, trigger, requested_by).await? {
            updated.insert(id, (retry_count, updated_at));
        }
    }
    for (job_id, was, _) in &locked_jobs {
        if *was != JobStatus::Running && jobs.get(job_id) == Some(&JobStatus::Running) {
            db::retries::mark_job_running(conn, job_id).await?;
        }
    }

    let mut answers: Vec<Result<RetryAccepted, AppError>> = Vec::with_capacity(group.len());
    for (pending, decision) in group.iter().zip(decided) {
        let answer = match decision {
            Decided::Answered(answer) => answer,
            // As the stored key would replay it.
            Decided::SameAs(first) => match &answers[first] {
                Ok(accepted) => Ok(accepted.clone()),
                Err(refusal) => Err(AppError::Replayed(refusal.to_api_error())),
            },
            Decided::Accepted => {
                let id = pending.execution_id.get();
                let target = &targets[&id];
                let (retry_count, updated_at) =
                    updated.get(&id).copied().ok_or_else(|| AppError::Internal(anyhow::anyhow!("retry of {id} decided but not applied")))?;
                Ok(RetryAccepted {
                    execution_id: id.to_string(),
                    job_id: target.job_id.clone(),
                    region: target.region.clone(),
                    model_id: target.model_id.clone(),
                    question_id: target.question_id.clone(),
                    question_index: target.question_index,
                    status: ExecutionStatus::Retrying,
                    retry_attempt: retry_count,
                    max_retries: target.max_retries,
                    updated_at: Timestamp::from_millis(updated_at),
                    sample_index: target.sample_index,
                    samples: samples.get(&target.job_id).copied().unwrap_or(1),
                })
            }
        };
        answers.push(answer);
    }

    // Every answer given after the id and body were valid is remembered: the key replays it.
    // Replays and repeats are already stored; "not found" cannot be (a foreign key).
    for (index, pending) in group.iter().enumerate() {
        let Some(key) = pending.idempotency_key.as_ref().map(IdempotencyKey::as_str) else { continue };
        let id = pending.execution_id.get();
        if keys_seen.get(&(key, id)) != Some(&index) || !targets.contains_key(&id) {
            continue;
        }
        let (status, body) = match &answers[index] {
            Err(AppError::Replayed(_)) => continue,
            Ok(accepted) => (202, serde_json::to_value(accepted).map_err(anyhow::Error::from)?),
            Err(refusal) => (refusal.status().as_u16(), refusal.to_api_error().body()),
        };
        db::retries::remember_idempotent(conn, key, id, status, &body.to_string()).await?;
    }
    Ok(answers)
}

fn replay(status: i64, body: &str) -> Result<RetryAccepted, AppError> {
    if status == 202 {
        return Ok(serde_json::from_str(body).map_err(anyhow::Error::from)?);
    }
    let mut answer: crate::domain::ApiError = serde_json::from_str(body).map_err(anyhow::Error::from)?;
    answer.status = u16::try_from(status).map_err(anyhow::Error::from)?;
    Err(AppError::Replayed(answer))
}

/// Narrows "retry all failed" to one region and/or one model, as sent.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(utoipa::ToSchema)]
pub struct BatchFilter {
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub model_id: Option<String>,
}

/// A [`BatchFilter`] whose region and model are configured ones.
#[derive(Debug, Clone, Default)]
pub struct BatchScope {
    pub region: Option<Region>,
    pub model: Option<ModelId>,
}

impl BatchFilter {
    pub fn parse(&self, catalogue: &Catalogue) -> Result<BatchScope, AppError> {
        let region = match self.region.as_deref() {
            Some(raw) => Some(resolve_region(catalogue, raw).ok_or_else(|| AppError::invalid_request(format!("region: unknown region {raw:?}")))?),
            None => None,
        };
        let model = match self.model_id.as_deref() {
            Some(raw) => Some(catalogue.model_id(raw).ok_or_else(|| AppError::invalid_request(format!("model_id: unknown model {raw:?}")))?),
            None => None,
        };
        Ok(BatchScope { region, model })
    }
}

/// Puts every failed execution of the job (optionally of one region / model) through the same
/// rules as a single retry, and accepts the eligible ones together: one transaction, a few
/// statements per 500 rows, so thousands answer in well under a second and exactly-once
/// holds as for one (the rows are locked, and the update re-checks each). Accepted retries are
/// queued; the runner paces them through the per-region limit.
pub async fn retry_all_failed(
    retries: &RetryCommitter,
    job_id: &JobId,
    scope: &BatchScope,
    requested_by: Option<&str>,
) -> Result<BatchRetryResult, AppError> {
    let scope = ExecutionFilter {
        statuses: ExecutionStatus::FAILURES.to_vec(),
        region: scope.region.clone(),
        model: scope.model.as_ref().map(ToString::to_string),
    };
    let db = &retries.db;
    let mut tx = db.write_tx().await?;
    let rows = db::retries::load_failures(db, &mut tx, job_id, &scope).await?;
    let (job_status, _) =
        db::jobs::lock_status(db, &mut tx, job_id).await?.ok_or_else(|| AppError::NotFound(format!("job {:?} not found", job_id.as_str())))?;
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
    let counted = retries.metrics.retries.clone();
    counted.with_label_values(&[Trigger::Batch.as_str(), "accepted"]).inc_by(result.queued.len() as u64);
    for skipped in &result.skipped {
        counted.with_label_values(&[Trigger::Batch.as_str(), skipped.code.as_str()]).inc();
    }
    if !result.queued.is_empty() {
        retries.runner.wake();
        tracing::info!(job = %job_id, queued = result.queued.len(), skipped = result.skipped.len(), "batch retry accepted");
    }
    Ok(result)
}

/// A region as a caller wrote it: a configured id or alias, in any case.
fn resolve_region(catalogue: &Catalogue, raw: &str) -> Option<Region> {
    catalogue.region(raw).map(|info| info.id.clone())
}
