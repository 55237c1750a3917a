use leptos::prelude::*;

use crate::components::{loaded, FormOutcome, JobsList, NewJobForm};
use crate::serverfns::jobs::load_home;

/// `/`: the recent jobs first (UI.md §7), then the form that starts one (prefilled so one click
/// runs one).
#[component]
pub fn HomePage() -> impl IntoView {
    let home = Resource::new(|| (), |_| load_home());
    view! {
        <FormOutcome />
        {loaded(home, |data| view! {
            <JobsList jobs=data.jobs.clone() />
            <div id="new-job">
                <NewJobForm home=data />
            </div>
        })}
    }
}
