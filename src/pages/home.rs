use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::{ErrorBanner, JobsList, NewJobForm};
use crate::serverfns::jobs::load_home;

/// `/`: start a job (prefilled so one click runs one) and see the recent ones.
#[component]
pub fn HomePage() -> impl IntoView {
    let home = Resource::new(|| (), |_| load_home());
    let query = use_query_map();
    let error = move || query.read().get("error");

    view! {
        {move || error().map(|message| view! { <ErrorBanner message /> })}
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match home.await {
                    Ok(data) => view! {
                        <NewJobForm questions=data.questions.clone() />
                        <JobsList jobs=data.jobs />
                    }.into_any(),
                    Err(err) => view! { <ErrorBanner message=crate::components::server_error_text(&err) /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
