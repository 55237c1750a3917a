use leptos::prelude::*;

/// Which of a job's pages is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobSection {
    Executions,
    SideBySide,
    Analysis,
}

/// The one sub-navigation of a job's pages (UI.md §5): Executions · Side by side · Analysis ·
/// Export, the current page marked. `export_query` carries the job page's filter into the
/// exports (`status=…&region=…`), so what is downloaded is what is shown.
#[component]
pub fn JobNav(#[prop(into)] job_id: Signal<String>, current: JobSection, #[prop(into, optional)] export_query: Signal<String>) -> impl IntoView {
    let link = move |section: JobSection, label: &'static str, testid: &'static str| {
        let href = move || {
            let id = job_id.get();
            match section {
                JobSection::Executions => format!("/jobs/{id}"),
                JobSection::SideBySide => format!("/jobs/{id}/compare"),
                JobSection::Analysis => format!("/jobs/{id}/analysis"),
            }
        };
        let here = section == current;
        view! {
            <a href=href class:current=here aria-current=here.then_some("page") data-testid=testid>{label}</a>
        }
    };
    let export = move |extension: &'static str| {
        move || {
            let query = export_query.get();
            let query = if query.is_empty() { String::new() } else { format!("?{query}") };
            format!("/api/v1/jobs/{}/export.{extension}{query}", job_id.get())
        }
    };
    view! {
        <nav class="subnav" aria-label="This job" data-testid="job-nav">
            {link(JobSection::Executions, "Executions", "executions-link")}
            " · "
            {link(JobSection::SideBySide, "Side by side", "compare-link")}
            " · "
            {link(JobSection::Analysis, "Analysis", "analysis-link")}
            " · Export: "
            <a href=export("csv") download data-testid="export-csv">"CSV"</a>
            " · "
            <a href=export("jsonl") download data-testid="export-jsonl">"JSON Lines"</a>
        </nav>
    }
}
