//! Keeps a job page current in the browser without reloading it. The server pushes each
//! change (a server-sent event per execution, see `server::live`); the page patches the row
//! it concerns. If the stream is down the page polls, and says so, until it is back.
//! `LiveJob` is the page's state and the one way to change it.

#[cfg(feature = "hydrate")]
pub(crate) mod event_source;

use leptos::prelude::*;

use crate::domain::views::{ExecutionView, JobPageData, JobSummary, RetryAccepted};
use crate::domain::ExecutionStatus;

use super::toaster::{ToastKind, Toaster};

/// How the page is kept current, shown discreetly in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveState {
    Connecting,
    Live,
    Reconnecting,
    Polling,
}

impl LiveState {
    pub fn label(self) -> &'static str {
        match self {
            // Also what the server renders: without JavaScript there is no live connection.
            LiveState::Connecting => "",
            LiveState::Live => "live",
            LiveState::Reconnecting => "reconnecting… (checking every 5 s)",
            LiveState::Polling => "live updates unavailable: checking every 5 s",
        }
    }
}

#[derive(Clone, Copy)]
pub struct LiveJob {
    pub data: RwSignal<JobPageData>,
    pub state: RwSignal<LiveState>,
    toaster: Toaster,
}

impl LiveJob {
    pub fn new(initial: JobPageData, toaster: Toaster) -> LiveJob {
        let live = LiveJob { data: RwSignal::new(initial), state: RwSignal::new(LiveState::Connecting), toaster };
        provide_context(live);
        stay_current(live);
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
                if row.status.is_failure() {
                    row.status = accepted.status;
                    row.retry_count = accepted.retry_attempt;
                    row.updated_at = accepted.updated_at.clone();
                }
            }
        });
    }

    /// One execution's new state, as pushed by the server.
    #[cfg_attr(not(feature = "hydrate"), expect(dead_code, reason = "called by the browser's event stream"))]
    pub fn apply_execution(&self, fresh: ExecutionView) {
        let toaster = self.toaster;
        self.data.try_update(|d| {
            if let Some(row) = d.executions.iter_mut().find(|e| e.id == fresh.id) {
                // RFC 3339 in UTC with fixed precision: text order is time order.
                if fresh.updated_at >= row.updated_at {
                    announce_finished_retry(toaster, row, &fresh);
                    *row = fresh;
                }
            }
        });
    }

    #[cfg_attr(not(feature = "hydrate"), expect(dead_code, reason = "called by the browser's event stream"))]
    pub fn apply_job(&self, fresh: JobSummary) {
        self.data.try_update(|d| {
            if d.job.id == fresh.id && fresh.updated_at >= d.job.updated_at {
                d.job.apply(&fresh);
            }
        });
    }

    /// Fetches the whole job again (after a resync, or while the stream is down).
    pub async fn refresh(&self) {
        let id = self.job_id();
        let Ok(fresh) = crate::serverfns::jobs::load_job_page(id).await else { return };
        let toaster = self.toaster;
        self.data.try_update(|old| {
            for now in &fresh.executions {
                if let Some(before) = old.executions.iter().find(|e| e.id == now.id) {
                    announce_finished_retry(toaster, before, now);
                }
            }
            *old = fresh;
        });
    }
}

fn announce_finished_retry(toaster: Toaster, before: &ExecutionView, now: &ExecutionView) {
    // Seen retrying before and not now; or a retry that started and ended between two looks
    // (the feed sends an execution's latest state, so a fast retry can arrive finished).
    let finished = now.status != ExecutionStatus::Retrying
        && (before.status == ExecutionStatus::Retrying || now.retry_count > before.retry_count);
    if !finished {
        return;
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

#[cfg(feature = "hydrate")]
type SubscriptionSlot = StoredValue<Option<send_wrapper::SendWrapper<event_source::Subscription>>>;

/// Subscribes to the job's event stream; polls while it is down.
#[cfg(feature = "hydrate")]
fn stay_current(live: LiveJob) {
    let slot: SubscriptionSlot = StoredValue::new(None);
    // Effects run only in the browser, after hydration: never during server rendering.
    Effect::new(move |_| open_stream(live, slot));
    poll_while_down(live, slot);
}

/// Opens (or reopens) the stream from the page's current snapshot.
#[cfg(feature = "hydrate")]
fn open_stream(live: LiveJob, slot: SubscriptionSlot) {
    use event_source::{subscribe, Connection};

    let (id, cursor) = live.data.with_untracked(|d| (d.job.id.clone(), d.cursor));
    // Job ids are letters, digits, '-', '_' and '.': nothing to escape.
    let url = format!("/api/v1/jobs/{id}/events?since={cursor}");
    let on_event = move |kind: &'static str, data: String| match kind {
        "execution" => {
            if let Ok(execution) = serde_json::from_str::<ExecutionView>(&data) {
                live.apply_execution(execution);
            }
        }
        "job" => {
            if let Ok(job) = serde_json::from_str::<JobSummary>(&data) {
                live.apply_job(job);
            }
        }
        _ => leptos::task::spawn_local(async move { live.refresh().await }),
    };
    let on_state = move |state: Connection| {
        let state = match state {
            Connection::Live => LiveState::Live,
            Connection::Reconnecting => LiveState::Reconnecting,
            Connection::Polling => LiveState::Polling,
        };
        let was = live.state.get_untracked();
        live.state.try_set(state);
        // Back after a gap: the stream replays what was missed, but a refresh also covers a
        // server whose change log was pruned meanwhile.
        if state == LiveState::Live && matches!(was, LiveState::Reconnecting | LiveState::Polling) {
            leptos::task::spawn_local(async move { live.refresh().await });
        }
    };
    // Dropping the previous subscription closes it.
    slot.try_set_value(None);
    match subscribe(&url, &["execution", "job", "resync"], on_event, on_state) {
        Some(opened) => {
            slot.try_set_value(Some(send_wrapper::SendWrapper::new(opened)));
        }
        None => {
            live.state.try_set(LiveState::Polling);
        }
    }
}

/// While the stream is down, asks the server for the whole job every 5 s; when the browser
/// has given up on the stream, tries to open it again after each poll.
#[cfg(feature = "hydrate")]
fn poll_while_down(live: LiveJob, slot: SubscriptionSlot) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let alive = Arc::new(AtomicBool::new(true));
    on_cleanup({
        let alive = Arc::clone(&alive);
        move || alive.store(false, Ordering::Relaxed)
    });
    Effect::new(move |_| {
        let alive = Arc::clone(&alive);
        leptos::task::spawn_local(async move {
            while alive.load(Ordering::Relaxed) {
                gloo_timers::future::TimeoutFuture::new(5_000).await;
                if !alive.load(Ordering::Relaxed) {
                    break;
                }
                match live.state.try_get_untracked() {
                    Some(LiveState::Reconnecting) => live.refresh().await,
                    Some(LiveState::Polling) => {
                        live.refresh().await;
                        open_stream(live, slot);
                    }
                    _ => {}
                }
            }
        });
    });
}

/// On the server the page is rendered once; there is nothing to keep current.
#[cfg(not(feature = "hydrate"))]
fn stay_current(_live: LiveJob) {}
