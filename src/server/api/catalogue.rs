//! `GET /api/v1/regions` and `GET /api/v1/models` (PROVIDERS.md §1): what the configuration
//! offers, as the new-job form offers it.

use axum::extract::State;
use axum::Json;

use serde::Serialize;

use crate::domain::{ModelInfo, RegionInfo};
use crate::server::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct RegionList {
    regions: Vec<RegionInfo>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ModelList {
    models: Vec<ModelInfo>,
}

/// `GET /api/v1/regions`: the configured regions, with labels and aliases.
#[utoipa::path(get, path = "/api/v1/regions",
    operation_id = "list_regions", tag = "catalogue", responses((status = 200, description = "The configured regions, in order", body = RegionList)))]
pub async fn regions(State(state): State<AppState>) -> Json<RegionList> {
    Json(RegionList { regions: state.config.setup.catalogue.regions.clone() })
}

/// `GET /api/v1/models`: the configured models and the regions serving each.
#[utoipa::path(get, path = "/api/v1/models",
    operation_id = "list_models", tag = "catalogue", responses((status = 200, description = "The configured models and where each is served", body = ModelList)))]
pub async fn models(State(state): State<AppState>) -> Json<ModelList> {
    Json(ModelList { models: state.config.setup.catalogue.models.clone() })
}
