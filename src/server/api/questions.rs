use axum::extract::State;
use axum::Json;
use serde::Serialize;

use crate::domain::views::QuestionView;
use crate::server::db;
use crate::server::error::AppError;
use crate::server::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct QuestionList {
    questions: Vec<QuestionView>,
}

/// `GET /api/v1/questions`: the question catalogue.
#[utoipa::path(get, path = "/api/v1/questions",
    operation_id = "list_questions", tag = "catalogue", responses((status = 200, description = "Every question, in catalogue order", body = QuestionList)))]
pub async fn list(State(state): State<AppState>) -> Result<Json<QuestionList>, AppError> {
    Ok(Json(QuestionList { questions: db::questions::list(&state.db).await? }))
}
