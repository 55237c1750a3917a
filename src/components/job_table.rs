use std::collections::HashMap;

use leptos::prelude::*;

use crate::domain::views::JobPageData;
use crate::domain::{Progress, Region};

use super::{JobHeader, RegionSection};

/// The whole job page body: header, then one section per region. Rendered completely on the
/// server; in the browser it keeps itself up to date (see `live`).
#[component]
pub fn JobTable(initial: JobPageData) -> impl IntoView {
    let question_texts: HashMap<String, String> =
        initial.questions.iter().map(|q| (q.id.clone(), q.text.clone())).collect();
    let question_texts = StoredValue::new(question_texts);
    let regions = initial.job.regions.clone();
    let data = RwSignal::new(initial);
    super::live::keep_fresh(data);

    let job = Memo::new(move |_| data.with(|d| d.job.clone()));
    let progress = Signal::derive(move || {
        data.with(|d| Progress::from_statuses(d.executions.iter().map(|e| e.status)))
    });

    view! {
        <JobHeader job progress />
        {regions
            .into_iter()
            .map(|region_name| {
                let region = Region::parse(&region_name).unwrap_or(Region::UsEast);
                let rows = Memo::new({
                    let region_name = region_name.clone();
                    move |_| {
                        data.with(|d| {
                            d.executions.iter().filter(|e| e.region == region_name).cloned().collect::<Vec<_>>()
                        })
                    }
                });
                view! { <RegionSection region rows question_texts /> }
            })
            .collect_view()}
    }
}
