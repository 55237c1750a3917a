use leptos::prelude::*;

use crate::components::{loaded, FormOutcome, JobsList, NewJobForm};
use crate::serverfns::jobs::load_home;

/// `/`: start a job (prefilled so one click runs one) and see the recent ones.
#[component]
pub fn HomePage() -> impl IntoView {
    let home = Resource::new(|| (), |_| load_home());
    view! {
        <FormOutcome />
        {loaded(home, |data| view! {
            <NewJobForm home=data.clone() />
            <JobsList jobs=data.jobs />
        })}
    }
}
