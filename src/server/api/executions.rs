use axum::extract::State;
use axum::Json;

use crate::server::error::AppError;
use crate::server::services::jobs::{self, ExecutionDetail};
use crate::server::state::AppState;

use super::extract::ExecutionIdPath;

pub async fn details(
    State(state): State<AppState>,
    ExecutionIdPath(id): ExecutionIdPath,
) -> Result<Json<ExecutionDetail>, AppError> {
    Ok(Json(jobs::execution_detail(&state, id).await?))
}
