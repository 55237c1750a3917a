//! The REST API (PRODUCT.md §5): JSON in, JSON out, paths and field names as the earlier
//! system had them. Handlers parse, call one service function, and map its result.

mod catalogue;
mod executions;
pub mod extract;
mod health;
mod jobs;
mod questions;
pub mod rejections;
mod retries;

use axum::routing::{get, post};
use axum::Router;

use super::live::streams;
use super::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health::health))
        .route("/metrics", get(crate::server::telemetry::metrics::scrape))
        .route("/api/v1/questions", get(questions::list))
        .route("/api/v1/regions", get(catalogue::regions))
        .route("/api/v1/models", get(catalogue::models))
        .route("/api/v1/jobs", get(jobs::list).post(jobs::create))
        .route("/api/v1/jobs/events", get(streams::jobs_events))
        .route("/api/v1/jobs/{id}/events", get(streams::job_events))
        .route("/api/v1/jobs/{id}", get(jobs::get))
        .route("/api/v1/jobs/{id}/cancel", post(jobs::cancel))
        .route("/api/v1/jobs/{id}/warmups", get(jobs::warmups))
        .route("/api/v1/jobs/{id}/executions", get(jobs::executions))
        .route("/api/v1/jobs/{id}/executions/all", get(jobs::all_executions))
        .route("/api/v1/jobs/{id}/retry-all-failed", post(retries::retry_all_failed))
        .route("/api/v1/executions/{id}/details", get(executions::details))
        .route("/api/v1/executions/{id}/retry-question", post(retries::retry_question))
}
