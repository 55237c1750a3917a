use leptos::prelude::*;

use crate::domain::views::JobView;

use super::format::job_status_line;
use super::ProgressBar;

/// Recent jobs, newest first.
#[component]
pub fn JobsList(jobs: Vec<JobView>) -> impl IntoView {
    let empty = jobs.is_empty();
    view! {
        <section class="panel jobs">
            <h2>"Jobs"</h2>
            <Show when=move || !empty fallback=|| view! { <p class="muted">"No jobs yet: start one above."</p> }>
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
                        {jobs
                            .clone()
                            .into_iter()
                            .map(|job| {
                                let href = format!("/jobs/{}", job.id);
                                let progress = job.progress;
                                view! {
                                    <tr data-testid="job-row">
                                        <td><a href=href>{job.id.clone()}</a></td>
                                        <td>
                                            <span class=format!("badge badge-{}", job.status)>
                                                {job_status_line(job.status, &job.progress)}
                                            </span>
                                        </td>
                                        <td class="wide">
                                            <ProgressBar progress=Signal::stored(progress) label=format!("Progress of {}", job.id) />
                                        </td>
                                        <td><time datetime=job.created_at.clone()>{job.created_at.replace('T', " ")}</time></td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </Show>
        </section>
    }
}
