//! `/questions` (RESEARCH.md §1, UI.md §9): the question catalogue as a plain server-rendered
//! page, like `/login` and `/api/docs`: it lists and filters the questions, adds one with a
//! form, edits and deletes the ones no job has asked yet, and imports a CSV or JSON Lines file
//! with an upload that shows every line's problem beside it. No scripts: each form posts, and
//! success answers with a redirect back to the list (post/redirect/get).
//!
//! Roles come from the path and method ([`crate::server::auth::policy::needed_role`]): viewers
//! read the page, researchers post its forms. Question texts are untrusted: every piece of text
//! goes through [`escape`].

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use crate::domain::views::{QuestionSetView, QuestionView};
use crate::server::auth::Caller;
use crate::server::error::AppError;
use crate::server::http::html::{self, escape};
use crate::server::http::notices::BannerFor;
use crate::server::imports::Format;
use crate::server::services::questions::{self, QuestionBody};
use crate::server::state::AppState;

/// The upload's body limit: the API's largest import (8 MiB) plus room for the multipart
/// framing and the other fields.
pub const MAX_UPLOAD_BYTES: usize = crate::server::api::questions::MAX_IMPORT_BYTES + 64 * 1024;

/// A notice in the URL is shown as text; a longer one is cut rather than let a link fill the page.
const MAX_NOTICE_CHARS: usize = 200;

#[derive(Debug, Deserialize, Default)]
pub struct PageQuery {
    set: Option<String>,
    category: Option<String>,
    notice: Option<String>,
    /// A question to edit: its form is shown above the list.
    edit: Option<String>,
}

/// The "Add a question" form, as typed.
#[derive(Debug, Deserialize, Default, Clone)]
pub struct AddForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    tags: String,
}

/// What a page shows beyond the list: a notice, a problem at the form it is about, and the
/// forms' values to keep.
#[derive(Default)]
struct Extras {
    notice: Option<String>,
    error: Option<String>,
    /// Where `error` stands (UI.md §9: next to the form it is about).
    error_at: Section,
    /// Per-line import problems, `(line, error)`.
    line_errors: Vec<(u64, String)>,
    add: AddForm,
    /// The question being edited, as stored or as typed.
    edit: Option<AddForm>,
    upload_set: String,
    /// The caller may read but not change (a viewer): the page offers nothing to press.
    read_only: bool,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Section {
    #[default]
    List,
    Add,
    Edit,
    Upload,
}

fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// `GET /questions?set=&category=`
pub async fn page(State(state): State<AppState>, caller: Caller, Query(query): Query<PageQuery>) -> Response {
    let notice = present(query.notice.as_deref()).map(|n| n.chars().take(MAX_NOTICE_CHARS).collect());
    let read_only = !caller.may(crate::domain::Role::Researcher);
    let mut extras = Extras { notice, read_only, ..Extras::default() };
    let mut status = StatusCode::OK;
    if let Some(id) = present(query.edit.as_deref()).filter(|_| !read_only) {
        match questions::get(&state.db, id).await {
            Ok(question) if question.in_use => {
                status = StatusCode::CONFLICT;
                extras.error = Some(format!("Question {id} is asked by a job: it can no longer change"));
            }
            Ok(question) => {
                extras.edit = Some(AddForm {
                    id: question.id,
                    text: question.text,
                    category: question.category.unwrap_or_default(),
                    tags: question.tags.join(", "),
                })
            }
            Err(err) => {
                (status, extras.error) = {
                    let (s, e) = failure(&err);
                    (s, Some(e))
                }
            }
        }
    }
    render(&state, status, present(query.set.as_deref()), present(query.category.as_deref()), extras).await
}

/// `POST /questions/{id}/edit`: replaces an unused question's text, category and tags.
pub async fn edit(State(state): State<AppState>, BannerFor(who): BannerFor, Path(id): Path<String>, Form(form): Form<AddForm>) -> Response {
    let body = QuestionBody {
        id: None,
        text: form.text.clone(),
        category: present(Some(&form.category)).map(str::to_string),
        tags: Some(split_tags(&form.tags)),
    };
    match questions::replace(&state.db, &id, body).await {
        Ok(question) => see_other(&list_url(&state, &who, None, &format!("Question {} saved", question.id))),
        Err(err) => {
            let (status, error) = failure(&err);
            let extras = Extras { error: Some(error), error_at: Section::Edit, edit: Some(AddForm { id, ..form }), ..Extras::default() };
            render(&state, status, None, None, extras).await
        }
    }
}

/// `POST /questions/{id}/delete`: deletes a question no job has asked.
pub async fn delete(State(state): State<AppState>, BannerFor(who): BannerFor, Path(id): Path<String>) -> Response {
    match questions::delete(&state.db, &id).await {
        Ok(()) => see_other(&list_url(&state, &who, None, &format!("Question {id} deleted"))),
        Err(err) => {
            let (status, error) = failure(&err);
            render(&state, status, None, None, Extras { error: Some(error), ..Extras::default() }).await
        }
    }
}

/// `POST /questions`: adds one question from the form.
pub async fn add(State(state): State<AppState>, BannerFor(who): BannerFor, Form(form): Form<AddForm>) -> Response {
    let body = QuestionBody {
        id: Some(form.id.trim().to_string()),
        text: form.text.clone(),
        category: present(Some(&form.category)).map(str::to_string),
        tags: Some(split_tags(&form.tags)),
    };
    match questions::create(&state.db, body).await {
        Ok(question) => see_other(&list_url(&state, &who, None, &format!("Question {} added", question.id))),
        Err(err) => {
            let (status, error) = failure(&err);
            let extras = Extras { error: Some(error), error_at: Section::Add, add: form, ..Extras::default() };
            render(&state, status, None, None, extras).await
        }
    }
}

/// `POST /questions/upload` (multipart: `file`, `set`): an import, all or nothing.
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    BannerFor(who): BannerFor,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let upload = match read_upload(multipart).await {
        Ok(upload) => upload,
        Err((status, message, set)) => {
            let extras = Extras { error: Some(message), error_at: Section::Upload, upload_set: set, ..Extras::default() };
            return render(&state, status, None, None, extras).await;
        }
    };
    let set = present(Some(&upload.set)).map(str::to_string);
    let refused = |error: String, line_errors: Vec<(u64, String)>| Extras {
        error: Some(error),
        error_at: Section::Upload,
        line_errors,
        upload_set: upload.set.clone(),
        ..Extras::default()
    };
    let Some(content_type) = upload.content_type() else {
        let message = format!("{:?} is neither CSV (.csv) nor JSON Lines (.jsonl, .ndjson)", upload.file_name);
        let extras = refused(message, Vec::new());
        return render(&state, StatusCode::UNSUPPORTED_MEDIA_TYPE, None, None, extras).await;
    };
    match questions::import(&state.db, Some(&content_type), &upload.bytes, set.as_deref(), caller.account()).await {
        Ok(result) => {
            let notice = format!("Imported: {} new, {} unchanged", result.created, result.unchanged);
            see_other(&list_url(&state, &who, result.set.as_deref(), &notice))
        }
        Err(err) => {
            let answer = err.to_api_error();
            let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_REQUEST);
            let extras = if answer.code == "invalid_import" {
                let lines = answer.details.get("errors").and_then(|e| e.as_array()).cloned().unwrap_or_default();
                let lines = lines.iter().map(|e| (e["line"].as_u64().unwrap_or(0), e["error"].as_str().unwrap_or_default().to_string())).collect();
                refused("Nothing was imported: fix these lines and upload the file again.".to_string(), lines)
            } else {
                refused(answer.error, Vec::new())
            };
            render(&state, status, None, None, extras).await
        }
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
                let file_name = field.file_name().unwrap_or_default().to_string();
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

/// Status and message of a failed add. Internal failures are logged by `to_api_error` and
/// shown only as the generic sentence.
fn failure(err: &AppError) -> (StatusCode, String) {
    let answer = err.to_api_error();
    (StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), answer.error)
}

/// Tags as typed: separated by commas or semicolons, trimmed, empty ones dropped.
fn split_tags(tags: &str) -> Vec<String> {
    tags.split([',', ';']).map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect()
}

fn list_url(state: &AppState, who: &str, set: Option<&str>, notice: &str) -> String {
    let list = match set {
        Some(set) => format!("/questions?{}", form_urlencoded::Serializer::new(String::new()).append_pair("set", set).finish()),
        None => "/questions".to_string(),
    };
    state.notice_key.page_with_notice(&list, notice, who)
}

fn see_other(location: &str) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location.to_string())]).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The whole page. A set or category that finds nothing is shown as such; an unknown set
/// makes the page a 404 with the reason.
async fn render(state: &AppState, status: StatusCode, set: Option<&str>, category: Option<&str>, mut extras: Extras) -> Response {
    let mut status = status;
    let sets = match questions::list_sets(&state.db).await {
        Ok(sets) => sets,
        Err(err) => {
            let (failed, message) = failure(&err);
            return plain_problem(failed, &message);
        }
    };
    let listed = match questions::list(&state.db, set, category).await {
        Ok(listed) => listed,
        Err(err) => {
            let (failed, message) = failure(&err);
            if status.is_success() {
                status = failed;
            }
            extras.error.get_or_insert(message);
            Vec::new()
        }
    };
    let main = page_html(&sets, &listed, set, category, &extras);
    let mut response = (status, Html(html::page("Questions", &main))).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn plain_problem(status: StatusCode, message: &str) -> Response {
    let main = format!(r#"<section class="card panel"><h1>Questions</h1><p class="error-banner" role="alert">{}</p></section>"#, escape(message));
    (status, Html(html::page("Questions", &main))).into_response()
}

fn page_html(sets: &[QuestionSetView], listed: &[QuestionView], set: Option<&str>, category: Option<&str>, extras: &Extras) -> String {
    let mut out = String::new();
    out.push_str(r#"<section class="card panel questions-page"><h1>Questions</h1>"#);
    if let Some(notice) = &extras.notice {
        out.push_str(&format!(r#"<p class="notice notice-banner" role="status" data-testid="questions-notice">{}</p>"#, escape(notice)));
    }
    // A problem stands beside the form it is about.
    let error_at = |section: Section| match &extras.error {
        Some(error) if extras.error_at == section => {
            format!(r#"<p class="error-banner" role="alert" data-testid="questions-error">{}</p>"#, escape(error))
        }
        _ => String::new(),
    };
    out.push_str(&error_at(Section::List));
    if let Some(edit) = &extras.edit {
        out.push_str(&format!(
            r#"<section class="card inset" id="edit" data-testid="edit-question-form"><h2>Edit question <code>{id}</code></h2>{error}
<form method="post" action="/questions/{id}/edit" class="questions-form">
<label>Text <textarea name="text" required rows="3">{text}</textarea></label>
<label>Category <input name="category" value="{category}"></label>
<label>Tags <input name="tags" value="{tags}"> <span class="muted">separated by commas or semicolons</span></label>
<button type="submit" class="primary">Save question</button> <a href="/questions">Cancel</a>
</form></section>"#,
            id = escape(&edit.id),
            error = error_at(Section::Edit),
            text = escape(&edit.text),
            category = escape(&edit.category),
            tags = escape(&edit.tags),
        ));
    }

    // The filter.
    out.push_str(r#"<form method="get" action="/questions" class="questions-filter" data-testid="filter-form"><label>Question set <select name="set"><option value="">All questions</option>"#);
    for s in sets {
        let selected = if set == Some(s.id.as_str()) { " selected" } else { "" };
        out.push_str(&format!(r#"<option value="{id}"{selected}>{name} ({id})</option>"#, id = escape(&s.id), name = escape(&s.name),));
    }
    out.push_str(&format!(
        r#"</select></label> <label>Category <input name="category" value="{}"></label> <button type="submit">Filter</button></form>"#,
        escape(category.unwrap_or_default()),
    ));
    // A set on screen (after an import into it, or chosen above) is one click from a job.
    if let Some(chosen) = set.and_then(|set| sets.iter().find(|s| s.id == set && !s.questions.is_empty())) {
        let query = form_urlencoded::Serializer::new(String::new()).append_pair("question_set", &chosen.id).finish();
        out.push_str(&format!(
            r#"<p><a class="button primary" href="/?{query}#new-job" data-testid="start-with-set">Start a job with this set</a> <span class="muted">{name}: {count}</span></p>"#,
            name = escape(&chosen.name),
            count = if chosen.questions.len() == 1 { "1 question".to_string() } else { format!("{} questions", chosen.questions.len()) },
        ));
    }

    // The list.
    let count = match listed.len() {
        1 => "1 question".to_string(),
        n => format!("{n} questions"),
    };
    out.push_str(&format!(r#"<p class="muted" data-testid="questions-count">{count}</p>"#));
    out.push_str(
        r#"<table class="questions-table" data-testid="questions-table"><thead><tr><th scope="col">Id</th><th scope="col">Text</th><th scope="col">Category</th><th scope="col">Tags</th><th scope="col">In use</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead><tbody>"#,
    );
    for q in listed {
        out.push_str(&format!(
            r#"<tr data-testid="question-row" data-question-id="{id}"><td><code>{id}</code></td><td class="question-text">{text}</td><td>{category}</td><td>{tags}</td><td>{in_use}</td><td class="action">{actions}</td></tr>"#,
            id = escape(&q.id),
            text = escape(&q.text),
            category = escape(q.category.as_deref().unwrap_or_default()),
            tags = escape(&q.tags.join(", ")),
            in_use = if q.in_use { r#"<span class="badge">in use</span> <span class="muted">asked by a job: it can no longer change</span>"# } else { "" },
            actions = if q.in_use || extras.read_only { String::new() } else { row_actions(&q.id) },
        ));
    }
    out.push_str("</tbody></table></section>");

    // Add one.
    let add = &extras.add;
    out.push_str(&format!(
        r#"<section class="card panel"><h2>Add a question</h2>{error}{read_only}
<form method="post" action="/questions" class="questions-form" data-testid="add-question-form">
<label>Id <input name="id" required pattern="[a-z0-9_\-]{{1,64}}" maxlength="64" value="{id}"> <span class="muted">lower-case letters, digits, <code>_</code> and <code>-</code></span></label>
<label>Text <textarea name="text" required rows="3">{text}</textarea></label>
<label>Category <input name="category" value="{category}"></label>
<label>Tags <input name="tags" value="{tags}"> <span class="muted">separated by commas or semicolons</span></label>
<button type="submit" class="primary"{disabled}>Add question</button>
</form></section>"#,
        error = error_at(Section::Add),
        read_only = read_only_note(extras.read_only),
        id = escape(&add.id),
        text = escape(&add.text),
        category = escape(&add.category),
        tags = escape(&add.tags),
        disabled = if extras.read_only { " disabled" } else { "" },
    ));

    // Import many.
    out.push_str(&format!(
        r#"<section class="card panel"><h2>Upload CSV or JSONL</h2>
<p class="muted">CSV: a header row naming <code>id</code> and <code>text</code>, optionally <code>category</code> and <code>tags</code> (tags <code>;</code>-separated). JSON Lines: one question object a line. All or nothing: a file with any bad line imports nothing.</p>
<form method="post" action="/questions/upload" enctype="multipart/form-data" class="questions-form" data-testid="upload-form">
<label>File <input type="file" name="file" required accept=".csv,.jsonl,.ndjson,text/csv,application/x-ndjson"></label>
<label>Add to question set <input name="set" value="{set}" pattern="[a-z0-9_\-]{{1,64}}" maxlength="64"> <span class="muted">optional; created if missing</span></label>
<button type="submit" class="primary"{disabled}>Upload</button>
</form>{error}{lines}</section>"#,
        set = escape(&extras.upload_set),
        disabled = if extras.read_only { " disabled" } else { "" },
        error = error_at(Section::Upload),
        lines = line_errors(&extras.line_errors),
    ));
    out
}

/// Why the forms cannot be sent, for a viewer.
fn read_only_note(read_only: bool) -> &'static str {
    if read_only {
        r#"<p class="muted" data-testid="read-only">Adding, editing and importing questions needs the researcher role.</p>"#
    } else {
        ""
    }
}

/// An import's problems, one per line of the file, quoting the bad value (UI.md §9).
fn line_errors(errors: &[(u64, String)]) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let items: String = errors.iter().map(|(line, error)| format!("<li>Line {line}, {}</li>", escape(error))).collect();
    format!(r#"<ul class="upload-errors" data-testid="upload-errors">{items}</ul>"#)
}

/// Edit and Delete for a question no job has asked. Delete asks first, without scripts: the
/// button that deletes is inside a disclosure.
fn row_actions(id: &str) -> String {
    let id = escape(id);
    format!(
        r#"<a href="/questions?edit={id}#edit" data-testid="edit-question">Edit</a> <details class="confirm"><summary data-testid="delete-question">Delete…</summary><form method="post" action="/questions/{id}/delete"><button type="submit" class="danger" data-testid="confirm-delete">Delete {id}</button></form></details>"#
    )
}
