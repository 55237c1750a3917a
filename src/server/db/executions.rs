use sqlx::FromRow;

use crate::domain::views::{ExecutionFilter, ExecutionView};
use crate::domain::{AttemptStatus, ExecutionStatus, JobId, Region, Trigger};

use super::{assembled, now_ms, Db, WriteTx};

/// Executions are read as the view itself ([`ExecutionView`] derives `FromRow`).
pub type ExecutionRow = ExecutionView;

pub(super) const SELECT_ROW: &str = "SELECT e.id, e.job_id, e.region, e.model_id, e.question_id, e.question_index,
        e.sample_index, e.status, e.provider_id, e.output, e.error, e.error_code, e.original_error,
        e.original_error_code, e.retry_count, e.max_retries, e.last_retry_at, e.started_at,
        e.completed_at, e.duration_ms, e.created_at, e.updated_at,
        e.auto_retries, e.auto_retry_count, e.next_attempt_at,
        (SELECT COUNT(*) FROM execution_attempts a WHERE a.execution_id = e.id) AS attempts
   FROM executions e";

/// Where a page of executions starts: after an id (the API's keyset cursor: stable while
/// rows change), or after skipping some (the page's numbered pages).
#[derive(Debug, Clone, Copy)]
pub enum Window {
    After(i64),
    Offset(i64),
}

/// Up to `limit` of a job's executions matching `filter`, in table order (region, model,
/// question: the order they were created in, so their ids'). One indexed query, whatever the
/// size of the job.
pub async fn list_page(db: &Db, job_id: &JobId, filter: &ExecutionFilter, window: Window, limit: i64) -> sqlx::Result<Vec<ExecutionRow>> {
    let (after, offset) = match window {
        Window::After(id) => (id, String::new()),
        Window::Offset(skip) => (0, format!(" OFFSET {}", skip.max(0))),
    };
    let mut conditions = "e.job_id = $1 AND e.id > $2".to_string();
    let binds = filter_conditions(filter, &mut conditions, 3);
    let sql = format!("{SELECT_ROW} WHERE {conditions} ORDER BY e.id LIMIT {}{offset}", limit.max(0));
    let mut query = sqlx::query_as(assembled(sql)).bind(job_id).bind(after);
    for bind in binds {
        query = query.bind(bind);
    }
    query.fetch_all(&db.pool).await
}

/// A job's executions of questions `from..to` (by `question_index`) matching `filter`: a step
/// of an export, which reads the job in question order.
pub async fn list_for_questions(db: &Db, job_id: &JobId, from: i64, to: i64, filter: &ExecutionFilter) -> sqlx::Result<Vec<ExecutionRow>> {
    let mut conditions = "e.job_id = $1 AND e.question_index >= $2 AND e.question_index < $3".to_string();
    let binds = filter_conditions(filter, &mut conditions, 4);
    let sql = format!("{SELECT_ROW} WHERE {conditions}");
    let mut query = sqlx::query_as(assembled(sql)).bind(job_id).bind(from).bind(to);
    for bind in binds {
        query = query.bind(bind);
    }
    query.fetch_all(&db.pool).await
}

/// How many of a job's executions match `filter`.
pub async fn count_matching(db: &Db, job_id: &JobId, filter: &ExecutionFilter) -> sqlx::Result<i64> {
    let mut conditions = "job_id = $1".to_string();
    let binds = filter_conditions(filter, &mut conditions, 2);
    let mut query = sqlx::query_scalar(assembled(format!("SELECT COUNT(*) FROM executions e WHERE {conditions}"))).bind(job_id);
    for bind in binds {
        query = query.bind(bind);
    }
    query.fetch_one(&db.pool).await
}

/// Appends `filter`'s conditions (numbered from `$first`) and returns their values in order.
pub(super) fn filter_conditions(filter: &ExecutionFilter, conditions: &mut String, first: usize) -> Vec<String> {
    let mut binds: Vec<String> = Vec::new();
    if !filter.statuses.is_empty() {
        conditions.push_str(&format!(" AND e.status IN ({})", super::placeholders(first, filter.statuses.len())));
        binds.extend(filter.statuses.iter().map(|s| s.as_str().to_string()));
    }
    if let Some(region) = &filter.region {
        conditions.push_str(&format!(" AND e.region = ${}", first + binds.len()));
        binds.push(region.router_region().to_string());
    }
    if let Some(model) = &filter.model {
        conditions.push_str(&format!(" AND e.model_id = ${}", first + binds.len()));
        binds.push(model.clone());
    }
    binds
}

/// All of a job's executions, in table order.
pub async fn list_for_job(db: &Db, job_id: &JobId) -> sqlx::Result<Vec<ExecutionRow>> {
    list_page(db, job_id, &ExecutionFilter::default(), Window::After(0), i64::MAX).await
}

pub async fn get(db: &Db, id: i64) -> sqlx::Result<Option<ExecutionRow>> {
    sqlx::query_as(assembled(format!("{SELECT_ROW} WHERE e.id = $1"))).bind(id).fetch_optional(&db.pool).await
}

/// Several executions by id, in one query (what the live feed sends after a burst of
/// changes). Unknown ids are left out.
pub async fn get_many(db: &Db, ids: &[i64]) -> sqlx::Result<Vec<ExecutionRow>> {
    let mut rows = Vec::with_capacity(ids.len());
    // Bounded statements: PostgreSQL takes at most 65,535 parameters, SQLite 32,766.
    for chunk in ids.chunks(1000) {
        let sql = format!("{SELECT_ROW} WHERE e.id IN ({})", super::placeholders(1, chunk.len()));
        let mut query = sqlx::query_as(assembled(sql));
        for id in chunk {
            query = query.bind(*id);
        }
        rows.extend(query.fetch_all(&db.pool).await?);
    }
    Ok(rows)
}

/// Work the runner has claimed: it holds the lease until it finishes or stops renewing.
#[derive(Debug, Clone, FromRow)]
pub struct Claimed {
    pub id: i64,
    pub job_id: JobId,
    pub request_json: String,
    pub attempt_id: i64,
    /// This claim's own token, held in `lease_owner`: only the task that made the claim can
    /// renew or finish it. A row swept and claimed again gets a new token, so a stalled task
    /// that wakes up later changes nothing (SAFETY.md §5).
    pub claim: String,
    /// The row's automatic-retry budget and what its current chain has used.
    pub auto_retries: i64,
    pub auto_retry_count: i64,
    pub region: Region,
    pub model_id: String,
}

#[derive(FromRow)]
struct ClaimedRow {
    id: i64,
    job_id: JobId,
    request_json: String,
    status: ExecutionStatus,
    lease_owner: String,
    auto_retries: i64,
    auto_retry_count: i64,
    region: Region,
    model_id: String,
}

/// The claim (see [`claim_at_turn`]): `$1`–`$9` as bound there, then the models. The pick
/// walks `executions_claim_order` (migration 0013), whose condition it repeats word for word;
/// the update finds the picked rows by id (on SQLite, `Db::without_index` keeps the planner
/// from walking every queued row of the status instead).
pub fn claim_statement(db: &Db, models: usize) -> String {
    let claimable = ExecutionStatus::sql(&ExecutionStatus::CLAIMABLE);
    format!(
        "WITH picked AS MATERIALIZED (
             SELECT id FROM executions
              WHERE region = $6 AND model_id IN ({}) AND lease_owner IS NULL AND status IN {claimable}
                AND (next_attempt_at IS NULL OR next_attempt_at <= $3) AND {}
              ORDER BY updated_at, id LIMIT $7{})
         UPDATE executions
            SET status = CASE WHEN status = $1 THEN $2 ELSE status END,
                started_at = $3, lease_owner = $4 || ':' || $8 || ':' || CAST(id AS TEXT),
                lease_expires_at = $5, updated_at = $3, next_attempt_at = NULL
          WHERE id IN (SELECT id FROM picked)
            AND {} IN {claimable} AND lease_owner IS NULL
      RETURNING id, job_id, request_json, status, lease_owner, auto_retries, auto_retry_count, region, model_id",
        super::placeholders(10, models),
        super::warmups::not_warming("$9", "$3"),
        db.skip_locked(),
        db.without_index("status"),
    )
}

/// Claims the oldest queued execution of `region` for `owner` (see [`claim_batch`]).
pub async fn claim_next(db: &Db, region: &Region, models: &[String], owner: &str, lease_until: i64) -> sqlx::Result<Option<Claimed>> {
    Ok(claim_batch(db, "", region, models, owner, lease_until, 1).await?.pop())
}

/// Claims up to `limit` of the oldest queued executions of `region` (pending rows, or retries
/// waiting for their turn) for `owner` until `lease_until`, and opens their attempts. Each row
/// gets its own claim token, `owner:batch:id` (unique per claim, and it says which instance
/// holds the row). One
/// transaction and a handful of statements however many rows. A row is claimed by one owner
/// only: the update re-checks that nobody holds it.
/// Only rows of `models` are taken: the claimer is a provider, serving those in `region`.
pub async fn claim_batch(
    db: &Db,
    provider_id: &str,
    region: &Region,
    models: &[String],
    owner: &str,
    lease_until: i64,
    limit: i64,
) -> sqlx::Result<Vec<Claimed>> {
    claim_at_turn(db, provider_id, region, models, owner, lease_until, || limit).await
}

/// As [`claim_batch`], with the limit asked once the writer's turn has come: the runner takes
/// every slot that has come free while it waited, so a busy writer means fewer, larger claims.
pub async fn claim_at_turn(
    db: &Db,
    provider_id: &str,
    region: &Region,
    models: &[String],
    owner: &str,
    lease_until: i64,
    limit: impl FnOnce() -> i64,
) -> sqlx::Result<Vec<Claimed>> {
    if models.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = db.write_tx().await?;
    let limit = limit();
    if limit <= 0 {
        return Ok(Vec::new());
    }
    let now = now_ms();
    // On PostgreSQL the sub-select skips rows another instance is claiming right now, so
    // instances never queue behind each other and never take the same row.
    // The rows are picked once, into a materialised list: an `IN (sub-select … LIMIT n
    // SKIP LOCKED)` may be evaluated more than once by PostgreSQL, each time skipping the rows
    // it has just locked, and so claim more than `limit`.
    let batch = uuid::Uuid::new_v4().simple().to_string();
    let mut claim = sqlx::query_as::<_, ClaimedRow>(assembled(claim_statement(db, models.len())))
        .bind(ExecutionStatus::Pending)
        .bind(ExecutionStatus::Running)
        .bind(now)
        .bind(owner)
        .bind(lease_until)
        .bind(region)
        .bind(limit)
        .bind(&batch)
        .bind(provider_id);
    for model in models {
        claim = claim.bind(model);
    }
    let claimed: Vec<ClaimedRow> = claim.fetch_all(&mut *tx).await?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    // A retry's attempt was queued when the retry was accepted: it starts now. A new row's
    // first attempt opens now.
    let ids: Vec<i64> = claimed.iter().map(|row| row.id).collect();
    let list = super::placeholders(4, ids.len());
    let mut start = sqlx::query_as::<_, (i64, i64)>(assembled(format!(
        "UPDATE execution_attempts SET status = $1, started_at = $2
          WHERE status = $3 AND execution_id IN ({list}) RETURNING execution_id, id"
    )))
    .bind(AttemptStatus::Running)
    .bind(now)
    .bind(AttemptStatus::Queued);
    for id in &ids {
        start = start.bind(*id);
    }
    let mut attempts: std::collections::HashMap<i64, i64> = start.fetch_all(&mut *tx).await?.into_iter().collect();
    let unopened: Vec<(i64, Trigger)> = claimed
        .iter()
        .filter(|row| !attempts.contains_key(&row.id))
        .map(|row| (row.id, if row.status == ExecutionStatus::Retrying { Trigger::Manual } else { Trigger::Initial }))
        .collect();
    for trigger in [Trigger::Initial, Trigger::Manual] {
        let ids: Vec<i64> = unopened.iter().filter(|(_, t)| *t == trigger).map(|(id, _)| *id).collect();
        if !ids.is_empty() {
            attempts.extend(super::attempts::open(&mut tx, &ids, trigger, None, AttemptStatus::Running, now).await?);
        }
    }
    let mut jobs: Vec<&JobId> = claimed.iter().map(|row| &row.job_id).collect();
    super::jobs::recompute_and_commit(db, tx, &mut jobs).await?;
    Ok(claimed
        .into_iter()
        .map(|row| Claimed {
            attempt_id: attempts[&row.id],
            id: row.id,
            job_id: row.job_id,
            request_json: row.request_json,
            claim: row.lease_owner,
            auto_retries: row.auto_retries,
            auto_retry_count: row.auto_retry_count,
            region: row.region,
            model_id: row.model_id,
        })
        .collect())
}

/// Whether `claimed` still holds its row (nobody cancelled, swept or re-claimed it).
pub async fn still_held(db: &Db, claimed: &Claimed) -> sqlx::Result<bool> {
    let held: Option<i64> = sqlx::query_scalar("SELECT id FROM executions WHERE id = $1 AND lease_owner = $2")
        .bind(claimed.id)
        .bind(&claimed.claim)
        .fetch_optional(&db.pool)
        .await?;
    Ok(held.is_some())
}

/// Renews every claim in `claims` (the runner's calls in flight) in one statement per 500.
/// Returns the claims still held; the others were taken (cancel, sweep) and need no renewal.
pub async fn renew_leases(db: &Db, claims: &[String], lease_until: i64) -> sqlx::Result<Vec<String>> {
    let leased = ExecutionStatus::sql(&ExecutionStatus::LEASED);
    let mut held = Vec::with_capacity(claims.len());
    for chunk in claims.chunks(500) {
        let mut renew = sqlx::query_scalar::<_, String>(assembled(format!(
            "UPDATE executions SET lease_expires_at = $1
              WHERE lease_owner IN ({}) AND status IN {leased}
          RETURNING lease_owner",
            super::placeholders(2, chunk.len())
        )))
        .bind(lease_until);
        for claim in chunk {
            renew = renew.bind(claim);
        }
        held.extend(renew.fetch_all(&db.pool).await?);
    }
    Ok(held)
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: ExecutionStatus,
    pub output: Option<String>,
    pub provider_id: Option<String>,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub provenance: Provenance,
    /// Set by the runner when this failure is to be retried automatically: the wait, in ms.
    pub auto_retry_in_ms: Option<i64>,
}

/// How an attempt was served (PROVIDERS.md §5), recorded on the attempt.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Provenance {
    pub provider_kind: Option<String>,
    pub served_model: Option<String>,
    pub finish_reason: Option<String>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub system_fingerprint: Option<String>,
    /// SHA-256 (hex) of the exact body sent, and that body.
    pub request_hash: Option<String>,
    pub request_body: Option<String>,
    /// How long the provider asked to be left alone (`Retry-After`), in ms; not stored.
    pub retry_after_ms: Option<u64>,
}

impl Outcome {
    pub fn answered(text: String) -> Outcome {
        Outcome {
            status: ExecutionStatus::Completed,
            output: Some(text),
            provider_id: None,
            error_code: None,
            error: None,
            provenance: Provenance::default(),
            auto_retry_in_ms: None,
        }
    }

    pub fn failed(status: ExecutionStatus, code: crate::domain::FailureCode, message: String) -> Outcome {
        Outcome {
            status,
            output: None,
            provider_id: None,
            error_code: Some(code.to_string()),
            error: Some(message),
            provenance: Provenance::default(),
            auto_retry_in_ms: None,
        }
    }
}

/// Records an attempt's outcome on the attempt and on its execution, if the claim is still
/// held. Returns false when it was not (cancelled or swept meanwhile): an answer is then kept
/// on its attempt as a late answer, and the execution is not changed.
pub async fn finish(db: &Db, claimed: &Claimed, outcome: &Outcome) -> sqlx::Result<bool> {
    Ok(finish_many(db, db.write_tx().await?, &[(claimed, outcome)]).await?.pop().unwrap_or(false))
}

/// Records many outcomes in one transaction (the runner's group commit): one commit, and one
/// status derivation per job, for any number of finished attempts. Rows are written job by job,
/// in job order, so on PostgreSQL every group takes the job rows' locks in the same order.
/// Returns, per item in order, whether its execution was still ours. `tx` is a write
/// transaction the caller has opened (its turn at the writer; the group is what queued meanwhile).
pub async fn finish_many(db: &Db, mut tx: WriteTx, items: &[(&Claimed, &Outcome)]) -> sqlx::Result<Vec<bool>> {
    let now = now_ms();
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|a, b| items[*a].0.job_id.cmp(&items[*b].0.job_id));
    let mut still_ours = vec![false; items.len()];
    let leased = ExecutionStatus::sql(&ExecutionStatus::LEASED);
    for index in order {
        let (claimed, outcome) = items[index];
        let execution = sqlx::query(assembled(format!(
            "UPDATE executions
                SET status = $1, output = $2, provider_id = COALESCE($3, provider_id),
                    error = $4, error_code = $5,
                    original_error = COALESCE(original_error, $4),
                    original_error_code = COALESCE(original_error_code, $5),
                    completed_at = $6, duration_ms = $6 - started_at, updated_at = $6,
                    lease_owner = NULL, lease_expires_at = NULL,
                    auto_retry_count = auto_retry_count + $9, next_attempt_at = $10
              WHERE id = $7 AND lease_owner = $8 AND status IN {leased}"
        )))
        // An automatic retry keeps the row `retrying` until its next attempt may start.
        .bind(if outcome.auto_retry_in_ms.is_some() { ExecutionStatus::Retrying } else { outcome.status })
        .bind(&outcome.output)
        .bind(&outcome.provider_id)
        .bind(&outcome.error)
        .bind(&outcome.error_code)
        .bind(now)
        .bind(claimed.id)
        .bind(&claimed.claim)
        .bind(i64::from(outcome.auto_retry_in_ms.is_some()))
        .bind(outcome.auto_retry_in_ms.map(|wait| now + wait))
        .execute(&mut *tx)
        .await?;
        still_ours[index] = execution.rows_affected() == 1;
        // On time, the attempt gets the outcome; late (the claim was taken by a cancel or a
        // sweep, which closed the attempt), only the answer, marked late: the GPU time was
        // spent. Either way it records what was sent and how it was served.
        if still_ours[index] {
            bind_provenance(
                sqlx::query(assembled(format!(
                    "UPDATE execution_attempts
                        SET status = $10, error_code = $11, error = $12, finished_at = $13,
                            duration_ms = $13 - started_at, output = $14, {PROVENANCE}
                      WHERE id = $15 AND status = $16"
                ))),
                outcome,
            )
            .bind(AttemptStatus::from_outcome(outcome.status))
            .bind(&outcome.error_code)
            .bind(&outcome.error)
            .bind(now)
            .bind(&outcome.output)
            .bind(claimed.attempt_id)
            .bind(AttemptStatus::Running)
            .execute(&mut *tx)
            .await?;
            if let Some(wait) = outcome.auto_retry_in_ms {
                let opened = super::attempts::open(&mut tx, &[claimed.id], Trigger::Auto, None, AttemptStatus::Queued, now).await?;
                for (_, attempt) in opened {
                    sqlx::query("UPDATE execution_attempts SET backoff_ms = $1 WHERE id = $2").bind(wait).bind(attempt).execute(&mut *tx).await?;
                }
            }
        } else {
            // Late: the answer (if there is one) and how it was served; a late failure keeps
            // its provenance too.
            bind_provenance(
                sqlx::query(assembled(format!(
                    "UPDATE execution_attempts
                        SET output = COALESCE(output, $10),
                            late_at = CASE WHEN output IS NULL AND $10 IS NOT NULL THEN $11 ELSE late_at END, {PROVENANCE}
                      WHERE id = $12"
                ))),
                outcome,
            )
            .bind(&outcome.output)
            .bind(now)
            .bind(claimed.attempt_id)
            .execute(&mut *tx)
            .await?;
        }
    }
    let mut jobs: Vec<&JobId> = items.iter().zip(&still_ours).filter(|(_, ours)| **ours).map(|((claimed, _), _)| &claimed.job_id).collect();
    super::jobs::recompute_and_commit(db, tx, &mut jobs).await?;
    Ok(still_ours)
}

/// The provenance columns of an attempt, set from parameters $1–$9 (see [`bind_provenance`]).
const PROVENANCE: &str = "provider_id = COALESCE($1, provider_id), provider_kind = $2, served_model = $3, \
     finish_reason = $4, prompt_tokens = $5, completion_tokens = $6, system_fingerprint = $7, \
     request_hash = $8, request_json = COALESCE($9, request_json)";

fn bind_provenance<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    outcome: &'q Outcome,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    let p = &outcome.provenance;
    query
        .bind(&outcome.provider_id)
        .bind(&p.provider_kind)
        .bind(&p.served_model)
        .bind(&p.finish_reason)
        .bind(p.prompt_tokens)
        .bind(p.completion_tokens)
        .bind(&p.system_fingerprint)
        .bind(&p.request_hash)
        .bind(&p.request_body)
}

/// Marks the executions of these claims, if still held, `error`/`INTERRUPTED`, closes their
/// attempts and releases their leases: a stopping server does this for the calls that did not
/// finish in its grace period, so they are retryable at once, with no wait for a lease.
pub async fn interrupt_claims(db: &Db, claims: &[Claimed]) -> sqlx::Result<usize> {
    let now = now_ms();
    let mut tx = db.write_tx().await?;
    let leased = ExecutionStatus::sql(&ExecutionStatus::LEASED);
    let mut jobs = Vec::new();
    for claimed in claims {
        let interrupted = sqlx::query(assembled(format!(
            "UPDATE executions
                SET status = $1, error_code = $2, error = $3,
                    original_error = COALESCE(original_error, $3),
                    original_error_code = COALESCE(original_error_code, $2),
                    completed_at = $4, updated_at = $4, lease_owner = NULL, lease_expires_at = NULL
              WHERE id = $5 AND lease_owner = $6 AND status IN {leased}"
        )))
        .bind(ExecutionStatus::Error)
        .bind("INTERRUPTED")
        .bind(SHUTDOWN_MESSAGE)
        .bind(now)
        .bind(claimed.id)
        .bind(&claimed.claim)
        .execute(&mut *tx)
        .await?;
        if interrupted.rows_affected() == 1 {
            super::attempts::close_open(&mut tx, claimed.id, AttemptStatus::Interrupted, Some(("INTERRUPTED", SHUTDOWN_MESSAGE)), now).await?;
            jobs.push(&claimed.job_id);
        }
    }
    let count = jobs.len();
    super::jobs::recompute_and_commit(db, tx, &mut jobs).await?;
    Ok(count)
}

pub const SHUTDOWN_MESSAGE: &str = "Interrupted: Beacon was stopped before the router answered; retry it";

pub const INTERRUPTED_MESSAGE: &str = "Interrupted: the worker running this execution stopped before the router answered";

/// Turns every running or retrying row whose lease has expired into `error`/`INTERRUPTED`
/// and closes its open attempt, and recomputes their jobs. Returns the affected jobs.
pub async fn sweep_expired_leases(db: &Db) -> sqlx::Result<Vec<JobId>> {
    let now = now_ms();
    let mut tx = db.write_tx().await?;
    let leased = ExecutionStatus::sql(&ExecutionStatus::LEASED);
    let swept: Vec<(i64, JobId)> = sqlx::query_as(assembled(format!(
        "UPDATE executions
            SET status = $1, error_code = $2, error = $3,
                original_error = COALESCE(original_error, $3),
                original_error_code = COALESCE(original_error_code, $2),
                completed_at = $4, updated_at = $4, lease_owner = NULL, lease_expires_at = NULL
          WHERE lease_owner IS NOT NULL AND lease_expires_at < $4
            AND status IN {leased}
      RETURNING id, job_id"
    )))
    .bind(ExecutionStatus::Error)
    .bind("INTERRUPTED")
    .bind(INTERRUPTED_MESSAGE)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    for (id, _) in &swept {
        super::attempts::close_open(&mut tx, *id, AttemptStatus::Interrupted, Some(("INTERRUPTED", INTERRUPTED_MESSAGE)), now).await?;
    }
    let mut jobs: Vec<JobId> = swept.into_iter().map(|(_, job)| job).collect();
    super::jobs::recompute_and_commit(db, tx, &mut jobs).await?;
    Ok(jobs)
}
