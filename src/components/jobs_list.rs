use leptos::prelude::*;

use crate::domain::views::{JobSummary, JobView};
use crate::domain::LiveEventKind;

use super::format::job_status_line;
use super::live::use_live_stream;
use super::{ProgressBar, StatusBadge, TableHead};

/// Recent jobs, newest first, each with its live progress.
#[component]
pub fn JobsList(jobs: Vec<JobView>) -> impl IntoView {
    let jobs = RwSignal::new(jobs);
    let _state = use_live_stream(
        || "/api/v1/jobs/events".to_string(),
        &[LiveEventKind::Job],
        move |_, payload| {
            if let Ok(fresh) = serde_json::from_str::<JobSummary>(&payload) {
                jobs.try_update(|jobs| merge_summary(jobs, fresh));
            }
        },
        move || async move {
            if let Ok(home) = crate::serverfns::jobs::load_home().await {
                jobs.try_set(home.jobs);
            }
        },
    );
    view! {
        <section class="panel jobs">
            <div class="jobs-title">
                <h2>"Jobs"</h2>
                <a class="chip" href="#new-job" data-testid="new-job-link">"New job ↓"</a>
            </div>
            <Show
                when=move || jobs.with(|j| !j.is_empty())
                fallback=|| view! { <p class="muted">"No jobs yet: start one below."</p> }
            >
                <table class="jobs-table">
                    <TableHead columns=&["Job", "Study", "Status", "Progress", "Created"] />
                    <tbody>
                        <For
                            each=move || jobs.get()
                            key=|job| (job.id.clone(), job.updated_at, job.progress, job.status)
                            children=move |job| {
                                let href = format!("/jobs/{}", job.id);
                                view! {
                                    <tr data-testid="job-row" data-job-id=job.id.to_string()>
                                        <td>
                                            <a href=href data-testid="job-row-link">{job.name.clone().unwrap_or_else(|| job.id.to_string())}</a>
                                            {job.name.is_some().then(|| view! { <br /><code class="muted job-id">{job.id.to_string()}</code> })}
                                        </td>
                                        <td class="muted" data-testid="job-row-study">{study(&job)}</td>
                                        <td>
                                            <StatusBadge
                                                status=job.status.as_str()
                                                text=job_status_line(job.status, &job.progress)
                                                testid="job-row-status"
                                            />
                                        </td>
                                        <td class="wide">
                                            <ProgressBar
                                                progress=Signal::stored(job.progress)
                                                label=format!("Progress of {}", job.id)
                                            />
                                        </td>
                                        <td>
                                            <time datetime=job.created_at.rfc3339()>{job.created_at.short()}</time>
                                            {job.created_by.clone().map(|by| view! { <span class="muted by" data-testid="created-by">" by "{by}</span> })}
                                        </td>
                                    </tr>
                                }
                            }
                        />
                    </tbody>
                </table>
            </Show>
        </section>
    }
}

/// What the job asks: its question set (or how many questions), models, regions and samples.
/// A job first heard of through the live stream carries no lists yet: nothing is said then.
fn study(job: &JobView) -> String {
    if job.models.is_empty() {
        return String::new();
    }
    let questions = job.question_set.clone().unwrap_or_else(|| super::format::plural(job.questions.len(), "question", "questions"));
    let mut said = format!("{questions} · {} · {}", job.models.join(", "), job.regions.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", "));
    if job.samples > 1 {
        said.push_str(&format!(" · {} samples", job.samples));
    }
    said
}

/// A pushed job: a changed one is updated in place, a new one goes on top.
fn merge_summary(jobs: &mut Vec<JobView>, fresh: JobSummary) {
    match jobs.iter_mut().find(|j| j.id == fresh.id) {
        Some(job) if fresh.updated_at >= job.updated_at || fresh.progress != job.progress => job.apply(&fresh),
        Some(_) => {}
        None => jobs.insert(0, JobView::from_summary(fresh)),
    }
}
