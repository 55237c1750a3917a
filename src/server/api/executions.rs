use axum::extract::State;
use axum::Json;

use crate::server::db::Db;
use crate::server::error::AppError;
use crate::server::services::jobs::{self, ExecutionDetail};

use super::extract::ExecutionIdPath;
use super::openapi;
use crate::domain::ExecutionId;

/// `GET /api/v1/executions/:id/details`: one execution with its attempt history
/// (`retry_history`), each attempt with its answer and provenance.
#[utoipa::path(
    get,
    path = "/api/v1/executions/{id}/details",
    operation_id = "execution_details",
    tag = "executions",
    params(("id" = ExecutionId, Path, description = "The execution's id")),
    responses(
        (status = 200, description = "The execution with every attempt and its provenance", body = ExecutionDetail),
        (status = 400, description = "`invalid_execution_id`", body = openapi::ErrorBody),
        (status = 404, description = "`not_found`", body = openapi::ErrorBody),
    ),
)]
pub async fn details(State(db): State<Db>, ExecutionIdPath(id): ExecutionIdPath) -> Result<Json<ExecutionDetail>, AppError> {
    Ok(Json(jobs::execution_detail(&db, id).await?))
}
