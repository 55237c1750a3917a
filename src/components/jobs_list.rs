use leptos::prelude::*;

use crate::domain::views::JobView;

use super::format::job_status_line;
use super::ProgressBar;

/// Recent jobs, newest first, each with its live progress.
#[component]
pub fn JobsList(jobs: Vec<JobView>) -> impl IntoView {
    let jobs = RwSignal::new(jobs);
    follow_jobs(jobs);
    view! {
        <section class="panel jobs">
            <h2>"Jobs"</h2>
            <Show
                when=move || jobs.with(|j| !j.is_empty())
                fallback=|| view! { <p class="muted">"No jobs yet: start one above."</p> }
            >
                <table class="jobs-table">
                    <thead>
                        <tr>
                            <th scope="col">"Job"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Progress"</th>
                            <th scope="col">"Created"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=move || jobs.get()
                            key=|job| (job.id.clone(), job.updated_at.clone(), job.progress)
                            children=move |job| {
                                let href = format!("/jobs/{}", job.id);
                                view! {
                                    <tr data-testid="job-row" data-job-id=job.id.clone()>
                                        <td><a href=href>{job.id.clone()}</a></td>
                                        <td>
                                            <span class=format!("badge badge-{}", job.status) data-testid="job-row-status">
                                                {job_status_line(job.status, &job.progress)}
                                            </span>
                                        </td>
                                        <td class="wide">
                                            <ProgressBar
                                                progress=Signal::stored(job.progress)
                                                label=format!("Progress of {}", job.id)
                                            />
                                        </td>
                                        <td>
                                            <time datetime=job.created_at.clone()>{job.created_at.replace('T', " ")}</time>
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

/// Patches the list from the jobs stream: a changed job is replaced, a new one goes on top.
#[cfg(feature = "hydrate")]
fn follow_jobs(jobs: RwSignal<Vec<JobView>>) {
    use send_wrapper::SendWrapper;

    use super::live::event_source::{subscribe, Subscription};

    let subscription = StoredValue::new(None::<SendWrapper<Subscription>>);
    Effect::new(move |_| {
        let on_event = move |kind: &'static str, data: String| {
            if kind == "resync" {
                leptos::task::spawn_local(async move {
                    if let Ok(home) = crate::serverfns::jobs::load_home().await {
                        jobs.try_set(home.jobs);
                    }
                });
                return;
            }
            let Ok(fresh) = serde_json::from_str::<crate::domain::views::JobSummary>(&data) else { return };
            jobs.try_update(|jobs| match jobs.iter_mut().find(|j| j.id == fresh.id) {
                Some(job) if fresh.updated_at >= job.updated_at || fresh.progress != job.progress => job.apply(&fresh),
                Some(_) => {}
                None => jobs.insert(0, JobView::from_summary(fresh)),
            });
        };
        if let Some(opened) = subscribe("/api/v1/jobs/events", &["job", "resync"], on_event, |_| {}) {
            subscription.set_value(Some(SendWrapper::new(opened)));
        }
    });
}

#[cfg(not(feature = "hydrate"))]
fn follow_jobs(_jobs: RwSignal<Vec<JobView>>) {}
