use leptos::prelude::*;

use crate::domain::retry::{row_action, RowAction};
use crate::domain::views::ExecutionView;

use super::format::duration;
use super::retry_buttons::RetryButton;
use super::StatusBadge;

/// One execution (question × model in a region). Model output and error texts are untrusted:
/// they only ever reach the DOM as text nodes or attribute values, never as HTML.
#[component]
pub fn ExecutionRow(
    execution: ExecutionView,
    question_text: String,
    /// Whether the job was cancelled: a cancelled job's failures offer no retry.
    #[prop(into)]
    job_cancelled: Signal<bool>,
) -> impl IntoView {
    let status = execution.status;
    let error_code = execution.error_code.clone();
    let error = execution.error.clone().unwrap_or_default();
    let history = format!("/executions/{}", execution.id);
    // An opened answer is a row of its own below this one, the table's full width (UI.md §2).
    let open = RwSignal::new(false);
    let action = {
        let execution = execution.clone();
        let history = history.clone();
        move || match row_action(&execution, job_cancelled.get()) {
            // A link to the attempt history, where the answer is shown at full width: what a
            // browser without the WASM gets. Hydrated, it opens the answer in place instead.
            RowAction::Answer => view! {
                <a
                    href=history.clone()
                    class="answer-toggle"
                    data-testid="answer-toggle"
                    aria-expanded=move || open.get().to_string()
                    on:click=move |ev| {
                        ev.prevent_default();
                        open.update(|open| *open = !*open);
                    }
                >
                    {move || if open.get() { "Hide answer" } else { "Answer" }}
                </a>
            }
            .into_any(),
            RowAction::Retry { label } => view! { <RetryButton execution=execution.clone() label /> }.into_any(),
            RowAction::Retrying => view! { <RetryingButton id=execution.id /> }.into_any(),
            RowAction::RetryingAutomatically { k, n, at } => view! {
                <button type="button" class="retry auto" disabled data-testid="auto-retry">
                    {format!("Retrying automatically ({k}/{n}) ")}
                    <super::countdown::Countdown until=at />
                </button>
            }
            .into_any(),
            RowAction::MaxRetriesReached => view! { <span class="exhausted">"Max retries reached"</span> }.into_any(),
            RowAction::Nothing => view! { <span class="muted">"—"</span> }.into_any(),
        }
    };
    let answer = (status == crate::domain::ExecutionStatus::Completed).then(|| execution.output.clone().unwrap_or_default());
    let answer_row = move || {
        let text = answer.clone().filter(|_| open.get())?;
        let refused = crate::domain::analysis::refusal::is_refusal(Some(&text)) == Some(true);
        Some(view! {
            <tr class="answer-row" data-testid="answer-row">
                <td colspan="7">
                    {refused.then(|| view! { <span class="badge refused" data-testid="refusal">"refused"</span> })}
                    <div class="answer-text full" data-testid="answer-text">{text}</div>
                </td>
            </tr>
        })
    };
    view! {
        <tr
            data-testid="execution-row"
            data-execution-id=execution.id.to_string()
            data-question=execution.question_id.clone()
            data-model=execution.model_id.clone()
            data-sample=execution.sample_index.to_string()
            data-status=status.as_str()
        >
            <td>
                <span class="qid" title=question_text.clone()>{execution.question_id.clone()}</span>
                // Only jobs with several samples have more than sample 0: say which one this is.
                {(execution.sample_index > 0).then(|| view! { <span class="sample" title="Sample (the cell is asked several times)">{format!(" #{}", execution.sample_index + 1)}</span> })}
                <span class="question-text" data-testid="question-text">{question_text}</span>
            </td>
            <td>{execution.model_id.clone()}</td>
            <td>
                <StatusBadge status=status.as_str() />
                {error_code.map(|code| {
                    let reason = crate::domain::failure_reason::failure_reason(&code, Some(&error));
                    view! {
                        <span class="error-code" title=error.clone()>{code}</span>
                        " "
                        <span class="failure-reason" data-testid="failure-reason">{reason}</span>
                    }
                })}
            </td>
            <td class="num">
                <a href=history title="Attempt history">{execution.attempts}</a>
            </td>
            <td class="num">{duration(execution.duration_ms)}</td>
            <td>{execution.provider_id.clone().unwrap_or_else(|| "—".into())}</td>
            <td class="action">{action}</td>
        </tr>
        {answer_row}
    }
}

/// "Retrying…": inert but focusable (`aria-disabled`, not `disabled`), so the keyboard focus
/// of the Retry it replaces lands here rather than on the page (UI.md §3).
#[component]
fn RetryingButton(id: i64) -> impl IntoView {
    let button = NodeRef::<leptos::html::Button>::new();
    if let Some(live) = use_context::<super::live::LiveJob>() {
        button.on_load(move |button| {
            if live.wants_focus(id) {
                // Loaded is not yet in the document: focus once it is, and only if the focus
                // was dropped with the old button (never taken from where the user put it).
                request_animation_frame(move || {
                    let dropped = document().active_element().is_none_or(|active| document().body().is_some_and(|body| active == *body.as_ref()));
                    if dropped {
                        let _ = button.focus();
                    }
                });
            }
        });
    }
    view! { <button node_ref=button type="button" class="retry" aria-disabled="true" data-testid="retrying">"Retrying…"</button> }
}
