//! `GET /api/v1/jobs/:id/compare` and `GET /api/v1/jobs/:id/analysis` (RESEARCH.md §4–§5).

use axum::extract::State;
use axum::Json;

use crate::domain::analysis::report::{AnalysisView, CompareView};
use crate::domain::views::CompareQuery;
use crate::server::error::AppError;
use crate::server::services::analysis::{self, CompareFilter};
use std::sync::Arc;

use crate::server::config::Config;
use crate::server::db::Db;

use super::extract::{JobIdPath, QueryParams};
use super::openapi::ErrorBody;

/// `GET /api/v1/jobs/:id/compare`: the answers side by side, regions as columns.
#[utoipa::path(
    get,
    path = "/api/v1/jobs/{id}/compare",
    operation_id = "compare_job",
    tag = "analysis",
    params(CompareQuery),
    responses(
        (status = 200, description = "One row per question × model × sample, each region's answer with its refusal flag and length, the row's agreement and whether it diverges; 100 rows a page, `matching` counts them all", body = CompareView),
        (status = 400, description = "`invalid_request` naming `model`, `diverging`, `refused`, `incomplete` or `page`", body = ErrorBody),
    ),
)]
pub async fn compare(
    State(db): State<Db>,
    State(config): State<Arc<Config>>,
    JobIdPath(id): JobIdPath,
    QueryParams(query): QueryParams<CompareQuery>,
) -> Result<Json<CompareView>, AppError> {
    Ok(Json(analysis::compare(&db, config.divergence_threshold, &id, &CompareFilter::from_query(&query)?).await?))
}

/// `GET /api/v1/jobs/:id/analysis`: refusal rates with intervals, region agreement, retry
/// analytics and the retry-bias check.
#[utoipa::path(
    get,
    path = "/api/v1/jobs/{id}/analysis",
    operation_id = "analyse_job",
    tag = "analysis",
    responses(
        (status = 200, description = "Every number the analysis page shows, as it shows them", body = AnalysisView),
    ),
)]
pub async fn analysis(State(db): State<Db>, State(config): State<Arc<Config>>, JobIdPath(id): JobIdPath) -> Result<Json<AnalysisView>, AppError> {
    Ok(Json(analysis::analysis(&db, config.divergence_threshold, &id).await?))
}
