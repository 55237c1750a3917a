use leptos::prelude::*;

use crate::components::{JobNav, JobSection};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::{use_live_stream, FormOutcome, LoadError, PlainRetryForm, StatusBadge};
use crate::domain::analysis::report::{CompareCell, CompareRow};
use crate::domain::retry::{failed_action, RowAction};
use crate::domain::views::CompareQuery;
use crate::domain::LiveEventKind;
use crate::serverfns::analysis::ComparePageData;

/// Answers longer than this fold open.
const FOLD_CHARS: usize = 160;

/// `/jobs/:id/compare?model=&category=&diverging=&refused=&incomplete=&page=`: the job's answers side by
/// side, regions as columns (RESEARCH.md §4). Server-rendered and filtered by a plain GET
/// form, so it works without JavaScript; with it, the table reloads as answers arrive.
#[component]
pub fn ComparePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    // Bumped by the live stream: the data is loaded again, the page stays.
    let version = RwSignal::new(0u32);
    let wanted = move || {
        let q = query.read();
        let id = params.read().get("id").unwrap_or_default();
        let query = CompareQuery {
            model: q.get("model"),
            category: q.get("category"),
            diverging: q.get("diverging"),
            refused: q.get("refused"),
            incomplete: q.get("incomplete"),
            page: q.get("page"),
        };
        (id, query, version.get())
    };
    let data = Resource::new(wanted, |(id, query, _)| query.load(id));

    let reload = reloader(version);
    let _live = use_live_stream(
        move || format!("/api/v1/jobs/{}/events", params.read_untracked().get("id").unwrap_or_default()),
        &[LiveEventKind::Execution],
        {
            let reload = reload.clone();
            move |_, _| reload()
        },
        move || {
            let reload = reload.clone();
            async move { reload() }
        },
    );

    view! {
        <FormOutcome />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <Compare data /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// A reload at most once a second, however many answers arrive.
fn reloader(version: RwSignal<u32>) -> std::sync::Arc<dyn Fn() + Send + Sync> {
    let waiting = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    std::sync::Arc::new(move || {
        if waiting.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let waiting = std::sync::Arc::clone(&waiting);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(1_000).await;
            waiting.store(false, std::sync::atomic::Ordering::SeqCst);
            version.try_update(|v| *v += 1);
        });
        #[cfg(not(feature = "hydrate"))]
        {
            waiting.store(false, std::sync::atomic::Ordering::SeqCst);
            let _ = version;
        }
    })
}

#[component]
fn Compare(data: ComparePageData) -> impl IntoView {
    let ComparePageData { job, compare, categories } = data;
    let id = job.id.to_string();
    let regions = compare.regions.clone();
    let query = use_query_map();
    let current = move |key: &str| query.read_untracked().get(key).unwrap_or_default();
    let (model_now, category_now) = (current("model"), current("category"));
    let (diverging_now, refused_now, incomplete_now) =
        (current("diverging") == "true", current("refused") == "true", current("incomplete") == "true");
    let page = current("page").parse::<usize>().unwrap_or(1).max(1);
    let pages = compare.matching.div_ceil(crate::domain::analysis::report::COMPARE_ROWS_PER_PAGE).max(1);
    let diverging = compare.rows.iter().filter(|r| r.diverges).count();
    let link_to = {
        let id = id.clone();
        let (model, category) = (model_now.clone(), category_now.clone());
        move |page: usize| {
            let mut url = format!("/jobs/{id}/compare?page={page}");
            for (key, value) in [("model", &model), ("category", &category)] {
                if !value.is_empty() {
                    url.push_str(&format!("&{key}={}", urlencode(value)));
                }
            }
            if diverging_now {
                url.push_str("&diverging=true");
            }
            if refused_now {
                url.push_str("&refused=true");
            }
            if incomplete_now {
                url.push_str("&incomplete=true");
            }
            url
        }
    };
    // A cancelled job's failures offer no retry, as on the job page.
    let cancelled = job.status == crate::domain::JobStatus::Cancelled;
    let columns = regions.iter().map(|r| view! { <th scope="col">{r.clone()}</th> }).collect_view();
    view! {
        <section class="panel">
            <JobNav job_id=id.clone() current=JobSection::SideBySide />
            <h1>"Answers side by side"</h1>
            <p class="muted">
                "One row per question × model × sample; a row diverges when its answers' agreement is below "
                {format!("{:.2}", compare.threshold)}
                " or some regions refused while others answered."
            </p>
            <form method="get" class="filters" data-testid="compare-filters">
                <label>"Model "
                    <select name="model">
                        <option value="" selected=model_now.is_empty()>"All"</option>
                        {job.models.iter().map(|m| view! { <option value=m.clone() selected=*m == model_now>{m.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Category "
                    <select name="category">
                        <option value="" selected=category_now.is_empty()>"All"</option>
                        {categories.iter().map(|c| view! { <option value=c.clone() selected=*c == category_now>{c.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label><input type="checkbox" name="diverging" value="true" checked=diverging_now data-testid="filter-diverging" />" Diverging only"</label>
                <label><input type="checkbox" name="refused" value="true" checked=refused_now />" With a refusal"</label>
                <label><input type="checkbox" name="incomplete" value="true" checked=incomplete_now data-testid="filter-incomplete" />" Incomplete only"</label>
                <button type="submit">"Filter"</button>
            </form>
            <p data-testid="compare-count">{format!("{} rows · {diverging} diverging on this page", compare.matching)}</p>
            <table class="compare" data-testid="compare-table">
                <thead><tr><th scope="col">"Question"</th><th scope="col">"Model"</th>{columns}<th scope="col">"Agreement"</th></tr></thead>
                <tbody>
                    {compare.rows.into_iter().map(|row| view! { <Row row regions=regions.clone() cancelled /> }).collect_view()}
                </tbody>
            </table>
            {(pages > 1).then(|| {
                let link_to = link_to.clone();
                view! {
                    <nav class="pager" aria-label="Pages">
                        {(page > 1).then(|| view! { <a href=link_to(page - 1)>"← Previous"</a> })}
                        <span>{format!(" Page {page} of {pages} ")}</span>
                        {(page < pages).then(|| view! { <a href=link_to(page + 1)>"Next →"</a> })}
                    </nav>
                }
            })}
        </section>
    }
}

#[component]
fn Row(row: CompareRow, regions: Vec<String>, cancelled: bool) -> impl IntoView {
    let agreement = row.agreement.map_or("—".to_string(), |a| format!("{a:.2}"));
    let cells = regions
        .iter()
        .map(|region| match row.answers.get(region) {
            Some(cell) => view! { <Cell cell=cell.clone() region=region.clone() cancelled /> }.into_any(),
            None => view! { <td class="muted">"—"</td> }.into_any(),
        })
        .collect_view();
    view! {
        <tr data-testid="compare-row" data-question=row.question_id.clone() data-model=row.model_id.clone() class:diverges=row.diverges>
            <td>
                <span class="qid">{row.question_id.clone()}</span>
                {(row.sample_index > 0).then(|| format!(" #{}", row.sample_index + 1))}
                <div class="muted">{row.question_text.clone()}</div>
                {row.incomplete.then(|| view! { <span class="badge incomplete" data-testid="incomplete" title="Some region has no answer in this row">"incomplete"</span> })}
            </td>
            <td>{row.model_id.clone()}</td>
            {cells}
            <td class="num">
                {agreement}
                {row.diverges.then(|| view! { <div><span class="badge diverges" data-testid="diverges">"diverges"</span></div> })}
            </td>
        </tr>
    }
}

#[component]
fn Cell(cell: CompareCell, region: String, cancelled: bool) -> impl IntoView {
    // Every cell leads to its attempts (UI.md §5); a failed one offers its Retry right here.
    let history = format!("/executions/{}", cell.execution_id);
    let Some(output) = cell.output.clone() else {
        let retry = (cell.status.is_failure() && !cancelled).then(|| match failed_action(cell.retry_count, cell.max_retries) {
            RowAction::Retry { label } => view! {
                <PlainRetryForm id=cell.execution_id region question_index=cell.question_index label testid="cell-retry" />
            }
            .into_any(),
            _ => view! { <span class="exhausted">"Max retries reached"</span> }.into_any(),
        });
        return view! {
            <td data-testid="compare-cell" data-status=cell.status.as_str()>
                <StatusBadge status=cell.status.as_str() />
                {retry}
                <div class="cell-meta"><a href=history data-testid="cell-history">"Attempts"</a></div>
            </td>
        }
        .into_any();
    };
    // Model output is untrusted text: rendered as text, never as HTML.
    let body = if output.chars().count() > FOLD_CHARS {
        let head: String = output.chars().take(FOLD_CHARS).collect();
        view! { <details><summary>{format!("{head}…")}</summary>{output}</details> }.into_any()
    } else {
        view! { <span>{output}</span> }.into_any()
    };
    view! {
        <td data-testid="compare-cell" data-status=cell.status.as_str() class:refused=cell.refusal == Some(true)>
            {body}
            <div class="cell-meta muted">
                {(cell.refusal == Some(true)).then(|| view! { <span class="badge refused" data-testid="refusal">"refused"</span>" " })}
                {cell.length.map(|n| format!("{n} chars"))}
                {cell.retried.then_some(" · retried")}
                " · "
                <a href=history data-testid="cell-history">"Attempts"</a>
            </div>
        </td>
    }
    .into_any()
}

fn urlencode(value: &str) -> String {
    value.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
