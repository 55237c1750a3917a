//! Questions and question sets (RESEARCH.md §1): the rules the API and the `/questions` page
//! share. The field rules live in [`crate::domain::question`], the import reader in
//! [`crate::server::imports`]; this is where they meet the database.

use serde::{Deserialize, Serialize};

use crate::domain::question::{id_problem, valid_question_id, NewQuestion};
use crate::domain::views::{QuestionSetView, QuestionView};
use crate::server::db::questions::{self as stored, QuestionFilter, SetCreated, Written};
use crate::server::db::Db;
use crate::server::error::AppError;
use crate::server::imports::{self, Format};

/// A question as `POST`ed or `PUT`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionBody {
    /// `[a-z0-9_-]{1,64}`; on `PUT`, optional, and when given must be the path's.
    #[serde(default)]
    pub id: Option<String>,
    /// 1–4,000 characters.
    pub text: String,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

/// `POST /api/v1/questions/import`'s answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportResult {
    pub created: u64,
    pub unchanged: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set: Option<String>,
}

/// `POST /api/v1/question-sets`' body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSetBody {
    /// `[a-z0-9_-]{1,64}`
    pub id: String,
    /// 1–200 characters.
    pub name: String,
    /// Stored question ids, in the set's order; at least one, none twice.
    pub questions: Vec<String>,
}

pub const MAX_SET_NAME_CHARS: usize = 200;

pub async fn list(db: &Db, set: Option<&str>, category: Option<&str>) -> Result<Vec<QuestionView>, AppError> {
    if category.is_some_and(|c| c.contains('\0')) {
        return Err(AppError::invalid_request("category: must not contain NUL characters"));
    }
    if let Some(set) = set {
        if !valid_question_id(set) {
            return Err(set_not_found(set));
        }
        stored::get_set(db, set).await?.ok_or_else(|| set_not_found(set))?;
    }
    Ok(stored::list(db, &QuestionFilter { set, category }).await?)
}

pub async fn get(db: &Db, id: &str) -> Result<QuestionView, AppError> {
    // An id that cannot exist is not looked up (PostgreSQL refuses some bytes outright).
    if !valid_question_id(id) {
        return Err(question_not_found(id));
    }
    stored::get(db, id).await?.ok_or_else(|| question_not_found(id))
}

pub async fn create(db: &Db, body: QuestionBody) -> Result<QuestionView, AppError> {
    let id = body.id.clone().ok_or_else(|| AppError::invalid_request("id: missing"))?;
    let question = validated(id, body)?;
    match stored::insert(db, &question).await? {
        Written::Done => get(db, &question.id).await,
        _ => Err(AppError::refused(crate::domain::ErrorCode::Duplicate, format!("a question with id {:?} already exists", question.id))),
    }
}

/// Replaces an unused question's text, category and tags.
pub async fn replace(db: &Db, id: &str, body: QuestionBody) -> Result<QuestionView, AppError> {
    if body.id.as_deref().is_some_and(|given| given != id) {
        return Err(AppError::invalid_request(format!("id: the body's id {:?} is not the path's {id:?}", body.id.unwrap_or_default())));
    }
    if !valid_question_id(id) {
        return Err(question_not_found(id));
    }
    let question = validated(id.to_string(), body)?;
    match stored::update(db, &question).await? {
        Written::Done => get(db, id).await,
        Written::InUse => Err(in_use(id)),
        _ => Err(question_not_found(id)),
    }
}

pub async fn delete(db: &Db, id: &str) -> Result<(), AppError> {
    if !valid_question_id(id) {
        return Err(question_not_found(id));
    }
    match stored::delete(db, id).await? {
        Written::Done => Ok(()),
        Written::InUse => Err(in_use(id)),
        _ => Err(question_not_found(id)),
    }
}

/// An import in either format, all or nothing.
pub async fn import(db: &Db, content_type: Option<&str>, body: &[u8], set: Option<&str>, created_by: Option<&str>) -> Result<ImportResult, AppError> {
    let format = content_type.and_then(Format::from_content_type).ok_or_else(|| {
        AppError::refused(
            crate::domain::ErrorCode::UnsupportedMediaType,
            format!("Content-Type: expected text/csv or application/x-ndjson, got {:?}", content_type.unwrap_or("nothing")),
        )
    })?;
    if let Some(set) = set {
        if !valid_question_id(set) {
            return Err(AppError::invalid_request(format!("set: {}", id_problem(set))));
        }
    }
    let questions = imports::parse(format, body).map_err(invalid_import)?;
    let imported = stored::import(db, &questions, set, created_by).await?.map_err(invalid_import)?;
    Ok(ImportResult { created: imported.created, unchanged: imported.unchanged, set: set.map(str::to_string) })
}

fn invalid_import(errors: Vec<imports::LineError>) -> AppError {
    let message = match errors.as_slice() {
        [one] => format!("line {}: {}; nothing was imported", one.line, one.error),
        many => format!("{} lines have problems (the first on line {}); nothing was imported", many.len(), many.first().map_or(0, |e| e.line)),
    };
    AppError::Refused { code: crate::domain::ErrorCode::InvalidImport, message, details: serde_json::json!({ "errors": errors }) }
}

pub async fn create_set(db: &Db, body: NewSetBody, created_by: Option<&str>) -> Result<QuestionSetView, AppError> {
    if !valid_question_id(&body.id) {
        return Err(AppError::invalid_request(format!("id: {}", id_problem(&body.id))));
    }
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > MAX_SET_NAME_CHARS || name.contains('\0') {
        return Err(AppError::invalid_request(format!("name: must be 1–{MAX_SET_NAME_CHARS} characters")));
    }
    if body.questions.is_empty() {
        return Err(AppError::invalid_request("questions: pick at least one question"));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = body.questions.iter().find(|q| !seen.insert(q.as_str())) {
        return Err(AppError::invalid_request(format!("questions: {twice:?} is listed twice")));
    }
    let malformed: Vec<&String> = body.questions.iter().filter(|q| !valid_question_id(q)).collect();
    if !malformed.is_empty() {
        return Err(AppError::invalid_request(format!("questions: unknown question ids {malformed:?}")));
    }
    match stored::create_set(db, &body.id, name, &body.questions, created_by).await? {
        SetCreated::Created => get_set(db, &body.id).await,
        SetCreated::Exists => {
            Err(AppError::refused(crate::domain::ErrorCode::Duplicate, format!("a question set with id {:?} already exists", body.id)))
        }
        SetCreated::Unknown(ids) => Err(AppError::invalid_request(format!("questions: unknown question ids {ids:?}"))),
    }
}

pub async fn list_sets(db: &Db) -> Result<Vec<QuestionSetView>, AppError> {
    Ok(stored::list_sets(db).await?)
}

pub async fn get_set(db: &Db, id: &str) -> Result<QuestionSetView, AppError> {
    if !valid_question_id(id) {
        return Err(set_not_found(id));
    }
    stored::get_set(db, id).await?.ok_or_else(|| set_not_found(id))
}

fn validated(id: String, body: QuestionBody) -> Result<NewQuestion, AppError> {
    NewQuestion::validated(id, body.text, body.category, body.tags.unwrap_or_default()).map_err(|err| AppError::invalid_request(err.to_string()))
}

fn in_use(id: &str) -> AppError {
    AppError::refused(
        crate::domain::ErrorCode::QuestionInUse,
        format!("question {id:?} has been asked by a job; it can no longer change (add a new question instead)"),
    )
}

fn question_not_found(id: &str) -> AppError {
    AppError::NotFound(format!("question {id:?} not found"))
}

fn set_not_found(id: &str) -> AppError {
    AppError::NotFound(format!("question set {id:?} not found"))
}
