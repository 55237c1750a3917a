use leptos::prelude::*;

use crate::domain::views::WarmupView;
use crate::domain::WarmupStatus;
use crate::serverfns::jobs::load_warmups;

use super::format::duration;

/// The job's warm-ups (PROVIDERS.md §4): "warming up us-central / llama3.1-8b" while one
/// runs, then each with its outcome, requests and duration. The server renders the first
/// state; in the browser the panel asks again every 2 s until every warm-up has ended.
#[component]
pub fn WarmupPanel(job_id: String, initial: Vec<WarmupView>) -> impl IntoView {
    let warmups = RwSignal::new(initial);
    #[cfg(feature = "hydrate")]
    {
        let running = move || warmups.with(|w| w.iter().any(|w| w.status == WarmupStatus::Running));
        if running() {
            let job_id = job_id.clone();
            if let Ok(handle) = set_interval_with_handle(
                move || {
                    if !running() {
                        return;
                    }
                    let job_id = job_id.clone();
                    leptos::task::spawn_local(async move {
                        if let Ok(latest) = load_warmups(job_id).await {
                            warmups.set(latest);
                        }
                    });
                },
                std::time::Duration::from_secs(2),
            ) {
                on_cleanup(move || handle.clear());
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (&job_id, load_warmups);
    view! {
        <Show when=move || warmups.with(|w| !w.is_empty())>
            <section class="panel warmups" data-testid="warmups">
                <h2>"Warm-up"</h2>
                <ul>
                    {move || {
                        warmups
                            .get()
                            .into_iter()
                            .map(|w| {
                                let line = match w.status {
                                    WarmupStatus::Pending | WarmupStatus::Running => format!("warming up {} / {} ({} requests so far)", w.region, w.model_id, w.requests),
                                    WarmupStatus::Ok => format!("{} / {} warm after {} requests, {}", w.region, w.model_id, w.requests, duration(w.duration_ms)),
                                    WarmupStatus::Failed => format!(
                                        "{} / {} did not warm up after {} requests ({}): its rows run anyway",
                                        w.region, w.model_id, w.requests, w.error.clone().unwrap_or_default()
                                    ),
                                };
                                view! { <li data-status=w.status.as_str() data-provider=w.provider_id.clone()>{line}</li> }
                            })
                            .collect_view()
                    }}
                </ul>
            </section>
        </Show>
    }
}
