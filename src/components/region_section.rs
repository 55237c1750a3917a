use std::collections::HashMap;

use leptos::prelude::*;

use crate::domain::retry::retryable_count;
use crate::domain::views::ExecutionView;
use crate::domain::{Progress, Region};

use super::retry_buttons::RetryAllButton;
use super::{ExecutionRow, ProgressBar, TableHead};

/// One region's executions on this page: a collapsible section (a native `<details>`, so it
/// folds without JavaScript) with a row per question × model, and, when the page holds the
/// whole job (`whole_job`), the region's own progress bar and retry count.
#[component]
pub fn RegionSection(
    region: Region,
    /// The region's label from the configuration.
    label: String,
    #[prop(into)] rows: Signal<Vec<ExecutionView>>,
    question_texts: StoredValue<HashMap<String, String>>,
    job_id: String,
    #[prop(into)] job_cancelled: Signal<bool>,
    whole_job: bool,
) -> impl IntoView {
    let eligible = Signal::derive(move || {
        let cancelled = job_cancelled.get();
        rows.with(|rows| retryable_count(rows, cancelled))
    });
    let progress = Signal::derive(move || rows.with(|rows| Progress::from_executions(rows)));
    let heading = format!("{label} ({})", region.router_region());
    view! {
        <details class="panel region" open data-testid=format!("region-{}", region.router_region())>
            <summary>
                <h2>{heading.clone()}</h2>
            </summary>
            <div class="region-bar">
                {whole_job.then(|| view! { <ProgressBar progress label=format!("Progress in {heading}") /> })}
                <RetryAllButton
                    job_id
                    region=region.router_region().to_string()
                    label=Signal::derive(move || {
                        if whole_job {
                            format!("Retry failed in this region ({})", eligible.get())
                        } else {
                            "Retry failed in this region".to_string()
                        }
                    })
                    // Paged, the region's failures are not all here: the server counts them.
                    eligible=Signal::derive(move || if whole_job { eligible.get() } else { usize::from(!job_cancelled.get()) })
                />
            </div>
            <table class="executions">
                <TableHead columns=&["Question", "Model", "Status", "Attempts", "Duration", "Provider", "Action"] />
                <tbody>
                    // Keyed by the row's version: a row is re-rendered only when it changed. The
                    // job's cancellation reaches every row through its own signal.
                    <For
                        each=move || rows.get()
                        key=|e| (e.id, e.updated_at, e.status, e.retry_count)
                        children=move |execution| {
                            let text = question_texts.with_value(|t| t.get(&execution.question_id).cloned()).unwrap_or_default();
                            view! { <ExecutionRow execution question_text=text job_cancelled /> }
                        }
                    />
                </tbody>
            </table>
        </details>
    }
}
