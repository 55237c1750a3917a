//! The retry controls, on Leptos' `ActionForm`: a real form posting to the server function,
//! so it works before (or without) the WASM, where the server sends the browser back to the
//! job page with the outcome shown; once hydrated, the same form calls the server function,
//! `pending()` drives "Retrying…", and the answer updates the row and shows a toast.

use leptos::prelude::*;

use crate::domain::retry::{accepted_summary, batch_summary};
use crate::domain::views::ExecutionView;
use crate::serverfns::retries::{RetryAllFailed, RetryExecution};

use super::live::LiveJob;
use super::toaster::ToastKind;
use super::visitor;
use crate::domain::Role;

/// Calls `done` with each answer the action gets after a submit made on this page (not with
/// an error Leptos read from the URL after a plain form post: the page shows that one).
fn on_answer<S, T>(action: ServerAction<S>, done: impl Fn(LiveJob, Result<T, crate::domain::ApiError>) + 'static)
where
    S: leptos::server_fn::ServerFn<Output = T, Error = crate::domain::ApiError> + Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    let Some(live) = use_context::<LiveJob>() else { return };
    live.in_page(|| {
        Effect::new(move |_| {
            if action.version().get() == 0 {
                return;
            }
            if let Some(answer) = action.value().get() {
                done(live, answer);
            }
        })
    });
}

/// A row's action, owned by the page so that its answer is still handled after the row
/// re-rendered (the stream can show "retrying" before the server function has answered).
fn page_action<S>() -> ServerAction<S>
where
    S: leptos::server_fn::ServerFn<Error = crate::domain::ApiError> + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
{
    match use_context::<LiveJob>() {
        Some(live) => live.in_page(ServerAction::<S>::new),
        None => ServerAction::<S>::new(),
    }
}

/// "Retry" / "Retry (k/N)" for one failed row.
#[component]
pub fn RetryButton(execution: ExecutionView, label: String) -> impl IntoView {
    let action = page_action::<RetryExecution>();
    on_answer(action, |live, answer| match answer {
        Ok(accepted) => {
            live.apply_accepted(&accepted);
            live.toaster().push(ToastKind::Info, accepted_summary(&accepted));
        }
        Err(err) => {
            live.toaster().push(ToastKind::Error, err.error);
            leptos::task::spawn_local(async move { live.refresh().await });
        }
    });
    let accessible = format!("{label}: {} · {} · {}", execution.question_id, execution.model_id, execution.region);
    let live = use_context::<LiveJob>();
    let execution_id = execution.id;
    let pending = action.pending();
    let allowed = visitor::may(Role::Researcher);
    view! {
        <ActionForm action attr:class="inline">
            <input type="hidden" name="id" value=execution.id.to_string() />
            <input type="hidden" name="region" value=execution.region.to_string() />
            <input type="hidden" name="question_index" value=execution.question_index.to_string() />
            <button
                type="submit"
                class="retry"
                on:click=move |_| {
                    if let Some(live) = live {
                        live.keep_focus_on(execution_id);
                    }
                }
                aria-label=move || (!pending.get()).then(|| accessible.clone())
                title=move || (!allowed.get()).then(|| visitor::needs(Role::Researcher))
                disabled=move || pending.get() || !allowed.get()
            >
                {move || if pending.get() { "Retrying…".to_string() } else { label.clone() }}
            </button>
        </ActionForm>
    }
}

/// "Retry all failed (N)" in the header (no region or model), "Retry failed in this region",
/// or the model's when the page is filtered to one model.
#[component]
pub fn RetryAllButton(
    job_id: String,
    #[prop(optional)] region: Option<String>,
    #[prop(optional)] model: Option<String>,
    #[prop(into)] label: Signal<String>,
    #[prop(into)] eligible: Signal<usize>,
) -> impl IntoView {
    let action = page_action::<RetryAllFailed>();
    on_answer(action, |live, answer| {
        match answer {
            Ok(result) => {
                live.start_batch(&result.queued);
                let kind = if result.queued.is_empty() { ToastKind::Error } else { ToastKind::Info };
                live.toaster().push(kind, batch_summary(&result));
            }
            Err(err) => live.toaster().push(ToastKind::Error, err.error),
        }
        leptos::task::spawn_local(async move { live.refresh().await });
    });
    let pending = action.pending();
    let allowed = visitor::may(Role::Researcher);
    view! {
        <ActionForm action attr:class="inline">
            <input type="hidden" name="job_id" value=job_id />
            {region.map(|region| view! { <input type="hidden" name="region" value=region /> })}
            {model.map(|model| view! { <input type="hidden" name="model_id" value=model /> })}
            <button
                type="submit"
                class="retry-all"
                title=move || (!allowed.get()).then(|| visitor::needs(Role::Researcher))
                disabled=move || pending.get() || eligible.get() == 0 || !allowed.get()
            >
                {move || label.get()}
            </button>
        </ActionForm>
    }
}

/// A Retry as a plain form (the attempt history page, a compare cell): the same words and rules
/// as the row's button; it works the same with and without JavaScript, and the server sends the
/// browser back to the page it was on with the outcome.
#[component]
pub fn PlainRetryForm(id: i64, region: String, question_index: i64, label: String, testid: &'static str) -> impl IntoView {
    let path = <RetryExecution as leptos::server_fn::ServerFn>::PATH;
    let allowed = visitor::may(Role::Researcher);
    view! {
        <form method="post" action=path class="inline">
            <input type="hidden" name="id" value=id.to_string() />
            <input type="hidden" name="region" value=region />
            <input type="hidden" name="question_index" value=question_index.to_string() />
            <button
                type="submit"
                class="retry"
                data-testid=testid
                title=move || (!allowed.get()).then(|| visitor::needs(Role::Researcher))
                disabled=move || !allowed.get()
            >
                {label}
            </button>
        </form>
    }
}
