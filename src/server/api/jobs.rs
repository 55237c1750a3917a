use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use serde::Deserialize;

use crate::domain::views::JobView;
use crate::server::auth::Caller;
use crate::server::error::AppError;
use crate::server::services::jobs::{self, CreateJob, ExecutionsPage, JobCancelled, JobCreated, MAX_PAGE};
use crate::server::state::AppState;

use super::extract::{JobIdPath, JsonBody};

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateJob>,
) -> Result<(StatusCode, Json<JobCreated>), AppError> {
    Ok((StatusCode::ACCEPTED, Json(jobs::create(&state, body, caller.account()).await?)))
}

pub async fn list(State(state): State<AppState>) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(serde_json::json!({ "jobs": jobs::list(&state).await? })))
}

pub async fn get(State(state): State<AppState>, JobIdPath(id): JobIdPath) -> Result<Json<JobView>, AppError> {
    Ok(Json(jobs::get(&state, &id).await?))
}

/// `GET /api/v1/jobs/:id/executions/all`: the whole job, streamed a page at a time.
pub async fn all_executions(State(state): State<AppState>, JobIdPath(id): JobIdPath) -> Result<Response, AppError> {
    let chunks = jobs::stream_all(&state, &id).await?.map(|chunk| {
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
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    status: Option<String>,
    region: Option<String>,
    model: Option<String>,
    limit: Option<String>,
    after: Option<String>,
}

/// `GET /api/v1/jobs/:id/executions?status=&region=&model=&limit=&after=`
pub async fn executions(
    State(state): State<AppState>,
    JobIdPath(id): JobIdPath,
    Query(query): Query<PageQuery>,
) -> Result<Json<ExecutionsPage>, AppError> {
    let filter = jobs::execution_filter(&state, query.status.as_deref(), query.region.as_deref(), query.model.as_deref())
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
    Ok(Json(jobs::executions_page(&state, &id, &filter, after, limit).await?))
}

pub async fn cancel(State(state): State<AppState>, JobIdPath(id): JobIdPath) -> Result<Json<JobCancelled>, AppError> {
    Ok(Json(jobs::cancel(&state, &id).await?))
}

/// `GET /api/v1/jobs/:id/warmups` (PROVIDERS.md §4).
pub async fn warmups(State(state): State<AppState>, JobIdPath(id): JobIdPath) -> Result<Json<serde_json::Value>, AppError> {
    crate::server::db::jobs::get(&state.db, &id).await?.ok_or_else(|| AppError::NotFound(format!("job {:?} not found", id.as_str())))?;
    let warmups = crate::server::db::warmups::list(&state.db, &id).await?;
    Ok(Json(serde_json::json!({ "warmups": warmups })))
}
