//! The retry controls. Each is a real form that posts to the server, so it works before (or
//! without) the WASM; once hydrated, the submit is taken over to call the server function,
//! update the row in place and show a toast.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::domain::retry::batch_summary;
use crate::domain::views::ExecutionView;
use crate::serverfns::retries::{retry_all_failed, retry_execution};

use super::error_banner::server_error_text;
use super::live::LiveJob;
use super::toaster::ToastKind;

/// Takes a form's submit over once the page is hydrated: runs `work` instead of posting,
/// one at a time (`sending` is true meanwhile). Before hydration the form simply posts.
fn take_over_submit<Work, Done>(sending: RwSignal<bool>, work: Work) -> impl Fn(SubmitEvent) + 'static
where
    Work: Fn(LiveJob) -> Done + 'static,
    Done: std::future::Future<Output = ()> + 'static,
{
    let live = use_context::<LiveJob>();
    move |ev: SubmitEvent| {
        let Some(live) = live else { return };
        ev.prevent_default();
        if sending.get_untracked() {
            return;
        }
        sending.set(true);
        let done = work(live);
        leptos::task::spawn_local(async move {
            done.await;
            sending.try_set(false);
        });
    }
}

/// "Retry" / "Retry (k/N)" for one failed row.
#[component]
pub fn RetryButton(execution: ExecutionView, label: String) -> impl IntoView {
    let sending = RwSignal::new(false);
    let action = format!("/executions/{}/retry", execution.id);
    let accessible = format!("{label}: {} · {} · {}", execution.question_id, execution.model_id, execution.region);
    let on_submit = take_over_submit(sending, {
        let execution = execution.clone();
        move |live: LiveJob| {
            let execution = execution.clone();
            async move {
                let answer = retry_execution(execution.id, execution.region.clone(), execution.question_index).await;
                match answer {
                    Ok(accepted) => {
                        live.apply_accepted(&accepted);
                        live.toaster().push(
                            ToastKind::Info,
                            format!("Retry queued: {} · {} · {}", accepted.question_id, accepted.model_id, accepted.region),
                        );
                    }
                    Err(err) => {
                        live.toaster().push(ToastKind::Error, server_error_text(&err));
                        live.refresh().await;
                    }
                }
            }
        }
    });
    view! {
        <form method="post" action=action class="inline" on:submit=on_submit>
            <input type="hidden" name="job_id" value=execution.job_id.clone() />
            <input type="hidden" name="region" value=execution.region.clone() />
            <input type="hidden" name="question_index" value=execution.question_index.to_string() />
            <button type="submit" class="retry" aria-label=accessible disabled=move || sending.get()>
                {label}
            </button>
        </form>
    }
}

/// "Retry all failed (N)" in the header (no region) or "Retry failed in this region".
#[component]
pub fn RetryAllButton(
    job_id: String,
    #[prop(optional)] region: Option<String>,
    #[prop(into)] label: Signal<String>,
    #[prop(into)] eligible: Signal<usize>,
) -> impl IntoView {
    let sending = RwSignal::new(false);
    let action = format!("/jobs/{job_id}/retry-all-failed");
    let on_submit = take_over_submit(sending, {
        let region = region.clone();
        move |live: LiveJob| {
            let (job_id, region) = (live.job_id(), region.clone());
            async move {
                match retry_all_failed(job_id, region).await {
                    Ok(result) => {
                        let kind = if result.queued.is_empty() { ToastKind::Error } else { ToastKind::Info };
                        live.toaster().push(kind, batch_summary(&result));
                    }
                    Err(err) => live.toaster().push(ToastKind::Error, server_error_text(&err)),
                }
                live.refresh().await;
            }
        }
    });
    view! {
        <form method="post" action=action class="inline" on:submit=on_submit>
            {region.map(|region| view! { <input type="hidden" name="region" value=region /> })}
            <button type="submit" class="retry-all" disabled=move || sending.get() || eligible.get() == 0>
                {move || label.get()}
            </button>
        </form>
    }
}
