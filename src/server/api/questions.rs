//! `/api/v1/questions` and `/api/v1/question-sets` (RESEARCH.md §1).

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::domain::views::{QuestionSetView, QuestionView};
use crate::server::auth::Caller;
use crate::server::db::Db;
use crate::server::error::AppError;
use crate::server::services::questions::{self, ImportResult, NewSetBody, QuestionBody};

use super::extract::{BodyBytes, JsonBody, QueryParams, RawPath};
use super::openapi::ErrorBody;

/// The largest import body, above the API's usual limit.
pub const MAX_IMPORT_BYTES: usize = 8 * 1024 * 1024;

#[derive(Serialize, utoipa::ToSchema)]
pub struct QuestionList {
    questions: Vec<QuestionView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct QuestionSetList {
    question_sets: Vec<QuestionSetView>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this set's questions, in its order.
    set: Option<String>,
    /// Only this category.
    category: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Also put every imported question in this set (created if missing).
    set: Option<String>,
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// `GET /api/v1/questions`: the questions, with tags and whether a job has used them.
#[utoipa::path(
    get,
    path = "/api/v1/questions",
    operation_id = "list_questions",
    tag = "questions",
    params(ListQuery),
    responses(
        (status = 200, description = "The questions, in catalogue order (or the set's)", body = QuestionList),
        (status = 404, description = "`not_found`: no such set", body = ErrorBody),
    ),
)]
pub async fn list(State(db): State<Db>, QueryParams(query): QueryParams<ListQuery>) -> Result<Json<QuestionList>, AppError> {
    Ok(Json(QuestionList { questions: questions::list(&db, present(&query.set), present(&query.category)).await? }))
}

/// `POST /api/v1/questions`: adds one question.
#[utoipa::path(
    post,
    path = "/api/v1/questions",
    operation_id = "create_question",
    tag = "questions",
    request_body = QuestionBody,
    responses(
        (status = 201, description = "Stored", body = QuestionView),
        (status = 400, description = "`invalid_request` naming the field", body = ErrorBody),
        (status = 409, description = "`duplicate`: the id exists", body = ErrorBody),
    ),
)]
pub async fn create(State(db): State<Db>, JsonBody(body): JsonBody<QuestionBody>) -> Result<(StatusCode, Json<QuestionView>), AppError> {
    Ok((StatusCode::CREATED, Json(questions::create(&db, body).await?)))
}

/// `GET /api/v1/questions/:id`
#[utoipa::path(
    get,
    path = "/api/v1/questions/{id}",
    operation_id = "get_question",
    tag = "questions",
    responses(
        (status = 200, description = "The question", body = QuestionView),
    ),
)]
pub async fn get(State(db): State<Db>, RawPath(id): RawPath) -> Result<Json<QuestionView>, AppError> {
    Ok(Json(questions::get(&db, &id).await?))
}

/// `PUT /api/v1/questions/:id`: replaces text, category and tags of a question no job has used.
#[utoipa::path(
    put,
    path = "/api/v1/questions/{id}",
    operation_id = "replace_question",
    tag = "questions",
    request_body = QuestionBody,
    responses(
        (status = 200, description = "Replaced", body = QuestionView),
        (status = 400, description = "`invalid_request` naming the field", body = ErrorBody),
        (status = 409, description = "`question_in_use`: a job has asked it; it never changes", body = ErrorBody),
    ),
)]
pub async fn replace(State(db): State<Db>, RawPath(id): RawPath, JsonBody(body): JsonBody<QuestionBody>) -> Result<Json<QuestionView>, AppError> {
    Ok(Json(questions::replace(&db, &id, body).await?))
}

/// `DELETE /api/v1/questions/:id`: deletes a question no job has used.
#[utoipa::path(
    delete,
    path = "/api/v1/questions/{id}",
    operation_id = "delete_question",
    tag = "questions",
    responses(
        (status = 204, description = "Deleted (and taken out of its sets)"),
        (status = 409, description = "`question_in_use`: a job has asked it; it never changes", body = ErrorBody),
    ),
)]
pub async fn delete(State(db): State<Db>, RawPath(id): RawPath) -> Result<StatusCode, AppError> {
    questions::delete(&db, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/questions/import`: many questions from CSV or NDJSON, all or nothing.
#[utoipa::path(
    post,
    path = "/api/v1/questions/import",
    operation_id = "import_questions",
    tag = "questions",
    params(ImportQuery),
    request_body(
        description = "CSV (`text/csv`: header `id,text` and optional `category,tags`, tags `;`-separated, RFC 4180) or NDJSON (`application/x-ndjson`: one question object a line); at most 10,000 questions or 8 MiB",
        content((String = "text/csv"), (String = "application/x-ndjson")),
    ),
    responses(
        (status = 201, description = "Imported: new questions stored, identical ones unchanged", body = ImportResult),
        (status = 400, description = "`invalid_import`, with `errors`: `[{line, error}]` at the file's physical lines (nothing stored); `invalid_request` naming `set`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not CSV or NDJSON", body = ErrorBody),
    ),
)]
pub async fn import(
    State(db): State<Db>,
    caller: Caller,
    headers: HeaderMap,
    QueryParams(query): QueryParams<ImportQuery>,
    BodyBytes(body): BodyBytes,
) -> Result<(StatusCode, Json<ImportResult>), AppError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let result = questions::import(&db, content_type, &body, present(&query.set), caller.account()).await?;
    Ok((StatusCode::CREATED, Json(result)))
}

/// `GET /api/v1/question-sets`
#[utoipa::path(
    get,
    path = "/api/v1/question-sets",
    operation_id = "list_question_sets",
    tag = "questions",
    responses((status = 200, description = "Every question set with its question ids", body = QuestionSetList)),
)]
pub async fn list_sets(State(db): State<Db>) -> Result<Json<QuestionSetList>, AppError> {
    Ok(Json(QuestionSetList { question_sets: questions::list_sets(&db).await? }))
}

/// `POST /api/v1/question-sets`: names an ordered list of stored questions.
#[utoipa::path(
    post,
    path = "/api/v1/question-sets",
    operation_id = "create_question_set",
    tag = "questions",
    request_body = NewSetBody,
    responses(
        (status = 201, description = "Created", body = QuestionSetView),
        (status = 400, description = "`invalid_request` naming the field (unknown question ids are listed)", body = ErrorBody),
        (status = 409, description = "`duplicate`: the id exists", body = ErrorBody),
    ),
)]
pub async fn create_set(
    State(db): State<Db>,
    caller: Caller,
    JsonBody(body): JsonBody<NewSetBody>,
) -> Result<(StatusCode, Json<QuestionSetView>), AppError> {
    Ok((StatusCode::CREATED, Json(questions::create_set(&db, body, caller.account()).await?)))
}

/// `GET /api/v1/question-sets/:id`
#[utoipa::path(
    get,
    path = "/api/v1/question-sets/{id}",
    operation_id = "get_question_set",
    tag = "questions",
    responses(
        (status = 200, description = "The set with its question ids in order", body = QuestionSetView),
    ),
)]
pub async fn get_set(State(db): State<Db>, RawPath(id): RawPath) -> Result<Json<QuestionSetView>, AppError> {
    Ok(Json(questions::get_set(&db, &id).await?))
}
