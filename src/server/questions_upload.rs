//! The questions page's upload (RESEARCH.md §1, UI.md §9): `POST /api/upload_questions`, a
//! multipart form (`file`, `set`) posted by the browser itself, with or without JavaScript
//! (`ActionForm` cannot send a file). An import, all or nothing, by the same service as
//! `POST /api/v1/questions/import`.
//!
//! It answers as the page's other forms do: a redirect back to `/questions`, with the notice on
//! success (signed here), or with the error written as Leptos writes a server function's
//! (`__path`, `__err`, signed on the way out by `http::notices::sign_form_errors`), which
//! carries every bad line of the file; the page shows them beside the upload form.

use std::sync::Arc;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::domain::{ApiError, ErrorCode};
use crate::server::auth::Caller;
use crate::server::db::Db;
use crate::server::http::notices::{BannerFor, NoticeKey};
use crate::server::imports::Format;
use crate::server::services::questions;
use crate::serverfns::questions::{page_with_error, typed, QUESTIONS_PAGE, UPLOAD_QUESTIONS_PATH};

/// The upload's body limit: the API's largest import (8 MiB) plus room for the multipart
/// framing and the other field.
pub const MAX_UPLOAD_BYTES: usize = crate::server::api::questions::MAX_IMPORT_BYTES + 64 * 1024;

/// The bad lines an answer lists, and how much of each it quotes: the list travels in the
/// page's address. The message says how many there are in all.
const MAX_LINES_SHOWN: usize = 20;
const MAX_LINE_ERROR_CHARS: usize = 160;
/// The set field as typed, carried back.
const MAX_SET_CHARS: usize = 200;

/// `POST /api/upload_questions`
pub async fn upload(
    State(db): State<Db>,
    State(notice_key): State<Arc<NoticeKey>>,
    caller: Caller,
    BannerFor(who): BannerFor,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let upload = match read_upload(multipart).await {
        Ok(upload) => upload,
        Err((status, message, set)) => return back_with_error(&set, ApiError::of(code_for(status), message)),
    };
    let Some(content_type) = upload.content_type() else {
        let message = format!("{:?} is neither CSV (.csv) nor JSON Lines (.jsonl, .ndjson)", upload.file_name);
        return back_with_error(&upload.set, ApiError::of(ErrorCode::UnsupportedMediaType, message));
    };
    let set = Some(upload.set.trim()).filter(|s| !s.is_empty());
    match questions::import(&db, Some(&content_type), &upload.bytes, set, caller.account()).await {
        Ok(result) => {
            let notice = format!("Imported: {} new, {} unchanged", result.created, result.unchanged);
            let list = match result.set.as_deref() {
                Some(set) => format!("{QUESTIONS_PAGE}?{}", form_urlencoded::Serializer::new(String::new()).append_pair("set", set).finish()),
                None => QUESTIONS_PAGE.to_string(),
            };
            see_other(&notice_key.page_with_notice(&list, &notice, &who))
        }
        Err(err) => back_with_error(&upload.set, refusal(err.to_api_error())),
    }
}

/// The service's answer as the page shows it: an invalid import as a sentence and its lines
/// (`errors`: `line`, `error`), at most [`MAX_LINES_SHOWN`]; anything else as it is.
fn refusal(mut answer: ApiError) -> ApiError {
    if answer.code != ErrorCode::InvalidImport.as_str() {
        answer.details.clear();
        return answer;
    }
    let lines = answer.details.get("errors").and_then(|e| e.as_array()).cloned().unwrap_or_default();
    let shown: Vec<serde_json::Value> = lines
        .iter()
        .take(MAX_LINES_SHOWN)
        .map(|e| {
            let error: String = e["error"].as_str().unwrap_or_default().chars().take(MAX_LINE_ERROR_CHARS).collect();
            serde_json::json!({ "line": e["line"].as_u64().unwrap_or(0), "error": error })
        })
        .collect();
    answer.error = if lines.len() > shown.len() {
        format!(
            "Nothing was imported: {} lines have problems, the first {} are listed; fix them and upload the file again.",
            lines.len(),
            shown.len()
        )
    } else {
        "Nothing was imported: fix these lines and upload the file again.".to_string()
    };
    answer.details.clear();
    answer.details.insert("errors".to_string(), serde_json::Value::Array(shown));
    answer
}

/// Back to the page with `error` beside the upload form and the set field as typed.
fn back_with_error(set: &str, error: ApiError) -> Response {
    let set: String = set.trim().chars().take(MAX_SET_CHARS).collect();
    let kept = if set.is_empty() { Vec::new() } else { vec![(typed::UPLOAD_SET, set)] };
    see_other(&page_with_error(&kept, UPLOAD_QUESTIONS_PATH, error))
}

fn code_for(status: StatusCode) -> ErrorCode {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        _ => ErrorCode::InvalidRequest,
    }
}

/// The uploaded file and the form's other field.
struct Upload {
    file_name: String,
    part_type: Option<String>,
    bytes: Vec<u8>,
    set: String,
}

impl Upload {
    /// The import's format: from the file name's extension, else from the part's content type.
    fn content_type(&self) -> Option<String> {
        let extension = self.file_name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase());
        match extension.as_deref() {
            Some("csv") => return Some("text/csv".to_string()),
            Some("jsonl" | "ndjson") => return Some("application/x-ndjson".to_string()),
            _ => {}
        }
        self.part_type.clone().filter(|ct| Format::from_content_type(ct).is_some())
    }
}

/// Reads the form's parts; `Err` is the status, the message and the set field as far as read.
async fn read_upload(multipart: Result<Multipart, MultipartRejection>) -> Result<Upload, (StatusCode, String, String)> {
    let mut multipart = multipart.map_err(|rejection| (rejection.status(), rejection.body_text(), String::new()))?;
    let mut file: Option<(String, Option<String>, Vec<u8>)> = None;
    let mut set = String::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => return Err((err.status(), multipart_problem(err.status(), &err.body_text()), set)),
        };
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                // Echoed back in the error (and so in the page's address): a name is cut at 100 characters.
                let file_name: String = field.file_name().unwrap_or_default().chars().take(100).collect();
                let part_type = field.content_type().map(str::to_string);
                let bytes = field.bytes().await.map_err(|err| (err.status(), multipart_problem(err.status(), &err.body_text()), set.clone()))?;
                file = Some((file_name, part_type, bytes.to_vec()));
            }
            "set" => {
                set = field.text().await.map_err(|err| (err.status(), multipart_problem(err.status(), &err.body_text()), String::new()))?;
            }
            // Anything else a browser might add is ignored.
            _ => {}
        }
    }
    match file {
        // A browser sends an empty, unnamed part when no file was chosen.
        Some((file_name, _, bytes)) if file_name.is_empty() && bytes.is_empty() => {
            Err((StatusCode::BAD_REQUEST, "Choose a file to upload".to_string(), set))
        }
        None => Err((StatusCode::BAD_REQUEST, "Choose a file to upload".to_string(), set)),
        Some((file_name, part_type, bytes)) => Ok(Upload { file_name, part_type, bytes, set }),
    }
}

fn multipart_problem(status: StatusCode, text: &str) -> String {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        "The file is too large: imports take at most 8 MiB".to_string()
    } else {
        format!("The upload could not be read: {text}")
    }
}

fn see_other(location: &str) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location.to_string())]).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
