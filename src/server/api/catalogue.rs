//! `GET /api/v1/regions` and `GET /api/v1/models` (PROVIDERS.md §1): what the configuration
//! offers, as the new-job form offers it.

use axum::extract::State;
use axum::Json;

use crate::server::state::AppState;

pub async fn regions(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "regions": state.config.setup.catalogue.regions }))
}

pub async fn models(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "models": state.config.setup.catalogue.models }))
}
