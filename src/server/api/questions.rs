use axum::extract::State;
use axum::Json;

use crate::server::db;
use crate::server::error::AppError;
use crate::server::state::AppState;

pub async fn list(State(state): State<AppState>) -> Result<Json<serde_json::Value>, AppError> {
    let questions = db::questions::list(&state.db).await?;
    Ok(Json(serde_json::json!({ "questions": questions })))
}
