use std::collections::HashMap;

use leptos::prelude::*;

use crate::domain::views::JobPageData;
use crate::domain::JobStatus;

use super::job_filters::JobFilters;
use super::live::LiveJob;
use super::retry_buttons::RetryAllButton;
use super::toaster::use_toaster;
use super::{JobHeader, RegionSection};

/// The whole job page body: the header with the whole job's status, progress and counts, the
/// filter and page links, then this page's rows (at most 200) in one section per region.
/// Rendered completely on the server; in the browser it keeps itself up to date (see `live`).
#[component]
pub fn JobTable(initial: JobPageData) -> impl IntoView {
    let question_texts: HashMap<String, String> = initial.questions.iter().map(|q| (q.id.clone(), q.text.clone())).collect();
    let question_texts = StoredValue::new(question_texts);
    let regions = initial.job.regions.clone();
    let labels: HashMap<_, _> = initial.region_labels.iter().cloned().collect();
    // With every row on the page, a region's own bar and count are exact; otherwise the
    // header's whole-job numbers are the ones to trust.
    let whole_job = initial.paging.pages == 1 && initial.paging.filter.is_empty();
    let initial_model = initial.paging.filter.model.clone();
    let model_whole = initial.paging.pages == 1 && initial.paging.filter.statuses.is_empty() && initial.paging.filter.region.is_none();
    let paging = initial.paging.clone();
    let bottom_paging = initial.paging.clone();
    let export_query = super::job_filters::href("", &initial.paging.filter, 1).trim_start_matches('?').to_string();
    let models = initial.job.models.clone();
    let warmups = initial.warmups.clone();
    let live = LiveJob::new(initial, use_toaster());
    let data = live.data;

    let job = Memo::new(move |_| data.with(|d| d.job.clone()));
    let progress = Signal::derive(move || job.with(|j| j.progress));
    let job_cancelled = Signal::derive(move || job.with(|j| j.status == JobStatus::Cancelled));
    let eligible = Signal::derive(move || job.with(|j| j.progress.retryable(j.status == JobStatus::Cancelled).max(0) as usize));
    let job_id = job.with_untracked(|j| j.id.to_string());
    let empty = Signal::derive(move || data.with(|d| d.executions.is_empty()));
    // Filtered to one model: its failures are one button away (UI.md §3: job, region or model).
    let model_batch = initial_model.map(|model| {
        let wanted = model.clone();
        let counted = model_whole;
        let eligible = Signal::derive(move || {
            if !counted {
                // Not all of the model's rows are on this page: the server counts them.
                return usize::from(!job_cancelled.get());
            }
            let cancelled = job_cancelled.get();
            data.with(|d| d.executions.iter().filter(|e| e.model_id == wanted && e.status.is_failure() && e.retries_left() > 0 && !cancelled).count())
        });
        let label = {
            let model = model.clone();
            Signal::derive(move || if counted { format!("Retry failed of {model} ({})", eligible.get()) } else { format!("Retry failed of {model}") })
        };
        view! {
            <div class="panel model-batch" data-testid="model-batch">
                <RetryAllButton job_id=job_id.clone() model=model label eligible />
            </div>
        }
    });

    view! {
        <JobHeader job progress eligible live_state=live.state export_query />
        <super::warmups::WarmupPanel job_id=job_id.clone() initial=warmups />
        <JobFilters job_id=job_id.clone() paging regions=regions.clone() models />
        {model_batch}
        <Show when=move || empty.get()>
            <p class="panel muted" data-testid="no-rows">"No executions match these filters."</p>
        </Show>
        {regions
            .into_iter()
            .map(|region| {
                let label = labels.get(&region).cloned().unwrap_or_else(|| region.to_string());
                let wanted = region.clone();
                let rows = Memo::new(move |_| {
                    data.with(|d| d.executions.iter().filter(|e| e.region == wanted).cloned().collect::<Vec<_>>())
                });
                let shown = Signal::derive(move || rows.with(|rows| !rows.is_empty()));
                let job_id = job_id.clone();
                view! {
                    <Show when=move || shown.get()>
                        <RegionSection region=region.clone() label=label.clone() rows question_texts job_id=job_id.clone() job_cancelled whole_job />
                    </Show>
                }
            })
            .collect_view()}
        <super::job_filters::Pager job_id=job_id.clone() paging=bottom_paging testid="pager-bottom" />
    }
}
