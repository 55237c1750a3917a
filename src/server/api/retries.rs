use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;

use crate::domain::views::{BatchRetryResult, RetryAccepted};
use crate::domain::Trigger;
use crate::server::auth::Caller;
use crate::server::error::AppError;
use crate::server::services::retry::{self, BatchFilter, RetryRequest};
use crate::server::state::AppState;

use super::extract::{ExecutionIdPath, JobIdPath, JsonBody};

#[derive(Debug, Deserialize)]
pub struct RetryBody {
    region: String,
    question_index: i64,
}

/// `POST /api/v1/executions/:id/retry-question`
pub async fn retry_question(
    State(state): State<AppState>,
    ExecutionIdPath(id): ExecutionIdPath,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RetryBody>,
) -> Result<(StatusCode, Json<RetryAccepted>), AppError> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| AppError::invalid_request("Idempotency-Key: must be visible ASCII"))?,
        ),
    };
    let request = RetryRequest {
        execution_id: id,
        region: &body.region,
        question_index: body.question_index,
        idempotency_key: key,
        requested_by: caller.account().map(str::to_string),
    };
    let accepted = retry::retry(&state, request, Trigger::Manual).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

/// `POST /api/v1/jobs/:id/retry-all-failed`, body optional: `{"region"?, "model_id"?}`.
pub async fn retry_all_failed(
    State(state): State<AppState>,
    JobIdPath(job_id): JobIdPath,
    caller: Caller,
    body: Bytes,
) -> Result<Json<BatchRetryResult>, AppError> {
    let filter: BatchFilter = if body.iter().all(u8::is_ascii_whitespace) {
        BatchFilter::default()
    } else {
        serde_json::from_slice(&body).map_err(|err| AppError::invalid_request(format!("body: {err}")))?
    };
    Ok(Json(retry::retry_all_failed(&state, &job_id, &filter, caller.account()).await?))
}
