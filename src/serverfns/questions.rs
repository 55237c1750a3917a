//! The questions page's calls (RESEARCH.md §1, UI.md §9): the catalogue with its filter, and
//! the targets of the page's forms (add, edit, delete). The same services as
//! `/api/v1/questions`; the upload, a multipart form, is an axum handler
//! (`server::questions_upload`) at [`UPLOAD_QUESTIONS_PATH`].
//!
//! A form posted without JavaScript comes back to `/questions`: with the notice on success,
//! or with the error where Leptos puts it (`__path`, `__err`, signed on the way out by
//! `http::notices::sign_form_errors`) and what was typed, so the form shows it again
//! ([`typed`]). With JavaScript the page keeps the form as typed and shows the answer itself.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::views::{QuestionSetView, QuestionView};
use crate::domain::ApiError;

/// The page every form here comes back to.
pub const QUESTIONS_PAGE: &str = "/questions";

/// The upload form's target. Under `/api/` (like every server function's address) so that
/// the error its redirect carries is signed like theirs (`sign_form_errors` signs the
/// redirects of `POST /api/…` outside `/api/v1/`); a researcher's route by the policy table.
pub const UPLOAD_QUESTIONS_PATH: &str = "/api/upload_questions";

/// The query parameters that carry back what a form posted without JavaScript had typed, next
/// to its error. The page shows them only with that form's error (`__path` and a signed
/// `__err`), so a link cannot fill a form in.
pub mod typed {
    pub const NEW_ID: &str = "new_id";
    pub const NEW_TEXT: &str = "new_text";
    pub const NEW_CATEGORY: &str = "new_category";
    pub const NEW_TAGS: &str = "new_tags";
    /// The question being edited (the page's own `?edit=`).
    pub const EDIT: &str = "edit";
    pub const EDIT_TEXT: &str = "edit_text";
    pub const EDIT_CATEGORY: &str = "edit_category";
    pub const EDIT_TAGS: &str = "edit_tags";
    pub const UPLOAD_SET: &str = "upload_set";
}

/// A typed value carried back is cut here: the address must stay short enough for proxies
/// (a question's text may be 4,000 characters; one that long is rare, and the page with
/// JavaScript keeps it whole).
#[cfg(feature = "ssr")]
const MAX_TYPED_CHARS: usize = 2_000;

/// What `/questions?set=&category=&edit=` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionsPageData {
    /// Every question set, for the filter.
    pub sets: Vec<QuestionSetView>,
    /// The filter as applied (blank is none).
    pub set: Option<String>,
    pub category: Option<String>,
    pub questions: Vec<QuestionView>,
    /// Why the list is empty: an unknown set (404), a category that cannot be (400). The page
    /// still shows the filter, and answers with this status.
    pub list_error: Option<ApiError>,
    /// The question `?edit=` names, when the caller may change it and no job has asked it.
    pub editing: Option<QuestionView>,
    /// Why `?edit=` shows no form: asked by a job (409), no such question (404).
    pub edit_error: Option<ApiError>,
}

#[server(prefix = "/api/read")]
pub async fn load_questions_page(set: Option<String>, category: Option<String>, edit: Option<String>) -> Result<QuestionsPageData, ApiError> {
    use crate::domain::{ErrorCode, Role};
    use crate::server::auth::Caller;
    use crate::server::services::questions;
    super::serve(<LoadQuestionsPage as leptos::server_fn::ServerFn>::PATH, |state| async move {
        let (set, category) = (present(set), present(category));
        let sets = questions::list_sets(&state.db).await?;
        let (listed, list_error) = match questions::list(&state.db, set.as_deref(), category.as_deref()).await {
            Ok(listed) => (listed, None),
            Err(err) => (Vec::new(), Some(err.to_api_error())),
        };
        // A viewer is never offered the form (the functions below refuse them anyway).
        let edit = present(edit).filter(|_| Caller::from_context().may(Role::Researcher));
        let (editing, edit_error) = match edit {
            None => (None, None),
            Some(id) => match questions::get(&state.db, &id).await {
                Ok(question) if question.in_use => {
                    (None, Some(ApiError::of(ErrorCode::QuestionInUse, format!("Question {id} is asked by a job: it can no longer change"))))
                }
                Ok(question) => (Some(question), None),
                Err(err) => (None, Some(err.to_api_error())),
            },
        };
        Ok(QuestionsPageData { sets, set, category, questions: listed, list_error, editing, edit_error })
    })
    .await
}

/// "Add a question". Every field optional here so that a missing one reaches the rules, which
/// name it. Answers the new question's id.
#[server]
pub async fn add_question(id: Option<String>, text: Option<String>, category: Option<String>, tags: Option<String>) -> Result<String, ApiError> {
    use crate::server::services::questions::{self, QuestionBody};
    let (id, text, category, tags) = (id.unwrap_or_default(), text.unwrap_or_default(), category.unwrap_or_default(), tags.unwrap_or_default());
    let kept =
        vec![(typed::NEW_ID, id.clone()), (typed::NEW_TEXT, text.clone()), (typed::NEW_CATEGORY, category.clone()), (typed::NEW_TAGS, tags.clone())];
    let path = <AddQuestion as leptos::server_fn::ServerFn>::PATH;
    let result = super::serve(path, |state| async move {
        let body = QuestionBody { id: Some(id.trim().to_string()), text, category: present(Some(category)), tags: Some(split_tags(&tags)) };
        Ok(questions::create(&state.db, body).await?.id)
    })
    .await;
    come_back(path, &result, |id| format!("Question {id} added"), kept);
    result
}

/// "Save question": replaces an unused question's text, category and tags. Answers its id.
#[server]
pub async fn edit_question(id: String, text: Option<String>, category: Option<String>, tags: Option<String>) -> Result<String, ApiError> {
    use crate::server::page_request;
    use crate::server::services::questions::{self, QuestionBody};
    let (text, category, tags) = (text.unwrap_or_default(), category.unwrap_or_default(), tags.unwrap_or_default());
    let kept =
        vec![(typed::EDIT, id.clone()), (typed::EDIT_TEXT, text.clone()), (typed::EDIT_CATEGORY, category.clone()), (typed::EDIT_TAGS, tags.clone())];
    let path = <EditQuestion as leptos::server_fn::ServerFn>::PATH;
    let result = super::serve(path, |state| async move {
        let body = QuestionBody { id: None, text, category: present(Some(category)), tags: Some(split_tags(&tags)) };
        Ok(questions::replace(&state.db, &id, body).await?.id)
    })
    .await;
    // The form comes back only for a text it can fix (400); a question a job has asked, or one
    // that is gone, is said above the list.
    let kept = if matches!(&result, Err(err) if err.status == 400) { kept } else { Vec::new() };
    come_back(path, &result, |id| format!("Question {id} saved"), kept);
    // With JavaScript: back to the list, the form closed.
    if result.is_ok() && !page_request::is_plain_form_post() {
        page_request::go_to(QUESTIONS_PAGE);
    }
    result
}

/// "Delete …": deletes a question no job has asked. Answers its id.
#[server]
pub async fn delete_question(id: String) -> Result<String, ApiError> {
    use crate::server::services::questions;
    let path = <DeleteQuestion as leptos::server_fn::ServerFn>::PATH;
    let result = super::serve(path, |state| async move {
        questions::delete(&state.db, &id).await?;
        Ok(id)
    })
    .await;
    come_back(path, &result, |id| format!("Question {id} deleted"), Vec::new());
    result
}

/// After a form posted without JavaScript: back to the list with the notice (signed for the
/// caller), or with the error and what was typed. A call from the page's code gets its answer.
#[cfg(feature = "ssr")]
fn come_back(fn_path: &str, result: &Result<String, ApiError>, notice: impl FnOnce(&str) -> String, kept: Vec<(&'static str, String)>) {
    use crate::server::{http::notices, page_request, state::AppState};
    if !page_request::is_plain_form_post() {
        return;
    }
    let target = match result {
        Ok(id) => {
            let who = use_context::<axum::http::request::Parts>().map(|parts| notices::who(&parts.extensions)).unwrap_or_default();
            match use_context::<AppState>() {
                Some(state) => state.notice_key.page_with_notice(QUESTIONS_PAGE, &notice(id), &who),
                None => QUESTIONS_PAGE.to_string(),
            }
        }
        Err(error) => page_with_error(&kept, fn_path, error.clone()),
    };
    // Set after the function answered, this replaces the Referer Leptos would go back to; a
    // 303 (Leptos' own is a 302), as the page's forms always answered.
    leptos_axum::redirect(&target);
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::SEE_OTHER);
    }
}

/// `/questions?{kept}&__path={fn_path}&__err=…`: the page with `error` written the way Leptos
/// writes a server function's error (so the page's actions read it back), unsigned: the
/// redirect is signed on its way out (`sign_form_errors`).
#[cfg(feature = "ssr")]
pub fn page_with_error(kept: &[(&'static str, String)], fn_path: &str, error: ApiError) -> String {
    let mut base = format!("http://beacon{QUESTIONS_PAGE}");
    if !kept.is_empty() {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(kept.iter().map(|(key, value)| (*key, value.chars().take(MAX_TYPED_CHARS).collect::<String>())))
            .finish();
        base = format!("{base}?{query}");
    }
    match leptos::server_fn::error::ServerFnUrlError::new(fn_path, error).to_url(&base) {
        Ok(url) => match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        },
        Err(_) => QUESTIONS_PAGE.to_string(),
    }
}

/// A form field as typed: blank is "not given".
#[cfg(feature = "ssr")]
fn present(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// Tags as typed: separated by commas or semicolons, trimmed, empty ones dropped.
#[cfg(feature = "ssr")]
fn split_tags(tags: &str) -> Vec<String> {
    tags.split([',', ';']).map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect()
}
