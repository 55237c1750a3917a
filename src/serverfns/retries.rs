use leptos::prelude::*;

use crate::domain::views::{BatchRetryResult, ExecutionHistory, RetryAccepted};

/// The page's Retry button. Same service, same rules as the REST route.
#[server]
pub async fn retry_execution(id: i64, region: String, question_index: i64) -> Result<RetryAccepted, ServerFnError> {
    use crate::server::error::AppError;
    use crate::server::services::retry::{retry, RetryRequest, Trigger};
    use crate::server::state::AppState;
    let state = AppState::from_context().map_err(AppError::into_server_fn_error)?;
    let request = RetryRequest { execution_id: id, region: &region, question_index, idempotency_key: None };
    retry(&state, request, Trigger::Manual).await.map_err(AppError::into_server_fn_error)
}

/// "Retry all failed" for the whole job, or for one region.
#[server]
pub async fn retry_all_failed(job_id: String, region: Option<String>) -> Result<BatchRetryResult, ServerFnError> {
    use crate::server::error::AppError;
    use crate::server::services::retry::{self, BatchFilter};
    use crate::server::state::AppState;
    let state = AppState::from_context().map_err(AppError::into_server_fn_error)?;
    let filter = BatchFilter { region, model_id: None };
    retry::retry_all_failed(&state, &job_id, &filter).await.map_err(AppError::into_server_fn_error)
}

#[server]
pub async fn load_execution_history(id: i64) -> Result<ExecutionHistory, ServerFnError> {
    use crate::server::error::AppError;
    use crate::server::services::jobs;
    use crate::server::state::AppState;
    let state = AppState::from_context().map_err(AppError::into_server_fn_error)?;
    jobs::history(&state, id).await.map_err(AppError::into_server_fn_error)
}
