//! Submitting, reading and cancelling jobs.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::domain::job::JobLimits;
use crate::domain::question::valid_question_id;
use crate::domain::views::{AttemptView, ExecutionFilter, ExecutionHistory, ExecutionView, JobPageData, JobView, PageInfo};
use crate::domain::{ExecutionId, JobId, JobName, JobStatus, Region};
use crate::server::db::executions::Window;
use crate::server::db::jobs::{CancelOutcome, InsertOutcome, JobParameters, NewExecution, NewJob};
use crate::server::db::{self, now_ms};
use crate::server::error::AppError;
use crate::server::providers::request::Prompt;
use crate::server::state::AppState;

/// `POST /api/v1/jobs`'s body, also what the new-job form sends.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct CreateJob {
    #[serde(default)]
    pub id: Option<String>,
    /// What researchers call the job: 1–120 characters, shown on its page, in the jobs list
    /// and in its export files' names.
    #[serde(default)]
    pub name: Option<String>,
    /// Question ids, in job order; with `question_set`, asked after the set's questions.
    #[serde(default)]
    pub questions: Vec<String>,
    /// A question set whose questions the job asks, in the set's order.
    #[serde(default)]
    pub question_set: Option<String>,
    pub models: Vec<String>,
    pub regions: Vec<String>,
    /// Automatic retries of infrastructure failures per attempt chain (0–5); the
    /// configuration's `[defaults] auto_retries` when absent.
    #[serde(default)]
    pub auto_retries: Option<i64>,
    /// Warm each (provider, model) up before its first execution.
    #[serde(default)]
    pub warmup: bool,
    /// Executions per cell, 1–20 (default 1).
    #[serde(default)]
    pub samples: Option<i64>,
    /// 0–2; the configuration's `[defaults] temperature` when absent.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// 1–8192; the configuration's `[defaults] max_tokens` when absent.
    #[serde(default)]
    pub max_tokens: Option<i64>,
    #[serde(default)]
    pub seed: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobCreated {
    pub id: JobId,
    pub status: JobStatus,
    pub total_executions: i64,
}

/// Creates a job for `created_by` (the account submitting it; None with accounts off).
pub async fn create(state: &AppState, request: CreateJob, created_by: Option<&str>) -> Result<JobCreated, AppError> {
    // A question edited or deleted between reading it and storing the job makes the insert
    // step back (the job must ask what the question says when it becomes immutable): read
    // again. Twice is already rare; five times means something is rewriting questions.
    for _ in 0..5 {
        if let Some(created) = create_once(state, &request, created_by).await? {
            return Ok(created);
        }
    }
    Err(AppError::refused(crate::domain::ErrorCode::QuestionChanged, "the job's questions kept changing while it was being created; submit it again"))
}

/// One try at creating the job; `None` when a question changed under it.
async fn create_once(state: &AppState, request: &CreateJob, created_by: Option<&str>) -> Result<Option<JobCreated>, AppError> {
    let setup = &state.config.setup;
    let name = match request.name.as_deref().map(JobName::parse) {
        None => None,
        Some(Ok(Some(name))) => Some(name),
        Some(Ok(None)) => return Err(AppError::invalid_request("name: must be 1–120 characters, got a blank one; leave it out for no name")),
        Some(Err(message)) => return Err(AppError::invalid_request(message)),
    };
    let (questions, catalogue) = job_questions(state, request).await?;
    // The defaults were checked against the same limits when the configuration was read.
    let samples = in_range("samples", request.samples, 1, JobLimits::SAMPLES)?;
    let max_tokens = in_range("max_tokens", request.max_tokens, i64::from(setup.defaults.max_tokens), JobLimits::MAX_TOKENS)?;
    let temperature = in_range("temperature", request.temperature, setup.defaults.temperature, JobLimits::TEMPERATURE)?;
    let auto_retries = in_range("auto_retries", request.auto_retries, i64::from(setup.defaults.auto_retries), JobLimits::AUTO_RETRIES)?;
    let models = distinct_nonempty("models", &request.models, |id| setup.catalogue.model(id).map(|m| m.id.clone()))?;
    let regions: Vec<Region> = distinct_nonempty("regions", &request.regions, |raw| setup.catalogue.region(raw).map(|r| r.id.clone()))?;
    // Every (region, model) asked for must have a provider: name the first that has none.
    for region in &regions {
        if let Some(model) = models.iter().find(|model| !setup.catalogue.serves(region, model)) {
            return Err(AppError::invalid_request(format!("no provider serves {model} in {region}; see GET /api/v1/models")));
        }
    }

    // Refused before a single row is built: the size is known from the lists.
    let size = (questions.len() * models.len() * regions.len()) as i64 * samples;
    if size > state.config.max_executions_per_job {
        return Err(AppError::refused(
            crate::domain::ErrorCode::JobTooLarge,
            format!(
                "{} questions × {} models × {} regions × {samples} samples = {size} executions, more than this server allows per job ({}, BEACON_MAX_EXECUTIONS_PER_JOB)",
                questions.len(),
                models.len(),
                regions.len(),
                state.config.max_executions_per_job
            ),
        ));
    }

    // Inserted in table order (region, model, question, sample): ids follow it, so the keyset
    // pages and the page's table read in id order.
    let mut executions = Vec::with_capacity(size as usize);
    for region in &regions {
        let system = setup.system_prompt(region);
        for model in &models {
            for (index, question_id) in questions.iter().enumerate() {
                // Every sample sends the same request: its parameters are part of it.
                let request_json: std::sync::Arc<str> = Prompt {
                    region: region.to_string(),
                    model: model.clone(),
                    system: system.clone(),
                    question: catalogue.get(question_id).cloned().unwrap_or_default(),
                    temperature,
                    max_tokens: max_tokens as u32,
                    seed: request.seed,
                }
                .to_json()
                .into();
                for sample_index in 0..samples {
                    executions.push(NewExecution {
                        region: region.clone(),
                        model_id: model.clone(),
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
    // Parsed before anything is written: a bad id is the caller's mistake in the body.
    let requested_id = match &request.id {
        Some(raw) => Some(JobId::parse(raw).map_err(|invalid| AppError::invalid_request(format!("id: {invalid}")))?),
        None => None,
    };
    // Each (provider, model) the job will use, to be warmed before its first row goes there.
    let warmups = request.warmup.then(|| {
        let mut pairs = Vec::new();
        for provider in &setup.providers {
            for model in &models {
                if regions.contains(&provider.region) && provider.models.contains_key(model) {
                    pairs.push((provider.id.clone(), provider.region.clone(), model.clone()));
                }
            }
        }
        pairs
    });
    let questions_texts: Vec<String> = questions.iter().map(|id| catalogue.get(id).cloned().unwrap_or_default()).collect();
    let mut job = NewJob {
        id: JobId::generated(0),
        questions,
        models,
        regions,
        max_retries: state.config.max_retries,
        auto_retries,
        warmups,
        executions,
        texts: questions_texts,
        parameters: JobParameters { question_set: request.question_set.clone(), samples, temperature, max_tokens, seed: request.seed },
        created_by: created_by.map(str::to_string),
        name,
    };

    match requested_id {
        Some(id) => {
            job.id = id;
            match db::jobs::insert(&state.db, &job).await? {
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
                match db::jobs::insert(&state.db, &job).await? {
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
    state.runner.wake();
    tracing::info!(job = %job.id, executions = total_executions, "job submitted");
    Ok(Some(JobCreated { id: job.id, status: JobStatus::Enqueued, total_executions }))
}

/// The job's questions in order (a set's, then any listed ones not in it) and each one's text,
/// read once, so every id in the list has its text.
async fn job_questions(state: &AppState, request: &CreateJob) -> Result<(Vec<String>, HashMap<String, String>), AppError> {
    let mut from_set: Vec<String> = Vec::new();
    if let Some(set_id) = &request.question_set {
        let known = if valid_question_id(set_id) { db::questions::get_set(&state.db, set_id).await? } else { None };
        let set = known
            .ok_or_else(|| AppError::invalid_request(format!("question_set: unknown question set {set_id:?}; see GET /api/v1/question-sets")))?;
        if set.questions.is_empty() {
            return Err(AppError::invalid_request(format!("question_set: {set_id:?} has no questions")));
        }
        from_set = set.questions;
    }
    // Ids that cannot exist are not looked up; they are reported as unknown below.
    let wanted: Vec<&str> = from_set.iter().chain(&request.questions).map(String::as_str).filter(|id| valid_question_id(id)).collect();
    let texts: HashMap<String, String> = db::questions::get_many(&state.db, &wanted).await?.into_iter().map(|q| (q.id, q.text)).collect();
    if let Some(gone) = from_set.iter().find(|id| !texts.contains_key(*id)) {
        return Err(AppError::invalid_request(format!("question_set: its question {gone:?} no longer exists")));
    }
    let mut ordered = from_set;
    if request.question_set.is_none() || !request.questions.is_empty() {
        let listed = distinct_nonempty("questions", &request.questions, |id| texts.contains_key(id).then(|| id.to_string()))?;
        let in_set: HashSet<String> = ordered.iter().cloned().collect();
        ordered.extend(listed.into_iter().filter(|id| !in_set.contains(id)));
    }
    Ok((ordered, texts))
}

/// An optional whole number within bounds, or the default.
fn in_range<T: PartialOrd + std::fmt::Display>(field: &str, value: Option<T>, default: T, range: std::ops::RangeInclusive<T>) -> Result<T, AppError> {
    match value {
        None => Ok(default),
        Some(n) if range.contains(&n) => Ok(n),
        Some(n) => Err(AppError::invalid_request(JobLimits::out_of_range(field, &range, n))),
    }
}

/// A filter from a query string's words; the region may be any configured id or alias.
pub fn execution_filter(state: &AppState, status: Option<&str>, region: Option<&str>, model: Option<&str>) -> Result<ExecutionFilter, String> {
    let region = match region.map(str::trim).filter(|raw| !raw.is_empty()) {
        None => None,
        Some(raw) => match state.config.setup.catalogue.region(raw) {
            Some(info) => Some(info.id.to_string()),
            None => return Err(format!("region: unknown region {raw:?}")),
        },
    };
    ExecutionFilter::parse(status, region.as_deref(), model)
}

/// Parses every entry of a list field, refusing an empty list, unknown values and duplicates
/// (after parsing, so `US` and `us-east` count as the same region).
fn distinct_nonempty<T: Clone + Eq + std::hash::Hash>(field: &str, raw: &[String], parse: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, AppError> {
    if raw.is_empty() {
        // "models" → "pick at least one model": the form shows the words after the field's name.
        let item = field.strip_suffix('s').unwrap_or(field);
        return Err(AppError::invalid_request(format!("{field}: pick at least one {item}")));
    }
    let mut seen = HashSet::new();
    let mut parsed = Vec::with_capacity(raw.len());
    for value in raw {
        let item = parse(value).ok_or_else(|| AppError::invalid_request(format!("{field}: unknown value {value:?}")))?;
        if !seen.insert(item.clone()) {
            return Err(AppError::invalid_request(format!("{field}: {value:?} is listed twice")));
        }
        parsed.push(item);
    }
    Ok(parsed)
}

pub async fn get(state: &AppState, id: &JobId) -> Result<JobView, AppError> {
    let job = db::jobs::get(&state.db, id).await?.ok_or_else(|| job_not_found(id))?;
    Ok(job.into_view())
}

/// A job's warm-ups; an unknown job is not found (the REST route and the page's call agree).
pub async fn warmups(state: &AppState, id: &JobId) -> Result<Vec<crate::domain::views::WarmupView>, AppError> {
    db::jobs::get(&state.db, id).await?.ok_or_else(|| job_not_found(id))?;
    Ok(db::warmups::list(&state.db, id).await?)
}

/// The newest jobs with their progress: one query, however many jobs are listed.
pub async fn list(state: &AppState) -> Result<Vec<JobView>, AppError> {
    Ok(db::jobs::list(&state.db, 100).await?.into_iter().map(|job| job.into_view()).collect())
}

/// Rows a job page shows at most; beyond that it pages. SCALE.md allows 500; 200 keeps the
/// first byte of a large job's page within 3 × a small job's (rendering rows is what a page's
/// time goes to: about 14 µs each here) and hydrates sooner, and filters find the rest.
pub const ROWS_PER_PAGE: i64 = 200;

/// One page of a job, for the job page: the whole job's header and counts, and at most
/// `ROWS_PER_PAGE` rows matching `filter` (page numbers from 1; past the end is the last).
pub async fn page(state: &AppState, id: &JobId, filter: ExecutionFilter, page: i64) -> Result<JobPageData, AppError> {
    // Read before the rows: a change racing this read is then sent again by the stream,
    // never lost between the snapshot and the subscription.
    let cursor = db::changes::latest_seq(&state.db).await?;
    let job = get(state, id).await?;
    let matching = if filter.is_empty() { job.progress.total } else { db::executions::count_matching(&state.db, id, &filter).await? };
    let pages = ((matching + ROWS_PER_PAGE - 1) / ROWS_PER_PAGE).max(1);
    let page = page.clamp(1, pages);
    let window = Window::Offset((page - 1) * ROWS_PER_PAGE);
    let executions: Vec<ExecutionView> =
        db::executions::list_page(&state.db, id, &filter, window, ROWS_PER_PAGE).await?.into_iter().map(|row| row.into_view()).collect();
    // The texts of the questions on this page only: a large study's catalogue stays unread.
    let mut wanted: Vec<&str> = executions.iter().map(|e| e.question_id.as_str()).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let questions = db::questions::get_many(&state.db, &wanted).await?;
    let paging = PageInfo { page, pages, matching, per_page: ROWS_PER_PAGE, filter };
    let catalogue = &state.config.setup.catalogue;
    let region_labels = job.regions.iter().map(|r| (r.clone(), catalogue.label(r).to_string())).collect();
    let warmups = if job.warmup { db::warmups::list(&state.db, &job.id).await? } else { Vec::new() };
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
pub async fn executions_page(state: &AppState, job_id: &JobId, filter: &ExecutionFilter, after: i64, limit: i64) -> Result<ExecutionsPage, AppError> {
    db::jobs::get(&state.db, job_id).await?.ok_or_else(|| job_not_found(job_id))?;
    let mut rows = db::executions::list_page(&state.db, job_id, filter, Window::After(after), limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more { rows.last().map(|row| row.id.to_string()) } else { None };
    Ok(ExecutionsPage { executions: rows.into_iter().map(|row| row.into_view()).collect(), next })
}

/// Rows per read while streaming a whole job.
const STREAM_PAGE: i64 = 1000;

/// Every execution of a job with its attempt history, as the JSON `{"executions": [...]}`,
/// produced a page at a time: memory stays flat however large the job. Within a page the
/// executions are read before their attempts: an attempt is closed in the same transaction
/// that finishes its execution, so the attempts are never older than their rows.
pub async fn stream_all(
    state: &AppState,
    job_id: &JobId,
) -> Result<impl futures::Stream<Item = Result<String, AppError>> + Send + 'static, AppError> {
    db::jobs::get(&state.db, job_id).await?.ok_or_else(|| job_not_found(job_id))?;
    let (db, job_id) = (state.db.clone(), job_id.clone());
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
                let detail = ExecutionDetail { retry_history, execution: row.into_view() };
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

pub async fn execution_detail(state: &AppState, id: ExecutionId) -> Result<ExecutionDetail, AppError> {
    let row = db::executions::get(&state.db, id.get()).await?.ok_or_else(|| AppError::NotFound(format!("execution {id} not found")))?;
    let retry_history = db::attempts::list_for_execution(&state.db, id.get()).await?.into_iter().map(|a| a.into_view()).collect();
    Ok(ExecutionDetail { execution: row.into_view(), retry_history })
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobCancelled {
    pub id: JobId,
    pub status: JobStatus,
}

/// Cancels an active job: unfinished executions become `cancelled` and nothing not yet sent
/// goes out. Calls already sent are not cut off; their answers are kept as late answers on
/// their attempts. A finished job keeps its results: 409 `not_cancellable`.
pub async fn cancel(state: &AppState, id: &JobId) -> Result<JobCancelled, AppError> {
    match db::jobs::cancel(&state.db, id).await? {
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

pub async fn history(state: &AppState, id: ExecutionId) -> Result<ExecutionHistory, AppError> {
    let detail = execution_detail(state, id).await?;
    let question_text = db::questions::get_many(&state.db, &[detail.execution.question_id.as_str()]).await?.pop().map(|q| q.text).unwrap_or_default();
    let job = db::jobs::get(&state.db, &detail.execution.job_id).await?;
    let (samples, job_cancelled) = job.map_or((1, false), |job| (job.samples, job.status == JobStatus::Cancelled));
    Ok(ExecutionHistory { execution: detail.execution, question_text, attempts: detail.retry_history, samples, job_cancelled })
}
