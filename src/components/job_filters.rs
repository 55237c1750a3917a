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
        .collect_view();
    let region_links = std::iter::once(None)
        .chain(regions.into_iter().map(Some))
        .map(|region| {
            let filter = ExecutionFilter { region: region.clone(), ..current.clone() };
            let label = region.as_ref().map_or("All regions".to_string(), |r| r.router_region().to_string());
            chip(label, link(&filter, 1), current.region == region)
        })
        .collect_view();
    let model_links = std::iter::once(None)
        .chain(models.into_iter().map(Some))
        .map(|model| {
            let filter = ExecutionFilter { model: model.clone(), ..current.clone() };
            let label = model.clone().unwrap_or_else(|| "All models".to_string());
            chip(label, link(&filter, 1), current.model == model)
        })
        .collect_view();
    let pager = (paging.pages > 1).then(|| {
        let previous = (paging.page > 1).then(|| link(&current, paging.page - 1));
        let next = (paging.page < paging.pages).then(|| link(&current, paging.page + 1));
        view! {
            <nav class="pager" aria-label="Pages" data-testid="pager">
                {previous.map(|href| view! { <a href=href rel="prev">"← Previous"</a> })}
                <span data-testid="page-position">
                    {format!("Page {} of {} · rows {}–{} of {}", paging.page, paging.pages,
                        (paging.page - 1) * paging.per_page + 1,
                        (paging.page * paging.per_page).min(paging.matching),
                        paging.matching)}
                </span>
                {next.map(|href| view! { <a href=href rel="next">"Next →"</a> })}
            </nav>
        }
    });
    view! {
        <nav class="panel filters" aria-label="Filter executions" data-testid="filters">
            <span class="filter-group">{status_links}</span>
            <span class="filter-group">{region_links}</span>
            <span class="filter-group">{model_links}</span>
            <span class="muted" data-testid="matching">{format!("{} matching", paging.matching)}</span>
        </nav>
        {pager}
    }
}

fn chip(label: String, href: String, selected: bool) -> impl IntoView {
    view! {
        <a class=if selected { "chip selected" } else { "chip" } href=href aria-current=selected.then_some("page")>
            {label}
        </a>
    }
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
