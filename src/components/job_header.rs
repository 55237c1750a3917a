use leptos::prelude::*;

use crate::domain::views::JobView;
use crate::domain::Progress;

use crate::serverfns::jobs::CancelJob;

use super::format::{job_status_line, plural, title_text};
use super::live::{LiveJob, LiveState};
use super::retry_buttons::RetryAllButton;
use super::toaster::ToastKind;
use super::visitor;
use super::{ProgressBar, StatusBadge};
use crate::domain::Role;

#[component]
pub fn JobHeader(
    #[prop(into)] job: Signal<JobView>,
    #[prop(into)] progress: Signal<Progress>,
    /// Failed rows with retries left.
    #[prop(into)]
    eligible: Signal<usize>,
    #[prop(into)] live_state: Signal<LiveState>,
    /// The page's filter, for the exports (`status=…&region=…&model=…`).
    #[prop(into)]
    export_query: Signal<String>,
) -> impl IntoView {
    let id = move || job.with(|j| j.id.to_string());
    let shape = move || {
        job.with(|j| {
            format!(
                "{} × {} × {} × {}",
                plural(j.questions.len(), "question", "questions"),
                plural(j.models.len(), "model", "models"),
                plural(j.regions.len(), "region", "regions"),
                plural(j.samples.max(1) as usize, "sample", "samples"),
            )
        })
    };
    // The generation parameters every request carried (RESEARCH.md §2).
    let parameters = move || {
        job.with(|j| {
            let mut said = Vec::new();
            if let Some(set) = &j.question_set {
                said.push(format!("question set {set}"));
            }
            if let Some(t) = j.temperature {
                said.push(format!("temperature {t}"));
            }
            if let Some(n) = j.max_tokens {
                said.push(format!("max tokens {n}"));
            }
            if let Some(seed) = j.seed {
                said.push(format!("seed {seed}"));
            }
            said.join(" · ")
        })
    };
    let status = move || job.with(|j| j.status);
    let status_line = move || job_status_line(status(), &progress.get());
    let cancel = ServerAction::<CancelJob>::new();
    let allowed = visitor::may(Role::Researcher);
    if let Some(live) = use_context::<LiveJob>() {
        Effect::new(move |_| {
            if cancel.version().get() == 0 {
                return;
            }
            match cancel.value().get() {
                Some(Ok(_)) => live.toaster().push(ToastKind::Info, "Job cancelled"),
                Some(Err(err)) => live.toaster().push(ToastKind::Error, err.error),
                None => return,
            }
            leptos::task::spawn_local(async move { live.refresh().await });
        });
    }
    let cancelling = cancel.pending();
    let cancel_question = move || {
        let p = progress.get();
        let mut question =
            format!("Cancel {}? They cannot be retried.", plural((p.pending + p.retrying) as usize, "pending execution", "pending executions"));
        if p.running > 0 {
            question.push_str(&format!(" {} already running will finish and be kept.", plural(p.running as usize, "execution", "executions")));
        }
        question
    };

    view! {
        <section class="panel job-header">
            <div class="job-title">
                // A named job is called by its name; its id stays beside it, for scripts (UI.md §7).
                {move || match job.with(|j| j.name.clone()) {
                    Some(name) => view! {
                        <h1><span data-testid="job-name">{name}</span>" " <code class="job-id" data-testid="job-id">{id}</code></h1>
                    }
                    .into_any(),
                    None => view! { <h1>"Job " <code data-testid="job-id">{id}</code></h1> }.into_any(),
                }}
                <leptos_meta::Title text=move || job.with(|j| title_text(format!("{} · Beacon", j.name.clone().unwrap_or_else(|| format!("Job {}", j.id)))))/>
                <StatusBadge
                    status=Signal::derive(move || status().as_str())
                    text=Signal::derive(status_line)
                    testid="job-status"
                />
            </div>
            <p class="muted">
                <span data-testid="job-shape">{shape}</span>
                {move || job.with(|j| j.created_by.clone()).map(|by| view! { <span data-testid="created-by">" · started by "{by}</span> })}
                {move || {
                    let n = job.with(|j| j.auto_retries);
                    (n > 0).then(|| view! { <span data-testid="auto-retries">{format!(" · up to {}", plural(n.max(0) as usize, "automatic retry", "automatic retries"))}</span> })
                }}
                " "
                <span
                    class=move || format!("live-state live-{:?}", live_state.get()).to_lowercase()
                    data-testid="live-state"
                    title="How this page gets its updates"
                >
                    {move || live_state.get().label()}
                </span>
            </p>
            <p class="muted" data-testid="job-parameters">{parameters}</p>
            <super::JobNav job_id=Signal::derive(id) current=super::JobSection::Executions export_query />
            <ProgressBar progress label="Job progress" />
            <div class="job-actions">
                <RetryAllButton
                    job_id=job.with_untracked(|j| j.id.to_string())
                    label=Signal::derive(move || format!("Retry all failed ({})", eligible.get()))
                    eligible
                />
                // Cancelling cannot be undone: it asks first, with the job's counts, the same
                // with and without JavaScript (a disclosure, not a script dialog).
                <Show
                    when=move || allowed.get() && !status().is_finished()
                    fallback=move || view! {
                        <button
                            type="button"
                            class="danger"
                            disabled
                            title=move || (!allowed.get()).then(|| visitor::needs(Role::Researcher))
                        >
                            "Cancel job"
                        </button>
                    }
                >
                <details class="cancel-confirm" data-testid="cancel-confirm">
                    <summary class="button danger" data-testid="cancel-job">"Cancel job"</summary>
                    <div class="cancel-question">
                        <p data-testid="cancel-question">{cancel_question}</p>
                        <ActionForm action=cancel attr:class="inline">
                            <input type="hidden" name="id" value=id />
                            <button
                                type="submit"
                                class="danger"
                                data-testid="cancel-confirmed"
                                disabled=move || cancelling.get() || status().is_finished() || !allowed.get()
                            >
                                "Yes, cancel the job"
                            </button>
                        </ActionForm>
                    </div>
                </details>
                </Show>
            </div>
        </section>
    }
}
