use leptos::prelude::*;

use crate::components::{FormOutcome, JobsList, LoadError, NewJobForm};
use crate::serverfns::jobs::load_home;

/// `/`: start a job (prefilled so one click runs one) and see the recent ones.
#[component]
pub fn HomePage() -> impl IntoView {
    let home = Resource::new(|| (), |_| load_home());

    view! {
        <FormOutcome />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match home.await {
                    Ok(data) => view! {
                        <NewJobForm questions=data.questions.clone() />
                        <JobsList jobs=data.jobs />
                    }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
