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
use super::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/jobs", post(create_job))
        .route("/jobs/{id}/cancel", post(cancel_job))
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
