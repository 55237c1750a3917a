use leptos::prelude::*;

use crate::domain::Progress;

/// Reads one segment's count from the progress.
type Count = fn(&Progress) -> i64;

/// The bar's segments in drawing order, each with its class and its count.
const SEGMENTS: [(&str, Count); 5] = [
    ("seg seg-completed", |p| p.completed),
    ("seg seg-running", |p| p.running),
    ("seg seg-retrying", |p| p.retrying),
    ("seg seg-failed", |p| p.failed),
    ("seg seg-cancelled", |p| p.cancelled),
];

/// A stacked bar, completed / running / retrying / failed / cancelled, with its counts
/// in words for screen readers and for anyone who prefers numbers.
///
/// Drawn as SVG rectangles, not widths in `style` attributes: the Content-Security-Policy
/// (SAFETY.md §2) forbids inline styles, and geometry attributes are not styles.
#[component]
pub fn ProgressBar(#[prop(into)] progress: Signal<Progress>, #[prop(into)] label: String) -> impl IntoView {
    // Where segment `index` starts and how wide it is, in percent of the bar.
    let span = move |index: usize| {
        let p = progress.get();
        let start: f64 = SEGMENTS[..index].iter().map(|(_, part)| p.percent(part(&p))).sum();
        (start, p.percent((SEGMENTS[index].1)(&p)))
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
            <svg
                class="bar"
                role="progressbar"
                aria-label=label
                aria-valuemin="0"
                aria-valuemax=move || progress.get().total.to_string()
                aria-valuenow=move || progress.get().done().to_string()
                viewBox="0 0 100 1"
                preserveAspectRatio="none"
            >
                {(0..SEGMENTS.len())
                    .map(|index| {
                        view! {
                            <rect
                                class=SEGMENTS[index].0
                                x=move || format!("{:.3}", span(index).0)
                                width=move || format!("{:.3}", span(index).1)
                                y="0"
                                height="1"
                            />
                        }
                    })
                    .collect_view()}
            </svg>
            <p class="progress-text" data-testid="progress-text">{summary}</p>
        </div>
    }
}
