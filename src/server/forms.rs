//! HTML form posts, for the pages' buttons that must work before (or without) the WASM:
//! each runs the same service as the REST API and answers with a redirect back to a page,
//! carrying a refusal's message in the query string.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::post;
use axum::Router;

use super::error::AppError;
use super::services::jobs::{self, CreateJob};
use super::services::retry::{self, BatchFilter, RetryRequest, Trigger};
use super::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/jobs", post(create_job))
        .route("/jobs/{id}/cancel", post(cancel_job))
        .route("/jobs/{id}/retry-all-failed", post(retry_all_failed))
        .route("/executions/{id}/retry", post(retry_execution))
}

fn fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The row's Retry button without JavaScript: `region`, `question_index` and `job_id` (where
/// to come back to) as hidden fields.
async fn retry_execution(State(state): State<AppState>, Path(id): Path<String>, body: Bytes) -> Redirect {
    let fields = fields(&body);
    let page = match field(&fields, "job_id") {
        Some(job) => format!("/jobs/{}", encode(job)),
        None => "/".to_string(),
    };
    let Ok(execution_id) = id.parse::<i64>() else {
        return back_with_error(&page, &AppError::invalid_request(format!("execution id must be a positive integer, got {id:?}")));
    };
    let Some(question_index) = field(&fields, "question_index").and_then(|v| v.parse::<i64>().ok()) else {
        return back_with_error(&page, &AppError::invalid_request("question_index: must be a whole number"));
    };
    let request = RetryRequest {
        execution_id,
        region: field(&fields, "region").unwrap_or_default(),
        question_index,
        idempotency_key: None,
    };
    match retry::retry(&state, request, Trigger::Manual).await {
        Ok(accepted) => Redirect::to(&format!(
            "{page}?notice={}",
            encode(&format!("Retry queued: {} · {} · {}", accepted.question_id, accepted.model_id, accepted.region))
        )),
        Err(err) => back_with_error(&page, &err),
    }
}

async fn retry_all_failed(State(state): State<AppState>, Path(id): Path<String>, body: Bytes) -> Redirect {
    let fields = fields(&body);
    let page = format!("/jobs/{}", encode(&id));
    let filter = BatchFilter { region: field(&fields, "region").map(str::to_string), model_id: None };
    match retry::retry_all_failed(&state, &id, &filter).await {
        Ok(result) => Redirect::to(&format!("{page}?notice={}", encode(&crate::domain::retry::batch_summary(&result)))),
        Err(err) => back_with_error(&page, &err),
    }
}

/// `questions=a&questions=b&models=…&regions=…`, the new-job form's checkboxes.
async fn create_job(State(state): State<AppState>, body: Bytes) -> Redirect {
    let mut request = CreateJob { id: None, questions: vec![], models: vec![], regions: vec![] };
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "questions" => request.questions.push(value.into_owned()),
            "models" => request.models.push(value.into_owned()),
            "regions" => request.regions.push(value.into_owned()),
            _ => {}
        }
    }
    match jobs::create(&state, request).await {
        Ok(created) => Redirect::to(&format!("/jobs/{}", encode(&created.id))),
        Err(err) => back_with_error("/", &err),
    }
}

async fn cancel_job(State(state): State<AppState>, Path(id): Path<String>) -> Redirect {
    let page = format!("/jobs/{}", encode(&id));
    match jobs::cancel(&state, &id).await {
        Ok(_) => Redirect::to(&page),
        Err(err) => back_with_error(&page, &err),
    }
}

fn back_with_error(page: &str, err: &AppError) -> Redirect {
    if let AppError::Internal(inner) = err {
        tracing::error!(error = ?inner, "form post failed");
    }
    Redirect::to(&format!("{page}?error={}", encode(&err.public_message())))
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
