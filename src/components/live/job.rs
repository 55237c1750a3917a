//! The job page's live state: its data, the stream that keeps it current, and the one way to
//! change it (each change goes through `merge`).

use leptos::prelude::*;

use crate::domain::views::{ExecutionView, JobPageData, JobSummary, RetryAccepted};
use crate::domain::{ExecutionStatus, LiveEventKind};

/// Ended retries remembered for a late batch answer.
const ENDED_EARLY_KEPT: usize = 256;

use super::batches::Settled;
use super::merge::{self, RetryEnded};
use super::{use_live_stream, LiveState};
use crate::components::toaster::{ToastKind, Toaster};

#[derive(Clone, Copy)]
pub struct LiveJob {
    pub data: RwSignal<JobPageData>,
    pub state: RwSignal<LiveState>,
    toaster: Toaster,
    /// Rows retried together, which toast together (UI.md §3).
    batches: StoredValue<super::batches::Batches>,
    /// The row whose Retry was pressed: its "Retrying…" takes the keyboard focus when it
    /// replaces the button (UI.md §3), so a keyboard user stays where they were.
    wants_focus: StoredValue<Option<i64>>,
    /// Retries that ended on their own lately: a batch answer that arrives after one of its
    /// rows has already ended counts it from here.
    ended_early: StoredValue<Vec<(i64, bool)>>,
    /// The page's reactive owner: what a row starts (a retry and its answer) is owned here,
    /// so it outlives the row, which the live stream may re-render before the answer comes.
    page: StoredValue<Option<Owner>>,
}

impl LiveJob {
    pub fn new(initial: JobPageData, toaster: Toaster) -> LiveJob {
        let data = RwSignal::new(initial);
        // The handlers below use the data and the toaster only; the state is the hook's.
        let page = StoredValue::new(Owner::current());
        let live = LiveJob {
            data,
            state: RwSignal::new(LiveState::Connecting),
            toaster,
            batches: StoredValue::new(Default::default()),
            wants_focus: StoredValue::new(None),
            ended_early: StoredValue::new(Vec::new()),
            page,
        };
        let state = use_live_stream(
            // Job ids are letters, digits, '-', '_' and '.': nothing to escape.
            move || data.with_untracked(|d| format!("/api/v1/jobs/{}/events?since={}", d.job.id, d.cursor)),
            &[LiveEventKind::Execution, LiveEventKind::Job],
            move |kind, payload| live.apply_event(kind, &payload),
            move || async move { live.refresh().await },
        );
        let live = LiveJob { state, ..live };
        provide_context(live);
        live
    }

    /// Runs `make` in the page's owner (see `page`).
    pub fn in_page<T>(&self, make: impl FnOnce() -> T) -> T {
        match self.page.get_value() {
            Some(owner) => owner.with(make),
            None => make(),
        }
    }

    pub fn toaster(&self) -> Toaster {
        self.toaster
    }

    fn apply_event(&self, kind: LiveEventKind, payload: &str) {
        match kind {
            LiveEventKind::Execution => {
                if let Ok(fresh) = serde_json::from_str::<ExecutionView>(payload) {
                    let id = fresh.id;
                    let on_page = self.data.with_untracked(|d| d.executions.iter().any(|e| e.id == id));
                    let (finished, answered) =
                        (fresh.status.is_failure() || fresh.status == ExecutionStatus::Completed, fresh.status == ExecutionStatus::Completed);
                    let mut ended = None;
                    self.data.try_update(|d| ended = merge::apply_execution(d, fresh));
                    if let Some(ended) = ended {
                        self.announce(id, ended);
                    } else if !on_page && finished {
                        // A batch's row this page does not show (filtered out, on another
                        // page) still counts towards the batch's summary.
                        self.settle_unseen(id, answered);
                    }
                }
            }
            LiveEventKind::Job => {
                if let Ok(fresh) = serde_json::from_str::<JobSummary>(payload) {
                    self.data.try_update(|d| merge::apply_job(d, &fresh));
                }
            }
            LiveEventKind::Resync => {}
        }
    }

    /// Shows an accepted retry at once, from the server's answer.
    pub fn apply_accepted(&self, accepted: &RetryAccepted) {
        self.data.update(|d| merge::apply_accepted(d, accepted));
    }

    /// Fetches the whole job again (after a resync, or while the stream is down).
    pub async fn refresh(&self) {
        use crate::serverfns::jobs::JobPageQuery;
        let (id, query) = self.data.with_untracked(|d| (d.job.id.to_string(), JobPageQuery::of(&d.paging.filter, d.paging.page)));
        let Ok(fresh) = query.load(id).await else { return };
        let mut ended = Vec::new();
        self.data.try_update(|d| ended = merge::replace_snapshot(d, fresh));
        for (id, one) in ended {
            self.announce(id, one);
        }
    }

    /// The Retry of row `id` was pressed.
    pub fn keep_focus_on(&self, id: i64) {
        self.wants_focus.set_value(Some(id));
    }

    /// Whether row `id`'s control should take the focus: until its retry ends, as the row may
    /// be drawn again (the accepted answer, then the stream's events) and each new button must
    /// pick the focus up where the old one dropped it.
    pub fn wants_focus(&self, id: i64) -> bool {
        self.wants_focus.get_value() == Some(id)
    }

    /// A "Retry all failed" was accepted: its rows will toast together when they settle. Rows
    /// that ended before this answer arrived are counted at once.
    pub fn start_batch(&self, queued: &[i64]) {
        let mut settled = Vec::new();
        self.batches.update_value(|batches| {
            batches.start(queued);
            self.ended_early.update_value(|early| {
                early.retain(|(id, answered)| {
                    if queued.contains(id) {
                        settled.push(batches.settle(*id, *answered));
                        false
                    } else {
                        true
                    }
                })
            });
        });
        settled.into_iter().for_each(|settled| self.toast_batch(settled));
    }

    fn announce(&self, id: i64, ended: RetryEnded) {
        if self.wants_focus.get_value() == Some(id) {
            self.wants_focus.set_value(None);
        }
        let answered = matches!(ended, RetryEnded::Succeeded(_));
        let mut settled = Settled::Alone;
        self.batches.update_value(|batches| settled = batches.settle(id, answered));
        match (settled, ended) {
            (Settled::Alone, ended) => {
                // Perhaps a batch's row whose end came before the batch's answer.
                self.ended_early.update_value(|early| {
                    early.push((id, answered));
                    let excess = early.len().saturating_sub(ENDED_EARLY_KEPT);
                    early.drain(..excess);
                });
                match ended {
                    RetryEnded::Succeeded(text) => self.toaster.push(ToastKind::Success, text),
                    RetryEnded::FailedAgain(text) => self.toaster.push(ToastKind::Error, text),
                }
            }
            (settled, _) => self.toast_batch(settled),
        }
    }

    fn settle_unseen(&self, id: i64, answered: bool) {
        let mut settled = Settled::Alone;
        self.batches.update_value(|batches| {
            if batches.waits_for(id) {
                settled = batches.settle(id, answered);
            }
        });
        self.toast_batch(settled);
    }

    /// A batch's summary once its last row has settled.
    fn toast_batch(&self, settled: Settled) {
        match settled {
            Settled::Alone | Settled::Waiting => {}
            Settled::BatchDone { summary, failed: 0 } => self.toaster.push(ToastKind::Info, summary),
            // "— show them": the job's failed rows (those that failed again, and any out of
            // retries the batch could not take), by the filter bar's "Failed" link.
            Settled::BatchDone { summary, .. } => {
                let statuses = crate::domain::ExecutionStatus::FAILURES.map(|s| s.as_str()).join(",");
                let href = self.data.with_untracked(|d| format!("/jobs/{}?status={statuses}", d.job.id));
                self.toaster.push_with_link(ToastKind::Error, summary, href, "show them");
            }
        }
    }
}
