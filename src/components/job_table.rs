use std::collections::HashMap;

use leptos::prelude::*;

use crate::domain::views::JobPageData;
use crate::domain::retry::retryable_count;
use crate::domain::{JobStatus, Progress};

use super::live::LiveJob;
use super::toaster::use_toaster;
use super::{JobHeader, RegionSection};

/// The whole job page body: header, then one section per region. Rendered completely on the
/// server; in the browser it keeps itself up to date (see `live`).
#[component]
pub fn JobTable(initial: JobPageData) -> impl IntoView {
    let question_texts: HashMap<String, String> =
        initial.questions.iter().map(|q| (q.id.clone(), q.text.clone())).collect();
    let question_texts = StoredValue::new(question_texts);
    let regions = initial.job.regions.clone();
    let live = LiveJob::new(initial, use_toaster());
    let data = live.data;

    let job = Memo::new(move |_| data.with(|d| d.job.clone()));
    let progress = Signal::derive(move || {
        data.with(|d| Progress::from_executions(&d.executions))
    });

    let eligible = Signal::derive(move || {
        data.with(|d| retryable_count(&d.executions, d.job.status == JobStatus::Cancelled))
    });

    view! {
        <JobHeader job progress eligible live_state=live.state />
        {regions
            .into_iter()
            .map(|region| {
                let rows = Memo::new(move |_| {
                    data.with(|d| d.executions.iter().filter(|e| e.region == region).cloned().collect::<Vec<_>>())
                });
                let job_cancelled = Signal::derive(move || job.with(|j| j.status == JobStatus::Cancelled));
                view! { <RegionSection region rows question_texts job_id=job.with_untracked(|j| j.id.to_string()) job_cancelled /> }
            })
            .collect_view()}
    }
}
