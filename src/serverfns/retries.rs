use leptos::prelude::*;

use crate::domain::views::{BatchRetryResult, ExecutionHistory, RetryAccepted};
use crate::domain::ApiError;

/// The row's Retry button. Same service, same rules as the REST route.
#[server]
pub async fn retry_execution(id: String, region: String, question_index: i64) -> Result<RetryAccepted, ApiError> {
    use crate::domain::{ExecutionId, Trigger};
    use crate::server::auth::Caller;
    use crate::server::page_request;
    use crate::server::services::retry::{retry, RetryRequest};
    super::serve(<RetryExecution as leptos::server_fn::ServerFn>::PATH, |state| async move {
        let requested_by = Caller::from_context().account().map(str::to_string);
        let request = RetryRequest::parse(&state.config.setup.catalogue, ExecutionId::parse(&id)?, &region, question_index, None, requested_by)?;
        let accepted = retry(&state.retries, request, Trigger::Manual).await?;
        page_request::back_with_notice(&state.notice_key, &crate::domain::retry::accepted_summary(&accepted));
        Ok(accepted)
    })
    .await
}

/// "Retry all failed" for the whole job, or for one region or model.
#[server]
pub async fn retry_all_failed(job_id: String, region: Option<String>, model_id: Option<String>) -> Result<BatchRetryResult, ApiError> {
    use crate::domain::JobId;
    use crate::server::auth::Caller;
    use crate::server::page_request;
    use crate::server::services::retry::{self, BatchFilter};
    super::serve(<RetryAllFailed as leptos::server_fn::ServerFn>::PATH, |state| async move {
        let job_id = JobId::parse(&job_id)?;
        let scope = BatchFilter { region, model_id }.parse(&state.config.setup.catalogue)?;
        let caller = Caller::from_context();
        let result = retry::retry_all_failed(&state.retries, &job_id, &scope, caller.account()).await?;
        page_request::back_with_notice(&state.notice_key, &crate::domain::retry::batch_summary(&result));
        Ok(result)
    })
    .await
}

#[server(prefix = "/api/read")]
pub async fn load_execution_history(id: String) -> Result<ExecutionHistory, ApiError> {
    use crate::domain::ExecutionId;
    use crate::server::services::jobs;
    super::serve(<LoadExecutionHistory as leptos::server_fn::ServerFn>::PATH, |state| async move {
        jobs::history(&state.db, ExecutionId::parse(&id)?).await
    })
    .await
}
