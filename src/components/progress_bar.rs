use leptos::prelude::*;

use crate::domain::Progress;

/// A stacked bar, completed / running / retrying / failed / cancelled, with its counts
/// in words for screen readers and for anyone who prefers numbers.
#[component]
pub fn ProgressBar(#[prop(into)] progress: Signal<Progress>, #[prop(into)] label: String) -> impl IntoView {
    let segment = move |part: fn(&Progress) -> i64| {
        move || {
            let p = progress.get();
            format!("width: {:.3}%", p.percent(part(&p)))
        }
    };
    let summary = move || {
        let p = progress.get();
        let mut parts = vec![format!("{}/{} done", p.done(), p.total), format!("{} completed", p.completed)];
        if p.running > 0 {
            parts.push(format!("{} running", p.running));
        }
        if p.retrying > 0 {
            parts.push(format!("{} retrying", p.retrying));
        }
        if p.pending > 0 {
            parts.push(format!("{} pending", p.pending));
        }
        if p.failed > 0 {
            parts.push(format!("{} failed", p.failed));
        }
        if p.cancelled > 0 {
            parts.push(format!("{} cancelled", p.cancelled));
        }
        parts.join(" · ")
    };
    view! {
        <div class="progress">
            <div
                class="bar"
                role="progressbar"
                aria-label=label
                aria-valuemin="0"
                aria-valuemax=move || progress.get().total.to_string()
                aria-valuenow=move || progress.get().done().to_string()
            >
                <span class="seg seg-completed" style=segment(|p| p.completed)></span>
                <span class="seg seg-running" style=segment(|p| p.running)></span>
                <span class="seg seg-retrying" style=segment(|p| p.retrying)></span>
                <span class="seg seg-failed" style=segment(|p| p.failed)></span>
                <span class="seg seg-cancelled" style=segment(|p| p.cancelled)></span>
            </div>
            <p class="progress-text" data-testid="progress-text">{summary}</p>
        </div>
    }
}
