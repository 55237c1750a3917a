//! Submitting, reading and cancelling jobs.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::domain::views::{AttemptView, ExecutionView, JobPageData, JobView, QuestionView};
use crate::domain::{Model, Region};
use crate::server::db::jobs::{InsertOutcome, NewExecution, NewJob};
use crate::server::db::{self, now_ms};
use crate::server::error::AppError;
use crate::server::router::request;
use crate::server::state::AppState;

/// `POST /api/v1/jobs`'s body, also what the new-job form sends.
#[derive(Debug, Clone, Deserialize)]
pub struct CreateJob {
    #[serde(default)]
    pub id: Option<String>,
    pub questions: Vec<String>,
    pub models: Vec<String>,
    pub regions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobCreated {
    pub id: String,
    pub status: String,
    pub total_executions: i64,
}

const MAX_JOB_ID_LEN: usize = 128;

pub async fn create(state: &AppState, request: CreateJob) -> Result<JobCreated, AppError> {
    let catalogue: HashMap<String, QuestionView> =
        db::questions::list(&state.db).await?.into_iter().map(|q| (q.id.clone(), q)).collect();

    let questions = distinct_nonempty("questions", &request.questions, |id| {
        catalogue.contains_key(id).then(|| id.to_string())
    })?;
    let models = distinct_nonempty("models", &request.models, |id| Model::find(id).map(|m| m.id.to_string()))?;
    let regions: Vec<Region> = distinct_nonempty("regions", &request.regions, Region::parse)?;

    let mut executions = Vec::with_capacity(questions.len() * models.len() * regions.len());
    for region in &regions {
        for model in &models {
            for (index, question_id) in questions.iter().enumerate() {
                executions.push(NewExecution {
                    region: region.router_region().to_string(),
                    model_id: model.clone(),
                    question_id: question_id.clone(),
                    question_index: index as i64,
                    request_json: request::build_json(*region, model, &catalogue[question_id].text),
                });
            }
        }
    }
    let total_executions = executions.len() as i64;
    let mut job = NewJob {
        id: String::new(),
        questions,
        models,
        regions: regions.iter().map(|r| r.router_region().to_string()).collect(),
        max_retries: state.config.max_retries,
        executions,
    };

    match request.id {
        Some(id) => {
            job.id = validate_job_id(&id)?;
            if let InsertOutcome::IdTaken = db::jobs::insert(&state.db, &job).await? {
                return Err(AppError::Conflict {
                    code: "job_exists",
                    message: format!("a job with id {id:?} already exists"),
                });
            }
        }
        None => {
            // Public ids are the prefix and the submission time in milliseconds; two
            // submissions in the same millisecond take the next free one.
            let base = now_ms();
            let mut created = false;
            for offset in 0..50 {
                job.id = format!("bias-detection-{}", base + offset);
                if let InsertOutcome::Created = db::jobs::insert(&state.db, &job).await? {
                    created = true;
                    break;
                }
            }
            if !created {
                return Err(AppError::Internal(anyhow::anyhow!("no free job id near {base}")));
            }
        }
    }
    state.runner.wake();
    tracing::info!(job = %job.id, executions = total_executions, "job submitted");
    Ok(JobCreated { id: job.id, status: "enqueued".into(), total_executions })
}

/// Parses every entry of a list field, refusing an empty list, unknown values and duplicates
/// (after parsing, so `US` and `us-east` count as the same region).
fn distinct_nonempty<T: Clone + Eq + std::hash::Hash>(
    field: &str,
    raw: &[String],
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, AppError> {
    if raw.is_empty() {
        return Err(AppError::invalid_request(format!("{field}: must list at least one")));
    }
    let mut seen = HashSet::new();
    let mut parsed = Vec::with_capacity(raw.len());
    for value in raw {
        let item = parse(value)
            .ok_or_else(|| AppError::invalid_request(format!("{field}: unknown value {value:?}")))?;
        if !seen.insert(item.clone()) {
            return Err(AppError::invalid_request(format!("{field}: {value:?} is listed twice")));
        }
        parsed.push(item);
    }
    Ok(parsed)
}

fn validate_job_id(id: &str) -> Result<String, AppError> {
    // "events" would be shadowed by the jobs-list stream's path.
    let valid = id != "events"
        && !id.is_empty()
        && id.len() <= MAX_JOB_ID_LEN
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(id.to_string())
    } else {
        Err(AppError::invalid_request(format!(
            "id: must be 1–{MAX_JOB_ID_LEN} characters of letters, digits, '-', '_' or '.'"
        )))
    }
}

pub async fn get(state: &AppState, id: &str) -> Result<JobView, AppError> {
    let job = db::jobs::get(&state.db, id).await?.ok_or_else(|| job_not_found(id))?;
    let progress = db::jobs::progress(&state.db, id).await?;
    Ok(job.into_view(progress))
}

pub async fn list(state: &AppState) -> Result<Vec<JobView>, AppError> {
    let mut views = Vec::new();
    for job in db::jobs::list(&state.db, 100).await? {
        let progress = db::jobs::progress(&state.db, &job.id).await?;
        views.push(job.into_view(progress));
    }
    Ok(views)
}

pub async fn page(state: &AppState, id: &str) -> Result<JobPageData, AppError> {
    // Read before the rows: a change racing this read is then sent again by the stream,
    // never lost between the snapshot and the subscription.
    let cursor = db::changes::latest_seq(&state.db).await?;
    let job = get(state, id).await?;
    let executions = db::executions::list_for_job(&state.db, id)
        .await?
        .into_iter()
        .map(|row| row.into_view())
        .collect();
    let catalogue = db::questions::list(&state.db).await?;
    let questions = job
        .questions
        .iter()
        .filter_map(|qid| catalogue.iter().find(|q| &q.id == qid).cloned())
        .collect();
    Ok(JobPageData { cursor, job, questions, executions })
}

/// An execution with its full attempt history (DOMAIN.md's `retry_history`).
#[derive(Debug, Clone, Serialize)]
pub struct ExecutionDetail {
    #[serde(flatten)]
    pub execution: ExecutionView,
    pub retry_history: Vec<AttemptView>,
}

pub async fn executions(state: &AppState, job_id: &str) -> Result<Vec<ExecutionDetail>, AppError> {
    db::jobs::get(&state.db, job_id).await?.ok_or_else(|| job_not_found(job_id))?;
    // Two queries for the whole job, however many executions it has. Executions first: an
    // attempt is closed in the same transaction that finishes its execution, so the attempts
    // read afterwards are never older than the rows they belong to.
    let executions = db::executions::list_for_job(&state.db, job_id).await?;
    let mut histories: HashMap<i64, Vec<AttemptView>> = HashMap::new();
    for (execution_id, attempt) in db::attempts::list_for_job(&state.db, job_id).await? {
        histories.entry(execution_id).or_default().push(attempt.into_view());
    }
    Ok(executions
        .into_iter()
        .map(|row| ExecutionDetail { retry_history: histories.remove(&row.id).unwrap_or_default(), execution: row.into_view() })
        .collect())
}

pub async fn execution_detail(state: &AppState, id: i64) -> Result<ExecutionDetail, AppError> {
    let row = db::executions::get(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("execution {id} not found")))?;
    let retry_history = db::attempts::list_for_execution(&state.db, id)
        .await?
        .into_iter()
        .map(|a| a.into_view())
        .collect();
    Ok(ExecutionDetail { execution: row.into_view(), retry_history })
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobCancelled {
    pub id: String,
    pub status: String,
}

/// Cancels the job: unfinished executions become `cancelled`, in-flight router calls here
/// are abandoned at once (elsewhere, when their lease renewal fails).
pub async fn cancel(state: &AppState, id: &str) -> Result<JobCancelled, AppError> {
    if !db::jobs::cancel(&state.db, id).await? {
        return Err(job_not_found(id));
    }
    state.runner.abort_job(id);
    tracing::info!(job = %id, "job cancelled");
    Ok(JobCancelled { id: id.to_string(), status: "cancelled".into() })
}

fn job_not_found(id: &str) -> AppError {
    AppError::NotFound(format!("job {id:?} not found"))
}

pub async fn history(state: &AppState, id: i64) -> Result<crate::domain::views::ExecutionHistory, AppError> {
    if id <= 0 {
        return Err(AppError::BadRequest {
            code: "invalid_execution_id",
            message: format!("execution id must be a positive integer, got {id}"),
        });
    }
    let detail = execution_detail(state, id).await?;
    let question_text = db::questions::list(&state.db)
        .await?
        .into_iter()
        .find(|q| q.id == detail.execution.question_id)
        .map(|q| q.text)
        .unwrap_or_default();
    Ok(crate::domain::views::ExecutionHistory {
        execution: detail.execution,
        question_text,
        attempts: detail.retry_history,
    })
}
