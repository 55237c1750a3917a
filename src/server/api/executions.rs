use axum::extract::State;
use axum::Json;

use crate::server::db::Db;
use crate::server::error::AppError;
use crate::server::services::jobs::{self, ExecutionDetail};

use super::extract::ExecutionIdPath;

/// `GET /api/v1/executions/:id/details`: one execution with its attempt history
/// (`retry_history`), each attempt with its answer and provenance.
#[utoipa::path(
    get,
    path = "/api/v1/executions/{id}/details",
    operation_id = "execution_details",
    tag = "executions",
    responses(
        (status = 200, description = "The execution with every attempt and its provenance", body = ExecutionDetail),
    ),
)]
pub async fn details(State(db): State<Db>, ExecutionIdPath(id): ExecutionIdPath) -> Result<Json<ExecutionDetail>, AppError> {
    Ok(Json(jobs::execution_detail(&db, id).await?))
}
