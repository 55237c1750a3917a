//! Submitting, reading and cancelling jobs.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::domain::views::{AttemptView, ExecutionFilter, ExecutionHistory, ExecutionView, JobPageData, JobView, PageInfo};
use crate::domain::{Catalogue, ExecutionId, JobId, JobStatus, QuestionId};
use crate::server::config::Config;
use crate::server::db::executions::Window;
use crate::server::db::jobs::{CancelOutcome, InsertOutcome, JobParameters, NewExecution, NewJob};
use crate::server::db::{self, now_ms, Db};
use crate::server::error::AppError;
use crate::server::providers::request::Prompt;
use crate::server::runner::Runner;

pub use super::job_spec::{CreateJob, JobSpec};

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobCreated {
    pub id: JobId,
    pub status: JobStatus,
    pub total_executions: i64,
}

/// Creates the job `spec` describes for `created_by` (the account submitting it; None with
/// accounts off). What needs the database is checked here: the questions exist, and the job
/// they make is not larger than this server allows.
pub async fn create(db: &Db, runner: &Runner, config: &Config, spec: &JobSpec, created_by: Option<&str>) -> Result<JobCreated, AppError> {
    // A question edited or deleted between reading it and storing the job makes the insert
    // step back (the job must ask what the question says when it becomes immutable): read
    // again. Twice is already rare; five times means something is rewriting questions.
    for _ in 0..5 {
        if let Some(created) = create_once(db, config, spec, created_by).await? {
            runner.wake();
            return Ok(created);
        }
    }
    Err(AppError::refused(crate::domain::ErrorCode::QuestionChanged, "the job's questions kept changing while it was being created; submit it again"))
}

/// One try at creating the job; `None` when a question changed under it.
async fn create_once(db: &Db, config: &Config, spec: &JobSpec, created_by: Option<&str>) -> Result<Option<JobCreated>, AppError> {
    let setup = &config.setup;
    let (questions, catalogue) = job_questions(db, spec).await?;
    let JobSpec { samples, max_tokens, temperature, seed, .. } = *spec;
    let (models, regions) = (&spec.models, &spec.regions);

    // Refused before a single row is built: the size is known from the lists.
    let size = (questions.len() * models.len() * regions.len()) as i64 * samples;
    if size > config.max_executions_per_job {
        return Err(AppError::refused(
            crate::domain::ErrorCode::JobTooLarge,
            format!(
                "{} questions × {} models × {} regions × {samples} samples = {size} executions, more than this server allows per job ({}, BEACON_MAX_EXECUTIONS_PER_JOB)",
                questions.len(),
                models.len(),
                regions.len(),
                config.max_executions_per_job
            ),
        ));
    }

    // Inserted in table order (region, model, question, sample): ids follow it, so the keyset
    // pages and the page's table read in id order.
    let mut executions = Vec::with_capacity(size as usize);
    for region in regions {
        let system = setup.system_prompt(region);
        for model in models {
            for (index, question_id) in questions.iter().enumerate() {
                // Every sample sends the same request: its parameters are part of it.
                let request_json: std::sync::Arc<str> = Prompt {
                    region: region.to_string(),
                    model: model.to_string(),
                    system: system.clone(),
                    question: catalogue.get(question_id).cloned().unwrap_or_default(),
                    temperature,
                    max_tokens: max_tokens as u32,
                    seed,
                }
                .to_json()
                .into();
                for sample_index in 0..samples {
                    executions.push(NewExecution {
                        region: region.clone(),
                        model_id: model.to_string(),
                        question_id: question_id.clone(),
                        question_index: index as i64,
                        sample_index,
                        request_json: std::sync::Arc::clone(&request_json),
                    });
                }
            }
        }
    }
    let total_executions = executions.len() as i64;
    let questions_texts: Vec<String> = questions.iter().map(|id| catalogue.get(id).cloned().unwrap_or_default()).collect();
    let mut job = NewJob {
        id: JobId::generated(0),
        questions,
        models: models.iter().map(ToString::to_string).collect(),
        regions: regions.clone(),
        max_retries: config.max_retries,
        auto_retries: spec.auto_retries,
        warmups: spec.warmups.clone(),
        executions,
        texts: questions_texts,
        parameters: JobParameters {
            question_set: spec.question_set.as_ref().map(|set| set.as_str().to_string()),
            samples,
            temperature,
            max_tokens,
            seed,
        },
        created_by: created_by.map(str::to_string),
        name: spec.name.clone(),
    };

    match &spec.id {
        Some(id) => {
            job.id = id.clone();
            match db::jobs::insert(db, &job).await? {
                InsertOutcome::Created => {}
                InsertOutcome::IdTaken => {
                    return Err(AppError::refused(crate::domain::ErrorCode::JobExists, format!("a job with id {:?} already exists", job.id.as_str())))
                }
                InsertOutcome::QuestionsChanged => return Ok(None),
            }
        }
        None => {
            // Public ids are the prefix and the submission time in milliseconds; two
            // submissions in the same millisecond take the next free one.
            let base = now_ms();
            let mut created = false;
            for offset in 0..50 {
                job.id = JobId::generated(base + offset);
                match db::jobs::insert(db, &job).await? {
                    InsertOutcome::Created => {
                        created = true;
                        break;
                    }
                    InsertOutcome::IdTaken => {}
                    InsertOutcome::QuestionsChanged => return Ok(None),
                }
            }
            if !created {
                return Err(AppError::Internal(anyhow::anyhow!("no free job id near {base}")));
            }
        }
    }
    tracing::info!(job = %job.id, executions = total_executions, "job submitted");
    Ok(Some(JobCreated { id: job.id, status: JobStatus::Enqueued, total_executions }))
}

/// The job's questions in order (a set's, then any listed ones not in it) and each one's text,
/// read once, so every id in the list has its text.
async fn job_questions(db: &Db, spec: &JobSpec) -> Result<(Vec<String>, HashMap<String, String>), AppError> {
    let mut from_set: Vec<String> = Vec::new();
    if let Some(set_id) = &spec.question_set {
        let set = db::questions::get_set(db, set_id.as_str()).await?.ok_or_else(|| JobSpec::unknown_set(set_id.as_str()))?;
        if set.questions.is_empty() {
            return Err(AppError::invalid_request(format!("question_set: {:?} has no questions", set_id.as_str())));
        }
        from_set = set.questions;
    }
    let wanted: Vec<&str> = from_set.iter().map(String::as_str).chain(spec.questions.iter().map(QuestionId::as_str)).collect();
    let texts: HashMap<String, String> = db::questions::get_many(db, &wanted).await?.into_iter().map(|q| (q.id, q.text)).collect();
    if let Some(gone) = from_set.iter().find(|id| !texts.contains_key(*id)) {
        return Err(AppError::invalid_request(format!("question_set: its question {gone:?} no longer exists")));
    }
    if let Some(unknown) = spec.questions.iter().find(|id| !texts.contains_key(id.as_str())) {
        return Err(AppError::invalid_request(format!("questions: unknown value {:?}", unknown.as_str())));
    }
    let in_set: HashSet<String> = from_set.iter().cloned().collect();
    let mut ordered = from_set;
    ordered.extend(spec.questions.iter().map(|id| id.as_str().to_string()).filter(|id| !in_set.contains(id)));
    Ok((ordered, texts))
}

/// A filter from a query string's words; the region may be any configured id or alias.
pub fn execution_filter(catalogue: &Catalogue, status: Option<&str>, region: Option<&str>, model: Option<&str>) -> Result<ExecutionFilter, String> {
    let region = match region.map(str::trim).filter(|raw| !raw.is_empty()) {
        None => None,
        Some(raw) => match catalogue.region(raw) {
            Some(info) => Some(info.id.to_string()),
            None => return Err(format!("region: unknown region {raw:?}")),
        },
    };
    ExecutionFilter::parse(status, region.as_deref(), model)
}

pub async fn get(db: &Db, id: &JobId) -> Result<JobView, AppError> {
    let job = db::jobs::get(db, id).await?.ok_or_else(|| job_not_found(id))?;
    Ok(job.into_view())
}

/// A job's warm-ups; an unknown job is not found (the REST route and the page's call agree).
pub async fn warmups(db: &Db, id: &JobId) -> Result<Vec<crate::domain::views::WarmupView>, AppError> {
    db::jobs::get(db, id).await?.ok_or_else(|| job_not_found(id))?;
    Ok(db::warmups::list(db, id).await?)
}

/// The newest jobs with their progress: one query, however many jobs are listed.
pub async fn list(db: &Db) -> Result<Vec<JobView>, AppError> {
    Ok(db::jobs::list(db, 100).await?.into_iter().map(|job| job.into_view()).collect())
}

/// Rows a job page shows at most; beyond that it pages. SCALE.md allows 500; 200 keeps the
/// first byte of a large job's page within 3 × a small job's (rendering rows is what a page's
/// time goes to: about 14 µs each here) and hydrates sooner, and filters find the rest.
pub const ROWS_PER_PAGE: i64 = 200;

/// One page of a job, for the job page: the whole job's header and counts, and at most
/// `ROWS_PER_PAGE` rows matching `filter` (page numbers from 1; past the end is the last).
pub async fn page(db: &Db, catalogue: &Catalogue, id: &JobId, filter: ExecutionFilter, page: i64) -> Result<JobPageData, AppError> {
    // Read before the rows: a change racing this read is then sent again by the stream,
    // never lost between the snapshot and the subscription.
    let cursor = db::changes::latest_seq(db).await?;
    let job = get(db, id).await?;
    let matching = if filter.is_empty() { job.progress.total } else { db::executions::count_matching(db, id, &filter).await? };
    let pages = ((matching + ROWS_PER_PAGE - 1) / ROWS_PER_PAGE).max(1);
    let page = page.clamp(1, pages);
    let window = Window::Offset((page - 1) * ROWS_PER_PAGE);
    let executions: Vec<ExecutionView> = db::executions::list_page(db, id, &filter, window, ROWS_PER_PAGE).await?.into_iter().collect();
    // The texts of the questions on this page only: a large study's catalogue stays unread.
    let mut wanted: Vec<&str> = executions.iter().map(|e| e.question_id.as_str()).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let questions = db::questions::get_many(db, &wanted).await?;
    let paging = PageInfo { page, pages, matching, per_page: ROWS_PER_PAGE, filter };
    let region_labels = job.regions.iter().map(|r| (r.clone(), catalogue.label(r).to_string())).collect();
    let warmups = if job.warmup { db::warmups::list(db, &job.id).await? } else { Vec::new() };
    Ok(JobPageData { cursor, job, questions, executions, paging, region_labels, warmups })
}

/// An execution with its full attempt history (`retry_history`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExecutionDetail {
    #[serde(flatten)]
    pub execution: ExecutionView,
    pub retry_history: Vec<AttemptView>,
}

/// The largest page the keyset API hands out.
pub const MAX_PAGE: i64 = 1000;

/// `GET /api/v1/jobs/:id/executions`' answer: a page, and where the next one starts.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExecutionsPage {
    pub executions: Vec<ExecutionView>,
    /// Pass as `after` for the next page; `null` on the last.
    pub next: Option<String>,
}

/// A page of a job's executions by key: rows after `after` (an execution id), in table order.
/// Ids never change, so paging while executions change never skips or repeats a row.
pub async fn executions_page(db: &Db, job_id: &JobId, filter: &ExecutionFilter, after: i64, limit: i64) -> Result<ExecutionsPage, AppError> {
    db::jobs::get(db, job_id).await?.ok_or_else(|| job_not_found(job_id))?;
    let mut rows = db::executions::list_page(db, job_id, filter, Window::After(after), limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more { rows.last().map(|row| row.id.to_string()) } else { None };
    Ok(ExecutionsPage { executions: rows.into_iter().collect(), next })
}

/// Rows per read while streaming a whole job.
const STREAM_PAGE: i64 = 1000;

/// Every execution of a job with its attempt history, as the JSON `{"executions": [...]}`,
/// produced a page at a time: memory stays flat however large the job. Within a page the
/// executions are read before their attempts: an attempt is closed in the same transaction
/// that finishes its execution, so the attempts are never older than their rows.
pub async fn stream_all(db: &Db, job_id: &JobId) -> Result<impl futures::Stream<Item = Result<String, AppError>> + Send + 'static, AppError> {
    db::jobs::get(db, job_id).await?.ok_or_else(|| job_not_found(job_id))?;
    let (db, job_id) = (db.clone(), job_id.clone());
    Ok(async_stream::try_stream! {
        yield "{\"executions\":[".to_string();
        let (mut after, mut first) = (0, true);
        loop {
            let all = ExecutionFilter::default();
            let rows = db::executions::list_page(&db, &job_id, &all, Window::After(after), STREAM_PAGE).await?;
            let Some(last) = rows.last() else { break };
            after = last.id;
            let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
            let mut histories: HashMap<i64, Vec<AttemptView>> = HashMap::new();
            for (execution_id, attempt) in db::attempts::list_for_executions(&db, &ids).await? {
                histories.entry(execution_id).or_default().push(attempt.into_view());
            }
            let mut chunk = String::new();
            for row in rows {
                let retry_history = histories.remove(&row.id).unwrap_or_default();
                let detail = ExecutionDetail { retry_history, execution: row };
                if !first {
                    chunk.push(',');
                }
                first = false;
                chunk.push_str(&serde_json::to_string(&detail).map_err(anyhow::Error::from)?);
            }
            yield chunk;
        }
        yield "]}".to_string();
    })
}

pub async fn execution_detail(db: &Db, id: ExecutionId) -> Result<ExecutionDetail, AppError> {
    let row = db::executions::get(db, id.get()).await?.ok_or_else(|| AppError::NotFound(format!("execution {id} not found")))?;
    let retry_history = db::attempts::list_for_execution(db, id.get()).await?.into_iter().map(|a| a.into_view()).collect();
    Ok(ExecutionDetail { execution: row, retry_history })
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobCancelled {
    pub id: JobId,
    pub status: JobStatus,
}

/// Cancels an active job: unfinished executions become `cancelled` and nothing not yet sent
/// goes out. Calls already sent are not cut off; their answers are kept as late answers on
/// their attempts. A finished job keeps its results: 409 `not_cancellable`.
pub async fn cancel(db: &Db, id: &JobId) -> Result<JobCancelled, AppError> {
    match db::jobs::cancel(db, id).await? {
        CancelOutcome::Cancelled => {}
        CancelOutcome::NotFound => return Err(job_not_found(id)),
        CancelOutcome::AlreadyFinished(status) => {
            return Err(AppError::refused(
                crate::domain::ErrorCode::NotCancellable,
                format!("This job is already {status}; there is nothing to cancel"),
            ))
        }
    }
    tracing::info!(job = %id, "job cancelled");
    Ok(JobCancelled { id: id.clone(), status: JobStatus::Cancelled })
}

fn job_not_found(id: &JobId) -> AppError {
    AppError::NotFound(format!("job {:?} not found", id.as_str()))
}

pub async fn history(db: &Db, id: ExecutionId) -> Result<ExecutionHistory, AppError> {
    let detail = execution_detail(db, id).await?;
    let question_text = db::questions::get_many(db, &[detail.execution.question_id.as_str()]).await?.pop().map(|q| q.text).unwrap_or_default();
    let job = db::jobs::get(db, &detail.execution.job_id).await?;
    let (samples, job_cancelled) = job.map_or((1, false), |job| (job.samples, job.status == JobStatus::Cancelled));
    Ok(ExecutionHistory { execution: detail.execution, question_text, attempts: detail.retry_history, samples, job_cancelled })
}
