//! Keeps a job page current in the browser without reloading it. `LiveJob` is the page's
//! state and the one way to refresh it: the poll loop and the action buttons both go through
//! `refresh`, which also announces retries that finished since the last look.

use leptos::prelude::*;

use crate::domain::views::{ExecutionView, JobPageData, RetryAccepted};
use crate::domain::ExecutionStatus;

use super::toaster::{ToastKind, Toaster};

#[derive(Clone, Copy)]
pub struct LiveJob {
    pub data: RwSignal<JobPageData>,
    toaster: Toaster,
}

impl LiveJob {
    pub fn new(initial: JobPageData, toaster: Toaster) -> LiveJob {
        let live = LiveJob { data: RwSignal::new(initial), toaster };
        provide_context(live);
        keep_fresh(live);
        live
    }

    pub fn job_id(&self) -> String {
        self.data.with_untracked(|d| d.job.id.clone())
    }

    pub fn toaster(&self) -> Toaster {
        self.toaster
    }

    /// Shows an accepted retry at once, from the server's answer.
    pub fn apply_accepted(&self, accepted: &RetryAccepted) {
        let Ok(id) = accepted.execution_id.parse::<i64>() else { return };
        self.data.update(|d| {
            if let Some(row) = d.executions.iter_mut().find(|e| e.id == id) {
                row.status = accepted.status;
                row.retry_count = accepted.retry_attempt;
                row.updated_at = accepted.updated_at.clone();
            }
        });
    }

    /// Fetches the job again, announces finished retries, and updates the page.
    pub async fn refresh(&self) {
        let id = self.job_id();
        let Ok(fresh) = crate::serverfns::jobs::load_job_page(id).await else { return };
        let Some(changed) = self.data.try_with_untracked(|old| {
            announce_finished_retries(self.toaster, &old.executions, &fresh.executions);
            old != &fresh
        }) else {
            return;
        };
        if changed {
            self.data.try_set(fresh);
        }
    }
}

fn announce_finished_retries(toaster: Toaster, old: &[ExecutionView], fresh: &[ExecutionView]) {
    for now in fresh {
        let Some(before) = old.iter().find(|e| e.id == now.id) else { continue };
        if before.status != ExecutionStatus::Retrying || now.status == ExecutionStatus::Retrying {
            continue;
        }
        let cell = format!("{} · {} · {}", now.question_id, now.model_id, now.region);
        match now.status {
            ExecutionStatus::Completed => toaster.push(ToastKind::Success, format!("Retry succeeded: {cell}")),
            status if status.is_failure() => toaster.push(
                ToastKind::Error,
                format!(
                    "Retry failed again: {cell} — {}",
                    now.error.clone().or(now.error_code.clone()).unwrap_or_else(|| status.to_string())
                ),
            ),
            _ => {}
        }
    }
}

/// Asks the server every second while the job has work in flight, every five once it is
/// finished (a retry from elsewhere can still change it).
#[cfg(feature = "hydrate")]
fn keep_fresh(live: LiveJob) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

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
                let busy = live
                    .data
                    .try_with_untracked(|d| d.executions.iter().any(|e| e.status.is_active()))
                    .unwrap_or(false);
                gloo_timers::future::TimeoutFuture::new(if busy { 1_000 } else { 5_000 }).await;
                if !alive.load(Ordering::Relaxed) {
                    break;
                }
                live.refresh().await;
            }
        });
    });
}

/// On the server the page is rendered once; there is nothing to keep fresh.
#[cfg(not(feature = "hydrate"))]
fn keep_fresh(_live: LiveJob) {}
