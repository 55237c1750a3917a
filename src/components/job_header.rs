use leptos::prelude::*;

use crate::domain::views::JobView;
use crate::domain::Progress;

use super::format::{job_status_line, plural};
use super::live::LiveState;
use super::retry_buttons::RetryAllButton;
use super::ProgressBar;

#[component]
pub fn JobHeader(
    #[prop(into)] job: Signal<JobView>,
    #[prop(into)] progress: Signal<Progress>,
    /// Failed rows with retries left.
    #[prop(into)]
    eligible: Signal<usize>,
    #[prop(into)] live_state: Signal<LiveState>,
) -> impl IntoView {
    let id = move || job.with(|j| j.id.clone());
    let shape = move || {
        job.with(|j| {
            format!(
                "{} × {} × {}",
                plural(j.questions.len(), "question", "questions"),
                plural(j.models.len(), "model", "models"),
                plural(j.regions.len(), "region", "regions"),
            )
        })
    };
    let status = move || job.with(|j| j.status);
    let status_line = move || job_status_line(status(), &progress.get());
    let cancel_action = move || format!("/jobs/{}/cancel", id());

    view! {
        <section class="panel job-header">
            <div class="job-title">
                <h1>"Job " <code data-testid="job-id">{id}</code></h1>
                <span class=move || format!("badge badge-{}", status()) data-testid="job-status">
                    {status_line}
                </span>
            </div>
            <p class="muted">
                <span data-testid="job-shape">{shape}</span>
                <span
                    class=move || format!("live-state live-{:?}", live_state.get()).to_lowercase()
                    data-testid="live-state"
                    title="How this page gets its updates"
                >
                    {move || live_state.get().label()}
                </span>
            </p>
            <ProgressBar progress label="Job progress" />
            <div class="job-actions">
                <RetryAllButton
                    job_id=job.with_untracked(|j| j.id.clone())
                    label=Signal::derive(move || format!("Retry all failed ({})", eligible.get()))
                    eligible
                />
                <form method="post" action=cancel_action>
                    <button type="submit" class="danger" disabled=move || status().is_finished()>
                        "Cancel job"
                    </button>
                </form>
            </div>
        </section>
    }
}
