use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;

use crate::domain::views::{BatchRetryResult, RetryAccepted};
use crate::domain::Trigger;
use crate::server::auth::Caller;
use crate::server::error::AppError;
use std::sync::Arc;

use crate::server::config::Config;
use crate::server::services::retry::{self, BatchFilter, RetryCommitter, RetryRequest};

use super::extract::{BodyBytes, ExecutionIdPath, JobIdPath, JsonBody};
use super::openapi;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RetryBody {
    /// The execution's region (id or alias), as a check that the right row is retried.
    region: String,
    /// The execution's `question_index`, the same check.
    question_index: i64,
}

/// `POST /api/v1/executions/:id/retry-question`
#[utoipa::path(
    post,
    path = "/api/v1/executions/{id}/retry-question",
    operation_id = "retry_execution",
    tag = "retries",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Repeats with the same key (24 h) get the first answer again"),
    ),
    request_body = RetryBody,
    responses(
        (status = 202, description = "Accepted: the retry is queued", body = RetryAccepted),
        (status = 400, description = "`invalid_request` naming the field or the Idempotency-Key; `region_mismatch`; `question_mismatch`", body = openapi::ErrorBody),
        (status = 409, description = "`not_retryable` (its job was cancelled); `already_completed`; `in_progress`", body = openapi::ErrorBody),
        (status = 429, description = "`max_retries_reached`, with `retry_attempt` and `max_attempts`", body = openapi::ErrorBody),
    ),
)]
pub async fn retry_question(
    State(retries): State<Arc<RetryCommitter>>,
    State(config): State<Arc<Config>>,
    ExecutionIdPath(id): ExecutionIdPath,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RetryBody>,
) -> Result<(StatusCode, Json<RetryAccepted>), AppError> {
    let key = match headers.get("idempotency-key") {
        None => None,
        // A value that is not even ASCII is refused like any other bad key.
        Some(value) => Some(crate::domain::IdempotencyKey::parse(value.to_str().unwrap_or_default())?),
    };
    let requested_by = caller.account().map(str::to_string);
    let request = RetryRequest::parse(&config.setup.catalogue, id, &body.region, body.question_index, key, requested_by)?;
    let accepted = retry::retry(&retries, request, Trigger::Manual).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

/// `POST /api/v1/jobs/:id/retry-all-failed`, body optional: `{"region"?, "model_id"?}`.
#[utoipa::path(
    post,
    path = "/api/v1/jobs/{id}/retry-all-failed",
    operation_id = "retry_all_failed",
    tag = "retries",
    request_body(content = Option<BatchFilter>, description = "Optional: only one region and/or one model"),
    responses(
        (status = 200, description = "The retries queued, and the failed executions skipped with the reason's code", body = BatchRetryResult),
        (status = 400, description = "`invalid_request` naming `region`, `model_id` or the body", body = openapi::ErrorBody),
    ),
)]
pub async fn retry_all_failed(
    State(retries): State<Arc<RetryCommitter>>,
    State(config): State<Arc<Config>>,
    JobIdPath(job_id): JobIdPath,
    caller: Caller,
    BodyBytes(body): BodyBytes,
) -> Result<Json<BatchRetryResult>, AppError> {
    let filter: BatchFilter = if body.iter().all(u8::is_ascii_whitespace) {
        BatchFilter::default()
    } else {
        serde_json::from_slice(&body).map_err(|err| AppError::invalid_request(format!("body: {err}")))?
    };
    Ok(Json(retry::retry_all_failed(&retries, &job_id, &filter.parse(&config.setup.catalogue)?, caller.account()).await?))
}
