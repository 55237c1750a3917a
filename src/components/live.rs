//! Keeps a job page current in the browser without reloading it: it asks the server for the
//! job again every second while the job runs, and less often once it has finished.

use leptos::prelude::*;

use crate::domain::views::JobPageData;

#[cfg(feature = "hydrate")]
pub fn keep_fresh(data: RwSignal<JobPageData>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use crate::serverfns::jobs::load_job_page;

    let alive = Arc::new(AtomicBool::new(true));
    on_cleanup({
        let alive = Arc::clone(&alive);
        move || alive.store(false, Ordering::Relaxed)
    });
    // An effect runs only in the browser, after hydration: never during server rendering.
    Effect::new(move |_| {
        let alive = Arc::clone(&alive);
        leptos::task::spawn_local(async move {
            while alive.load(Ordering::Relaxed) {
                let finished = data.try_with_untracked(|d| d.job.status.is_finished()).unwrap_or(true);
                gloo_timers::future::TimeoutFuture::new(if finished { 5_000 } else { 1_000 }).await;
                let Some(id) = data.try_with_untracked(|d| d.job.id.clone()) else { break };
                if !alive.load(Ordering::Relaxed) {
                    break;
                }
                if let Ok(fresh) = load_job_page(id).await {
                    if data.try_with_untracked(|d| d != &fresh).unwrap_or(false) {
                        data.try_set(fresh);
                    }
                }
            }
        });
    });
}

/// On the server the page is rendered once; there is nothing to keep fresh.
#[cfg(not(feature = "hydrate"))]
pub fn keep_fresh(_data: RwSignal<JobPageData>) {}
