use leptos::prelude::*;

use crate::domain::views::{ExecutionFilter, PageInfo};
use crate::domain::{ExecutionStatus, Region};

/// The job page's filter and page links: plain links (`?status=`, `?region=`, `?model=`,
/// `?page=`), so they work without JavaScript, and with it navigate without a reload.
#[component]
pub fn JobFilters(job_id: String, paging: PageInfo, regions: Vec<Region>, models: Vec<String>) -> impl IntoView {
    let base = format!("/jobs/{job_id}");
    let current = paging.filter.clone();
    let link = {
        let base = base.clone();
        move |filter: &ExecutionFilter, page: i64| href(&base, filter, page)
    };
    // One choice per group; choosing one keeps the other groups' choices.
    let statuses: [(&str, Vec<ExecutionStatus>); 5] = [
        ("All", vec![]),
        ("Failed", ExecutionStatus::FAILURES.to_vec()),
        ("Active", ExecutionStatus::ACTIVE.to_vec()),
        ("Completed", vec![ExecutionStatus::Completed]),
        ("Cancelled", vec![ExecutionStatus::Cancelled]),
    ];
    let status_links = statuses
        .into_iter()
        .map(|(label, statuses)| {
            let filter = ExecutionFilter { statuses: statuses.clone(), ..current.clone() };
            chip(label.to_string(), link(&filter, 1), current.statuses == statuses)
        })
        .collect::<Vec<_>>();
    let region_links = std::iter::once(None)
        .chain(regions.into_iter().map(Some))
        .map(|region| {
            let filter = ExecutionFilter { region: region.clone(), ..current.clone() };
            let label = region.as_ref().map_or("All".to_string(), |r| r.router_region().to_string());
            chip(label, link(&filter, 1), current.region == region)
        })
        .collect::<Vec<_>>();
    let model_links = std::iter::once(None)
        .chain(models.into_iter().map(Some))
        .map(|model| {
            let filter = ExecutionFilter { model: model.clone(), ..current.clone() };
            let label = model.clone().unwrap_or_else(|| "All".to_string());
            chip(label, link(&filter, 1), current.model == model)
        })
        .collect::<Vec<_>>();
    view! {
        <nav class="panel filters" id="executions" tabindex="-1" aria-label="Filter executions" data-testid="filters">
            {group("Status", status_links)}
            {group("Region", region_links)}
            {group("Model", model_links)}
            <span class="muted" data-testid="matching">{format!("{} matching", paging.matching)}</span>
        </nav>
        <Pager job_id paging testid="pager" />
    }
}

/// "Rows 1–200 of 216 · Next →": shown above and below the table when the rows take more
/// than one page.
#[component]
pub fn Pager(job_id: String, paging: PageInfo, testid: &'static str) -> impl IntoView {
    let base = format!("/jobs/{job_id}");
    (paging.pages > 1).then(|| {
        let previous = (paging.page > 1).then(|| href(&base, &paging.filter, paging.page - 1));
        let next = (paging.page < paging.pages).then(|| href(&base, &paging.filter, paging.page + 1));
        view! {
            <nav class="pager" aria-label="Pages" data-testid=testid>
                {previous.map(|href| view! { <a class="chip" href=href rel="prev">"← Previous"</a> })}
                <span data-testid="page-position">
                    {format!("Rows {}–{} of {} · page {} of {}",
                        (paging.page - 1) * paging.per_page + 1,
                        (paging.page * paging.per_page).min(paging.matching),
                        paging.matching, paging.page, paging.pages)}
                </span>
                {next.map(|href| view! { <a class="chip" href=href rel="next">"Next →"</a> })}
            </nav>
        }
    })
}

/// One labelled group of links, read (and copied) as "Status: All · Failed · …".
fn group(label: &'static str, links: Vec<AnyView>) -> impl IntoView {
    let count = links.len();
    let links = links
        .into_iter()
        .enumerate()
        .map(|(i, link)| view! { {link} {(i + 1 < count).then(|| view! { <span class="sep" aria-hidden="true">" · "</span> })} })
        .collect_view();
    view! {
        <span class="filter-group" role="group" aria-label=label>
            <span class="filter-label">{label}": "</span>
            {links}
        </span>
    }
}

fn chip(label: String, href: String, selected: bool) -> AnyView {
    view! {
        <a class=if selected { "chip selected" } else { "chip" } href=href aria-current=selected.then_some("true")>
            {label}
        </a>
    }
    .into_any()
}

/// `/jobs/ID?status=…&page=N`: the filter's words, and the page when not the first.
pub fn href(base: &str, filter: &ExecutionFilter, page: i64) -> String {
    let mut pairs = filter.query();
    if page > 1 {
        pairs.push(("page", page.to_string()));
    }
    if pairs.is_empty() {
        return base.to_string();
    }
    let query: Vec<String> = pairs
        .into_iter()
        .map(|(key, value)| format!("{key}={}", value.replace('%', "%25").replace('&', "%26").replace('#', "%23").replace(' ', "%20")))
        .collect();
    format!("{base}?{}", query.join("&"))
}
