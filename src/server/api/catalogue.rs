//! `GET /api/v1/regions` and `GET /api/v1/models` (PROVIDERS.md §1): what the configuration
//! offers, as the new-job form offers it.

use axum::extract::State;
use axum::Json;

use serde::Serialize;

use crate::domain::{ModelInfo, RegionInfo};
use std::sync::Arc;

use crate::server::config::Config;

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
pub async fn regions(State(config): State<Arc<Config>>) -> Json<RegionList> {
    Json(RegionList { regions: config.setup.catalogue.regions.clone() })
}

/// `GET /api/v1/models`: the configured models and the regions serving each.
#[utoipa::path(get, path = "/api/v1/models",
    operation_id = "list_models", tag = "catalogue", responses((status = 200, description = "The configured models and where each is served", body = ModelList)))]
pub async fn models(State(config): State<Arc<Config>>) -> Json<ModelList> {
    Json(ModelList { models: config.setup.catalogue.models.clone() })
}
