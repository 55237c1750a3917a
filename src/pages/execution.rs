use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::{loaded, FormOutcome, PlainRetryForm, StatusBadge, TableHead};
use crate::domain::retry::{row_action, RowAction};
use crate::domain::views::ExecutionHistory;
use crate::serverfns::retries::load_execution_history;

/// `/executions/:id`: one execution's attempt history, the original error at a glance.
#[component]
pub fn ExecutionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let history = Resource::new(id, load_execution_history);
    view! {
        <FormOutcome />
        {loaded(history, |history| view! { <History history /> })}
    }
}

#[component]
fn History(history: ExecutionHistory) -> impl IntoView {
    let e = history.execution;
    let back = format!("/jobs/{}", e.job_id);
    let job_id = e.job_id.to_string();
    let original = e.original_error_code.clone().map(|code| {
        let message = e.original_error.clone().unwrap_or_default();
        view! {
            <p class="original-error" data-testid="original-error">
                <strong>"Original error: "</strong>
                <code>{code}</code>
                " — "
                {message}
            </p>
        }
    });
    // The same words and rules as the row's button (UI.md §7); a plain form, so it works the
    // same with and without JavaScript and comes back here with the outcome.
    let action = match row_action(&e, history.job_cancelled) {
        RowAction::Retry { label } => Some(
            view! {
                <PlainRetryForm id=e.id region=e.region.to_string() question_index=e.question_index label testid="history-retry" />
            }
            .into_any(),
        ),
        RowAction::MaxRetriesReached => Some(view! { <span class="exhausted">"Max retries reached"</span> }.into_any()),
        RowAction::Retrying | RowAction::RetryingAutomatically { .. } => Some(view! { <span class="muted">"Retrying…"</span> }.into_any()),
        RowAction::Answer | RowAction::Nothing => None,
    };
    let answer = e.output.clone().map(|output| {
        // Model output is untrusted text: rendered as text, never as HTML.
        view! { <div class="answer-text full" data-testid="history-answer">{output}</div> }
    });
    // The request exactly as the last attempt sent it.
    let request = history.attempts.last().map(|a| {
        let text = serde_json::to_string_pretty(&a.request).unwrap_or_default();
        view! {
            <details class="request" data-testid="history-request">
                <summary>{format!("The request as attempt {} sent it", a.number)}</summary>
                <pre>{text}</pre>
            </details>
        }
    });
    let sample = (history.samples > 1).then(|| format!(" · sample #{}", e.sample_index + 1));
    view! {
        <section class="panel">
            <p><a href=back>"← Job " {job_id}</a></p>
            <h1>
                <code>{e.question_id.clone()}</code>
                " · "
                {e.model_id.clone()}
                " · "
                {e.region.to_string()}
                {sample}
            </h1>
            <p class="muted">{history.question_text}</p>
            <p>
                <StatusBadge status=e.status.as_str() />
                {format!(
                    " · {} of {} used · {} left ",
                    crate::components::format_plural(e.retry_count.max(0) as usize, "retry", "retries"),
                    e.max_retries,
                    (e.max_retries - e.retry_count).max(0)
                )}
                {action}
            </p>
            {original}
            {answer}
            <h2>"Attempts"</h2>
            <table class="attempts">
                <TableHead columns=&["#", "Trigger", "Started", "Duration", "Outcome", "Error code", "Message", "Provider", "Answer"] />
                <tbody>
                    {history
                        .attempts
                        .into_iter()
                        .map(|a| {
                            view! {
                                <tr data-testid="attempt-row" data-status=a.status.as_str()>
                                    <td class="num">{a.number}</td>
                                    <td>
                                        {a.trigger.as_str()}
                                        {a.requested_by.clone().map(|by| view! { <span class="muted by" data-testid="requested-by">" by "{by}</span> })}
                                        {a.backoff_ms.map(|ms| view! { <span class="muted by" data-testid="backoff">{format!(" after waiting {}", crate::components::format_duration(Some(ms)))}</span> })}
                                    </td>
                                    <td>{a.started_at.map(crate::domain::Timestamp::short).unwrap_or_else(|| format!("queued {}", a.queued_at.short()))}</td>
                                    <td class="num">{crate::components::format_duration(a.duration_ms)}</td>
                                    <td><StatusBadge status=a.status.as_str() /></td>
                                    <td><code>{a.error_code.unwrap_or_default()}</code></td>
                                    <td class="message">{a.error.unwrap_or_default()}</td>
                                    <td class="provenance" data-testid="provenance">
                                        {a.provider_id.clone().unwrap_or_else(|| "—".into())}
                                        {a.provider_kind.clone().map(|k| format!(" ({k})"))}
                                        {a.served_model.clone().map(|m| format!(" · {m}"))}
                                        {a.finish_reason.clone().map(|r| format!(" · {r}"))}
                                        {a.usage.clone().map(|u| format!(" · {}+{} tokens", u.prompt_tokens.unwrap_or(0), u.completion_tokens.unwrap_or(0)))}
                                        {a.request_hash.clone().map(|h| view! { <code title=format!("SHA-256 of the request body sent: {h}")>{format!(" #{}", &h[..12.min(h.len())])}</code> })}
                                    </td>
                                    // Model output is untrusted text: rendered as text, never as HTML.
                                    <td class="message answer">
                                        {a.late.then(|| view! { <span class="badge late" title="Arrived after the execution was cancelled or taken over; it did not change the execution">"late"</span>" " })}
                                        {a.output.unwrap_or_default()}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            {request}
        </section>
    }
}
