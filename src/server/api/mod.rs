//! The REST API (PRODUCT.md §5): JSON in, JSON out, paths and field names as the earlier
//! system had them. Handlers parse, call one service function, and map its result.
//!
//! Every `/api/v1` route is registered here through `routes!`, which takes its path and its
//! documentation from the handler's `#[utoipa::path]`: the OpenAPI document
//! ([`openapi::DOCUMENT`]) and the router cannot disagree.

mod analysis;
mod catalogue;
mod executions;
pub mod extract;
mod health;
mod jobs;
pub mod openapi;
pub mod questions;
pub mod rejections;
mod retries;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::live::streams;
use super::state::AppState;

pub fn routes() -> Router<AppState> {
    let (documented, _) = documented_routes().split_for_parts();
    documented
        // Outside `/api/v1`, and not part of the scripted API: for probes and scrapers.
        .route("/health", get(health::health))
        .route("/metrics", get(crate::server::telemetry::metrics::scrape))
}

/// The `/api/v1` routes with their documentation.
fn documented_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(openapi::document))
        .routes(routes!(questions::list, questions::create))
        .routes(routes!(questions::get, questions::replace, questions::delete))
        // Imports may be larger than anything else the API takes.
        .merge(OpenApiRouter::new().routes(routes!(questions::import)).layer(DefaultBodyLimit::max(questions::MAX_IMPORT_BYTES)))
        .routes(routes!(questions::list_sets, questions::create_set))
        .routes(routes!(questions::get_set))
        .routes(routes!(catalogue::regions))
        .routes(routes!(catalogue::models))
        .routes(routes!(jobs::list, jobs::create))
        .routes(routes!(streams::jobs_events))
        .routes(routes!(streams::job_events))
        .routes(routes!(jobs::get))
        .routes(routes!(jobs::cancel))
        .routes(routes!(jobs::warmups))
        .routes(routes!(jobs::executions))
        .routes(routes!(jobs::all_executions))
        .routes(routes!(analysis::compare))
        .routes(routes!(analysis::analysis))
        .routes(routes!(jobs::export_csv))
        .routes(routes!(jobs::export_jsonl))
        .routes(routes!(retries::retry_all_failed))
        .routes(routes!(executions::details))
        .routes(routes!(retries::retry_question))
}
