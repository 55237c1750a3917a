use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::{loaded, FormOutcome, JobTable};
use crate::serverfns::jobs::load_job_page;

/// `/jobs/:id`: the live progress table of one job.
#[component]
pub fn JobPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let page = Resource::new(id, load_job_page);
    view! {
        <FormOutcome />
        {loaded(page, |data| view! { <JobTable initial=data /> })}
    }
}
