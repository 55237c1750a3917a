use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::domain::views::{JobView, WarmupView};
use crate::server::auth::Caller;
use crate::server::error::AppError;
use crate::server::services::exports;
use crate::server::services::jobs::{self, CreateJob, ExecutionDetail, ExecutionsPage, JobCancelled, JobCreated, JobSpec, MAX_PAGE};
use std::sync::Arc;

use crate::server::config::Config;
use crate::server::db::Db;
use crate::server::runner::Runner;

use super::extract::{JobIdPath, JsonBody, QueryParams};
use super::openapi;

/// `GET /api/v1/jobs`' answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct JobList {
    /// The newest 100 jobs, newest first.
    jobs: Vec<JobView>,
}

/// `GET /api/v1/jobs/:id/warmups`' answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct WarmupList {
    warmups: Vec<WarmupView>,
}

/// `GET /api/v1/jobs/:id/executions/all`' answer (streamed).
#[derive(Serialize, utoipa::ToSchema)]
#[allow(dead_code)] // Only its schema is used: the body is written a page at a time.
pub struct AllExecutions {
    executions: Vec<ExecutionDetail>,
}

/// `POST /api/v1/jobs`: submits a job, one execution per question × model × region × sample.
#[utoipa::path(
    post,
    path = "/api/v1/jobs",
    operation_id = "create_job",
    tag = "jobs",
    request_body = CreateJob,
    responses(
        (status = 202, description = "Accepted: the executions are queued", body = JobCreated),
        (status = 400, description = "`invalid_request` naming the field (unknown question, question set, model or region, a pair no provider serves, out-of-range samples, temperature, max_tokens or auto_retries); `invalid_job_id`; `job_too_large`: more executions than `BEACON_MAX_EXECUTIONS_PER_JOB`", body = openapi::ErrorBody),
        (status = 409, description = "`job_exists`: a job with this id exists; `question_changed`: its questions kept changing while it was created", body = openapi::ErrorBody),
    ),
)]
pub async fn create(
    State(db): State<Db>,
    State(config): State<Arc<Config>>,
    State(runner): State<Arc<Runner>>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateJob>,
) -> Result<(StatusCode, Json<JobCreated>), AppError> {
    Ok((StatusCode::ACCEPTED, Json(jobs::create(&db, &runner, &config, &JobSpec::parse(&body, &config.setup)?, caller.account()).await?)))
}

/// `GET /api/v1/jobs`: the newest jobs with their progress.
#[utoipa::path(get, path = "/api/v1/jobs",
    operation_id = "list_jobs", tag = "jobs", responses((status = 200, description = "The newest jobs", body = JobList)))]
pub async fn list(State(db): State<Db>) -> Result<Json<JobList>, AppError> {
    Ok(Json(JobList { jobs: jobs::list(&db).await? }))
}

/// `GET /api/v1/jobs/:id`: one job, its lists and its progress.
#[utoipa::path(
    get,
    path = "/api/v1/jobs/{id}",
    operation_id = "get_job",
    tag = "jobs",
    responses(
        (status = 200, description = "The job with its progress", body = JobView),
    ),
)]
pub async fn get(State(db): State<Db>, JobIdPath(id): JobIdPath) -> Result<Json<JobView>, AppError> {
    Ok(Json(jobs::get(&db, &id).await?))
}

/// `GET /api/v1/jobs/:id/executions/all`: the whole job, streamed a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/jobs/{id}/executions/all",
    operation_id = "all_executions",
    tag = "executions",
    responses(
        (status = 200, description = "Every execution of the job with its attempts, in table order, streamed", body = AllExecutions),
    ),
)]
pub async fn all_executions(State(db): State<Db>, JobIdPath(id): JobIdPath) -> Result<Response, AppError> {
    let chunks = jobs::stream_all(&db, &id).await?.map(|chunk| {
        chunk.map_err(|err| {
            // The status line is gone by now: the answer ends short (invalid JSON), and the log
            // says why.
            let answer = err.to_api_error();
            std::io::Error::other(answer.error)
        })
    });
    Ok(([(header::CONTENT_TYPE, "application/json")], Body::from_stream(chunks)).into_response())
}

/// The keyset page's query, read as text so each bad value is named in the answer.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Statuses, comma-separated (`failed,timeout`).
    status: Option<String>,
    /// A region id or alias.
    region: Option<String>,
    /// A model id.
    model: Option<String>,
    /// Rows per page, 1–1000 (default 100).
    limit: Option<String>,
    /// The `next` of the previous page.
    after: Option<String>,
}

/// `GET /api/v1/jobs/:id/executions?status=&region=&model=&limit=&after=`
#[utoipa::path(
    get,
    path = "/api/v1/jobs/{id}/executions",
    operation_id = "list_executions",
    tag = "executions",
    params(PageQuery),
    responses(
        (status = 200, description = "One page of the job's executions, in table order, and the cursor of the next", body = ExecutionsPage),
        (status = 400, description = "`invalid_request` naming `status`, `region`, `model`, `limit` or `after`", body = openapi::ErrorBody),
    ),
)]
pub async fn executions(
    State(db): State<Db>,
    State(config): State<Arc<Config>>,
    JobIdPath(id): JobIdPath,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<Json<ExecutionsPage>, AppError> {
    let filter = jobs::execution_filter(&config.setup.catalogue, query.status.as_deref(), query.region.as_deref(), query.model.as_deref())
        .map_err(AppError::invalid_request)?;
    let limit = match query.limit.as_deref() {
        None => 100,
        Some(raw) => match raw.trim().parse::<i64>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => return Err(AppError::invalid_request(format!("limit: must be 1–{MAX_PAGE}, got {raw:?}"))),
        },
    };
    let after = match query.after.as_deref() {
        None => 0,
        Some(raw) => match raw.trim().parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => return Err(AppError::invalid_request(format!("after: expected a `next` cursor, got {raw:?}"))),
        },
    };
    Ok(Json(jobs::executions_page(&db, &id, &filter, after, limit).await?))
}

/// `POST /api/v1/jobs/:id/cancel`: stops an active job.
#[utoipa::path(
    post,
    path = "/api/v1/jobs/{id}/cancel",
    operation_id = "cancel_job",
    tag = "jobs",
    responses(
        (status = 200, description = "Cancelled: unfinished executions are `cancelled`; calls already sent keep their late answers", body = JobCancelled),
        (status = 409, description = "`not_cancellable`: the job has finished", body = openapi::ErrorBody),
    ),
)]
pub async fn cancel(State(db): State<Db>, JobIdPath(id): JobIdPath) -> Result<Json<JobCancelled>, AppError> {
    Ok(Json(jobs::cancel(&db, &id).await?))
}

/// `GET /api/v1/jobs/:id/warmups`.
#[utoipa::path(
    get,
    path = "/api/v1/jobs/{id}/warmups",
    operation_id = "list_warmups",
    tag = "jobs",
    responses(
        (status = 200, description = "The job's warm-ups, per (provider, model)", body = WarmupList),
    ),
)]
pub async fn warmups(State(db): State<Db>, JobIdPath(id): JobIdPath) -> Result<Json<WarmupList>, AppError> {
    Ok(Json(WarmupList { warmups: jobs::warmups(&db, &id).await? }))
}

/// The export's filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Statuses, comma-separated (`completed`, `failed,timeout`, …).
    status: Option<String>,
    /// A region id or alias.
    region: Option<String>,
    /// A model id.
    model: Option<String>,
    /// CSV only: `true` gives every field's exact text; by default a field that begins with
    /// `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'` so that a
    /// spreadsheet does not run it as a formula.
    raw: Option<bool>,
}

/// `GET /api/v1/jobs/:id/export.csv`: one row per execution, RFC 4180, streamed.
#[utoipa::path(
    get,
    path = "/api/v1/jobs/{id}/export.csv",
    operation_id = "export_csv",
    tag = "exports",
    params(ExportQuery),
    responses(
        (status = 200, description = "CSV with a header row (fields that begin with =, +, -, @, a tab or a carriage return prefixed with ' unless raw=true): job_id, execution_id, question_id, question_text, category, model_id, region, sample_index, status, output, error_code, error, original_error_code, attempts, manual_retries, auto_retries, retried, final_trigger, request_hash, provider_id, served_model, finish_reason, started_at, completed_at, duration_ms, refusal; as an attachment named after the job (its name with every character other than ASCII letters, digits, `-`, `_` and `.` made `-`, when it has one; else its id) with `.csv`", content_type = "text/csv", body = String),
        (status = 400, description = "`invalid_request` naming `status` or `region`", body = openapi::ErrorBody),
    ),
)]
pub async fn export_csv(db: State<Db>, config: State<Arc<Config>>, id: JobIdPath, query: QueryParams<ExportQuery>) -> Result<Response, AppError> {
    let cells = if query.0.raw == Some(true) { exports::Cells::Exact } else { exports::Cells::SpreadsheetSafe };
    export(db, config, id, query, exports::Format::Csv(cells)).await
}

/// `GET /api/v1/jobs/:id/export.jsonl`: one JSON object per execution and line, with its
/// attempts, streamed.
#[utoipa::path(
    get,
    path = "/api/v1/jobs/{id}/export.jsonl",
    operation_id = "export_jsonl",
    tag = "exports",
    params(ExportQuery),
    responses(
        (status = 200, description = "JSON Lines with the CSV's keys, `attempts` being the attempts themselves; as an attachment named like the CSV, with `.jsonl`", content_type = "application/x-ndjson", body = String),
        (status = 400, description = "`invalid_request` naming `status` or `region`", body = openapi::ErrorBody),
    ),
)]
pub async fn export_jsonl(db: State<Db>, config: State<Arc<Config>>, id: JobIdPath, query: QueryParams<ExportQuery>) -> Result<Response, AppError> {
    export(db, config, id, query, exports::Format::Jsonl).await
}

async fn export(
    State(db): State<Db>,
    State(config): State<Arc<Config>>,
    JobIdPath(id): JobIdPath,
    QueryParams(query): QueryParams<ExportQuery>,
    format: exports::Format,
) -> Result<Response, AppError> {
    let filter = jobs::execution_filter(&config.setup.catalogue, query.status.as_deref(), query.region.as_deref(), query.model.as_deref())
        .map_err(AppError::invalid_request)?;
    let (file_stem, chunks) = exports::stream(&db, &id, format, filter).await?;
    let chunks = chunks.map(|chunk| {
        // The status line is gone by now: the file ends short, and the log says why.
        chunk.map_err(|err| std::io::Error::other(err.to_api_error().error))
    });
    // The stem is ASCII letters, digits, '-', '_' and '.' only: nothing to quote or escape.
    let disposition = format!("attachment; filename=\"{file_stem}.{}\"", format.extension());
    Ok(([(header::CONTENT_TYPE, format.content_type().to_string()), (header::CONTENT_DISPOSITION, disposition)], Body::from_stream(chunks))
        .into_response())
}
