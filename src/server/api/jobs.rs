use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use crate::domain::views::JobView;
use crate::server::error::AppError;
use crate::server::services::jobs::{self, CreateJob, JobCancelled, JobCreated};
use crate::server::state::AppState;

use super::extract::{JobIdPath, JsonBody};

pub async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<CreateJob>,
) -> Result<(StatusCode, Json<JobCreated>), AppError> {
    Ok((StatusCode::ACCEPTED, Json(jobs::create(&state, body).await?)))
}

pub async fn list(State(state): State<AppState>) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(serde_json::json!({ "jobs": jobs::list(&state).await? })))
}

pub async fn get(State(state): State<AppState>, JobIdPath(id): JobIdPath) -> Result<Json<JobView>, AppError> {
    Ok(Json(jobs::get(&state, &id).await?))
}

pub async fn executions(
    State(state): State<AppState>,
    JobIdPath(id): JobIdPath,
) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(serde_json::json!({ "executions": jobs::executions(&state, &id).await? })))
}

pub async fn cancel(
    State(state): State<AppState>,
    JobIdPath(id): JobIdPath,
) -> Result<Json<JobCancelled>, AppError> {
    Ok(Json(jobs::cancel(&state, &id).await?))
}
