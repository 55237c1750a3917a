use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::{ErrorBanner, JobTable, NoticeBanner};
use crate::serverfns::jobs::load_job_page;

/// `/jobs/:id`: the live progress table of one job.
#[component]
pub fn JobPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let page = Resource::new(id, load_job_page);
    let query = use_query_map();
    let error = move || query.read().get("error");
    let notice = move || query.read().get("notice");

    view! {
        {move || error().map(|message| view! { <ErrorBanner message /> })}
        {move || notice().map(|message| view! { <NoticeBanner message /> })}
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(data) => view! { <JobTable initial=data /> }.into_any(),
                    Err(err) => {
                        #[cfg(feature = "ssr")]
                        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                            response.set_status(axum::http::StatusCode::NOT_FOUND);
                        }
                        view! { <ErrorBanner message=crate::components::server_error_text(&err) /> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
