use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::{loaded, FormOutcome, JobTable};
use crate::serverfns::jobs::JobPageQuery;

/// `/jobs/:id?status=&region=&model=&page=`: the live progress table of one job, a page of at
/// most 500 rows at a time.
#[component]
pub fn JobPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let wanted = move || {
        let query = query.read();
        let id = params.read().get("id").unwrap_or_default();
        (id, JobPageQuery { page: query.get("page"), status: query.get("status"), region: query.get("region"), model: query.get("model") })
    };
    let page = Resource::new(wanted, |(id, query)| query.load(id));
    view! {
        <FormOutcome />
        {loaded(page, |data| view! { <JobTable initial=data /> })}
    }
}
