use leptos::prelude::*;
use leptos::server_fn::error::ServerFnUrlError;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::visitor::{may, needs};
use crate::components::{format_plural, loaded, use_toaster, ToastKind};
use crate::domain::views::QuestionView;
use crate::domain::{ApiError, Role};
use crate::serverfns::questions::{
    load_questions_page, typed, AddQuestion, DeleteQuestion, EditQuestion, QuestionsPageData, QUESTIONS_PAGE, UPLOAD_QUESTIONS_PATH,
};

/// A question or set id, as the browser checks it before sending (the server checks again).
/// `\-`: browsers compile `pattern` with the `v` flag, where a bare `-` in a class is an error.
const ID_PATTERN: &str = r"[a-z0-9_\-]{1,64}";

/// `/questions?set=&category=&edit=` (RESEARCH.md §1, UI.md §9): the question catalogue,
/// filtered by set and category; a form that adds one; Edit and Delete for the questions no
/// job has asked yet; an upload of a CSV or JSON Lines file whose bad lines are listed beside
/// it; and, for a set on screen, "Start a job with this set". A viewer reads it, with nothing to
/// press. The forms work without JavaScript (see `serverfns::questions`); question texts are
/// untrusted and only ever text.
#[component]
pub fn QuestionsPage() -> impl IntoView {
    let query = use_query_map();
    let add = ServerAction::<AddQuestion>::new();
    let edit = ServerAction::<EditQuestion>::new();
    let delete = ServerAction::<DeleteQuestion>::new();
    // Bumped by a change made on this page with JavaScript: the list is loaded again.
    let changed = RwSignal::new(0u32);
    on_success(add, changed, |id| format!("Question {id} added"));
    on_success(edit, changed, |id| format!("Question {id} saved"));
    on_success(delete, changed, |id| format!("Question {id} deleted"));
    let wanted = move || {
        let query = query.read();
        (query.get("set"), query.get("category"), query.get(typed::EDIT), changed.get())
    };
    let page = Resource::new(wanted, |(set, category, edit, _)| load_questions_page(set, category, edit));
    let allowed = may(Role::Researcher);
    view! {
        <Title text="Questions · Beacon" />
        {loaded(page, move |data| view! { <Questions data may_change=allowed.get() add edit delete /> })}
    }
}

/// After a change made with JavaScript: a toast, and the list again (a form posted without it
/// comes back with the notice in the address instead).
fn on_success<S>(action: ServerAction<S>, changed: RwSignal<u32>, words: fn(&str) -> String)
where
    S: ServerFn<Output = String, Error = ApiError> + Clone + Send + Sync + 'static,
{
    let toaster = use_toaster();
    Effect::new(move |_| {
        let answer = action.value().get();
        // Version 0: an error Leptos read from the address, not an answer to this page.
        if action.version().get_untracked() == 0 {
            return;
        }
        if let Some(Ok(id)) = answer {
            toaster.push(ToastKind::Success, words(&id));
            changed.update(|n| *n += 1);
        }
    });
}

#[component]
fn Questions(
    data: QuestionsPageData,
    may_change: bool,
    add: ServerAction<AddQuestion>,
    edit: ServerAction<EditQuestion>,
    delete: ServerAction<DeleteQuestion>,
) -> impl IntoView {
    let QuestionsPageData { sets, set, category, questions, list_error, editing, edit_error } = data;
    set_page_status(edit_error.as_ref().or(list_error.as_ref()).map(|error| error.status));

    let query = use_query_map();
    let from_address = |key: &str| query.read_untracked().get(key);
    // What a form posted without JavaScript had typed: only with that form's own error.
    let came_back = |fn_path: &str| from_address("__path").as_deref() == Some(fn_path) && from_address("__err").is_some();
    let typed_value = |key: &str| from_address(key).unwrap_or_default();
    let notice = from_address("notice");
    let upload_error =
        came_back(UPLOAD_QUESTIONS_PATH).then(|| from_address("__err").map(|encoded| ServerFnUrlError::<ApiError>::decode_err(&encoded))).flatten();
    let upload_set = if upload_error.is_some() { typed_value(typed::UPLOAD_SET) } else { String::new() };

    // A problem stands beside the form it is about (UI.md §9); the others above the list.
    let editing_shown = editing.is_some();
    let page_errors: Vec<String> = edit_error.into_iter().chain(list_error).map(|error| error.error).collect();
    let action_error = move || {
        let edit_refusal = if editing_shown { None } else { edit.value().get().and_then(Result::err) };
        delete
            .value()
            .get()
            .and_then(Result::err)
            .into_iter()
            .chain(edit_refusal)
            .map(|error| view! { <QuestionsError message=error.error /> })
            .collect_view()
    };

    let edit_section = editing.map(|question| {
        let (text, category, tags) = if came_back(EditQuestion::PATH) {
            (typed_value(typed::EDIT_TEXT), typed_value(typed::EDIT_CATEGORY), typed_value(typed::EDIT_TAGS))
        } else {
            (question.text.clone(), question.category.clone().unwrap_or_default(), question.tags.join(", "))
        };
        let (id, shown_id) = (question.id.clone(), question.id);
        view! {
            <section class="card inset" id="edit" data-testid="edit-question-form">
                <h2>"Edit question " <code>{shown_id}</code></h2>
                {move || edit.value().get().and_then(Result::err).map(|error| view! { <QuestionsError message=error.error /> })}
                <ActionForm action=edit attr:class="questions-form">
                    <input type="hidden" name="id" value=id />
                    <label>"Text " {text_area(text)}</label>
                    <label>"Category " <input name="category" value=category /></label>
                    <label>"Tags " <input name="tags" value=tags /> " " <span class="muted">"separated by commas or semicolons"</span></label>
                    <button type="submit" class="primary">"Save question"</button>
                    " "
                    <a href=QUESTIONS_PAGE>"Cancel"</a>
                </ActionForm>
            </section>
        }
    });

    // A set on screen (after an import into it, or chosen in the filter) is one click from a job.
    let start_with_set = sets.iter().find(|s| set.as_deref() == Some(s.id.as_str()) && !s.questions.is_empty()).map(|chosen| {
        // Set ids are `[a-z0-9_-]`: nothing in them needs escaping in an address.
        let href = format!("/?question_set={}#new-job", chosen.id);
        let size = format!("{}: {}", chosen.name, format_plural(chosen.questions.len(), "question", "questions"));
        view! {
            <p>
                <a class="button primary" href=href data-testid="start-with-set">"Start a job with this set"</a>
                " "
                <span class="muted">{size}</span>
            </p>
        }
    });
    let set_options = sets
        .iter()
        .map(|s| {
            let label = format!("{} ({})", s.name, s.id);
            view! { <option value=s.id.clone() selected=set.as_deref() == Some(s.id.as_str())>{label}</option> }
        })
        .collect_view();
    let count = format_plural(questions.len(), "question", "questions");
    let rows = questions.into_iter().map(|question| view! { <QuestionRow question may_change delete /> }).collect_view();

    let (new_id, new_text, new_category, new_tags) = if came_back(AddQuestion::PATH) {
        (typed_value(typed::NEW_ID), typed_value(typed::NEW_TEXT), typed_value(typed::NEW_CATEGORY), typed_value(typed::NEW_TAGS))
    } else {
        Default::default()
    };
    let refused_title = (!may_change).then(|| needs(Role::Researcher));
    let add_title = refused_title.clone();
    let upload_lines = upload_error.as_ref().map(line_errors).unwrap_or_default();

    view! {
        <section class="card panel questions-page">
            <h1>"Questions"</h1>
            {notice.map(|notice| view! { <p class="notice notice-banner" role="status" data-testid="questions-notice">{notice}</p> })}
            {page_errors.into_iter().map(|message| view! { <QuestionsError message /> }).collect_view()}
            {action_error}
            {edit_section}
            <form method="get" action=QUESTIONS_PAGE class="questions-filter" data-testid="filter-form">
                <label>"Question set "
                    <select name="set">
                        <option value="">"All questions"</option>
                        {set_options}
                    </select>
                </label>
                " "
                <label>"Category " <input name="category" value=category.unwrap_or_default() /></label>
                " "
                <button type="submit">"Filter"</button>
            </form>
            {start_with_set}
            <p class="muted" data-testid="questions-count">{count}</p>
            <table class="questions-table" data-testid="questions-table">
                <thead>
                    <tr>
                        <th scope="col">"Id"</th>
                        <th scope="col">"Text"</th>
                        <th scope="col">"Category"</th>
                        <th scope="col">"Tags"</th>
                        <th scope="col">"In use"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>

        <section class="card panel">
            <h2>"Add a question"</h2>
            {move || add.value().get().and_then(Result::err).map(|error| view! { <QuestionsError message=error.error /> })}
            {(!may_change).then(|| view! {
                <p class="muted" data-testid="read-only">"Adding, editing and importing questions needs the researcher role."</p>
            })}
            <ActionForm action=add attr:class="questions-form" attr:data-testid="add-question-form">
                <label>"Id "
                    <input name="id" required pattern=ID_PATTERN maxlength="64" value=new_id />
                    " "
                    <span class="muted">"lower-case letters, digits, " <code>"_"</code> " and " <code>"-"</code></span>
                </label>
                <label>"Text " {text_area(new_text)}</label>
                <label>"Category " <input name="category" value=new_category /></label>
                <label>"Tags " <input name="tags" value=new_tags /> " " <span class="muted">"separated by commas or semicolons"</span></label>
                <button type="submit" class="primary" disabled=!may_change title=add_title>"Add question"</button>
            </ActionForm>
        </section>

        <section class="card panel">
            <h2>"Upload CSV or JSONL"</h2>
            <p class="muted">
                "CSV: a header row naming " <code>"id"</code> " and " <code>"text"</code> ", optionally " <code>"category"</code>
                " and " <code>"tags"</code> " (tags " <code>";"</code>
                "-separated). JSON Lines: one question object a line. All or nothing: a file with any bad line imports nothing."
            </p>
            // A plain multipart form, with or without JavaScript: `ActionForm` cannot send a file.
            <form method="post" action=UPLOAD_QUESTIONS_PATH enctype="multipart/form-data" class="questions-form" data-testid="upload-form">
                <label>"File " <input type="file" name="file" required accept=".csv,.jsonl,.ndjson,text/csv,application/x-ndjson" /></label>
                <label>"Add to question set "
                    <input name="set" value=upload_set pattern=ID_PATTERN maxlength="64" />
                    " "
                    <span class="muted">"optional; created if missing"</span>
                </label>
                <button type="submit" class="primary" disabled=!may_change title=refused_title>"Upload"</button>
            </form>
            {upload_error.map(|error| view! { <QuestionsError message=error.error /> })}
            {(!upload_lines.is_empty()).then(|| view! {
                <ul class="upload-errors" data-testid="upload-errors">
                    // One text per line: the quoted value is text, never markup.
                    {upload_lines.into_iter().map(|(line, error)| view! { <li>{format!("Line {line}, {error}")}</li> }).collect_view()}
                </ul>
            })}
        </section>
    }
}

/// One question; Edit and Delete while no job has asked it, for those who may change it.
/// Delete asks first, without scripts: the button that deletes is inside a disclosure.
#[component]
fn QuestionRow(question: QuestionView, may_change: bool, delete: ServerAction<DeleteQuestion>) -> impl IntoView {
    let QuestionView { id, category, text, tags, in_use } = question;
    let row_id = id.clone();
    let actions = (!in_use && may_change).then(|| {
        // Question ids are `[a-z0-9_-]`: nothing in them needs escaping in an address.
        let edit_href = format!("{QUESTIONS_PAGE}?{}={id}#edit", typed::EDIT);
        let label = format!("Delete {id}");
        let id = id.clone();
        view! {
            <a href=edit_href data-testid="edit-question">"Edit"</a>
            " "
            <details class="confirm">
                <summary data-testid="delete-question">"Delete…"</summary>
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=id />
                    <button type="submit" class="danger" data-testid="confirm-delete">{label}</button>
                </ActionForm>
            </details>
        }
    });
    view! {
        <tr data-testid="question-row" data-question-id=row_id>
            <td><code>{id}</code></td>
            <td class="question-text">{text}</td>
            <td>{category.unwrap_or_default()}</td>
            <td>{tags.join(", ")}</td>
            <td>
                {in_use.then(|| view! {
                    <span class="badge">"in use"</span>
                    " "
                    <span class="muted">"asked by a job: it can no longer change"</span>
                })}
            </td>
            <td class="action">{actions}</td>
        </tr>
    }
}

/// A refusal, beside the form it is about.
#[component]
fn QuestionsError(#[prop(into)] message: String) -> impl IntoView {
    view! { <p class="error-banner" role="alert" data-testid="questions-error">{message}</p> }
}

/// The question's text box. Leptos writes a `<textarea>`'s children unescaped (as it does a
/// `<script>`'s), so a text holding `</textarea>` would close the box and be read as markup:
/// the text goes in escaped, as `inner_html`, which the browser decodes back to the text both
/// from the server's page and when the page itself renders it. An empty one has no child at
/// all (Leptos writes an empty text as a space, which a `<textarea>` would keep).
fn text_area(text: String) -> AnyView {
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    view! { <textarea name="text" required rows="3" inner_html=escaped></textarea> }.into_any()
}

/// An import's problems, one per line of the file, quoting the bad value (UI.md §9): the
/// `errors` the upload's answer carries.
fn line_errors(error: &ApiError) -> Vec<(u64, String)> {
    let lines = error.details.get("errors").and_then(|errors| errors.as_array());
    lines
        .map(|lines| lines.iter().map(|e| (e["line"].as_u64().unwrap_or(0), e["error"].as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default()
}

/// The page's HTTP status, when the server renders it: an unknown set is a 404, a question a
/// job has asked cannot be edited (409).
fn set_page_status(status: Option<u16>) {
    #[cfg(feature = "ssr")]
    if let (Some(status), Some(response)) = (status, use_context::<leptos_axum::ResponseOptions>()) {
        response.set_status(axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR));
    }
    #[cfg(not(feature = "ssr"))]
    let _ = status;
}
