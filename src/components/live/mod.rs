//! Keeping a page current without reloading it. The server pushes changes as server-sent
//! events (see `server::live`); [`use_live_stream`] is the one hook that owns the browser's
//! `EventSource`, its reconnects, the polling fallback while it is down, and the state shown
//! in the page ("live", "reconnecting…"). The job page ([`LiveJob`]) and the jobs list use it.

pub mod batches;
#[cfg(feature = "hydrate")]
pub(crate) mod event_source;
mod job;
pub mod merge;

pub use job::LiveJob;

use leptos::prelude::*;

use crate::domain::LiveEventKind;

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
            LiveState::Live => "● Live",
            LiveState::Reconnecting => "reconnecting… (checking every 5 s)",
            LiveState::Polling => "live updates unavailable: checking every 5 s",
        }
    }
}

/// While the stream is down, the page loads a fresh snapshot this often.
#[cfg(feature = "hydrate")]
const POLL_MS: u32 = 5_000;

/// Subscribes the page to `url()` (read each time the stream is opened, so it can carry the
/// snapshot's cursor) and hands each event of `kinds` to `on_event`. `refresh` loads a fresh
/// snapshot: on a `resync`, after a reconnect, and every 5 s while the stream is down.
/// Returns the connection's state for the page to show. On the server it does nothing.
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
pub fn use_live_stream<Url, OnEvent, Refresh, Done>(
    url: Url,
    kinds: &'static [LiveEventKind],
    on_event: OnEvent,
    refresh: Refresh,
) -> RwSignal<LiveState>
where
    Url: Fn() -> String + Clone + 'static,
    OnEvent: Fn(LiveEventKind, String) + Clone + 'static,
    Refresh: Fn() -> Done + Clone + 'static,
    Done: std::future::Future<Output = ()> + 'static,
{
    let state = RwSignal::new(LiveState::Connecting);
    #[cfg(feature = "hydrate")]
    hydrate::follow(state, url, kinds, on_event, refresh);
    state
}

#[cfg(feature = "hydrate")]
mod hydrate {
    use std::rc::Rc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use leptos::prelude::*;
    use send_wrapper::SendWrapper;

    use super::event_source::{subscribe, Connection, Subscription};
    use super::{LiveState, POLL_MS};
    use crate::domain::LiveEventKind;

    type Slot = StoredValue<Option<SendWrapper<Subscription>>>;

    pub(super) fn follow<Url, OnEvent, Refresh, Done>(
        state: RwSignal<LiveState>,
        url: Url,
        kinds: &'static [LiveEventKind],
        on_event: OnEvent,
        refresh: Refresh,
    ) where
        Url: Fn() -> String + Clone + 'static,
        OnEvent: Fn(LiveEventKind, String) + Clone + 'static,
        Refresh: Fn() -> Done + Clone + 'static,
        Done: std::future::Future<Output = ()> + 'static,
    {
        let slot: Slot = StoredValue::new(None);
        let refresh: Rc<dyn Fn()> = Rc::new(move || {
            let done = refresh();
            leptos::task::spawn_local(done);
        });
        let open: Rc<dyn Fn()> = Rc::new({
            let refresh = Rc::clone(&refresh);
            move || open(state, slot, &url(), kinds, on_event.clone(), Rc::clone(&refresh))
        });
        // Effects run only in the browser, after hydration: never during server rendering.
        let first = SendWrapper::new(Rc::clone(&open));
        Effect::new(move |_| first());
        poll_while_down(state, SendWrapper::new(refresh), SendWrapper::new(open));
    }

    fn open<OnEvent>(state: RwSignal<LiveState>, slot: Slot, url: &str, kinds: &'static [LiveEventKind], on_event: OnEvent, refresh: Rc<dyn Fn()>)
    where
        OnEvent: Fn(LiveEventKind, String) + Clone + 'static,
    {
        let on_message = {
            let refresh = Rc::clone(&refresh);
            move |kind: LiveEventKind, data: String| match kind {
                LiveEventKind::Resync => refresh(),
                kind => on_event(kind, data),
            }
        };
        let on_state = move |connection: Connection| {
            let now = match connection {
                Connection::Live => LiveState::Live,
                Connection::Reconnecting => LiveState::Reconnecting,
                Connection::Polling => LiveState::Polling,
            };
            let was = state.get_untracked();
            state.try_set(now);
            // Back after a gap: the stream replays what was missed, but a snapshot also
            // covers a server whose change log was pruned meanwhile.
            if now == LiveState::Live && matches!(was, LiveState::Reconnecting | LiveState::Polling) {
                refresh();
            }
        };
        // Dropping the previous subscription closes it.
        slot.try_set_value(None);
        let mut wanted: Vec<LiveEventKind> = kinds.to_vec();
        wanted.push(LiveEventKind::Resync);
        match subscribe(url, &wanted, on_message, on_state) {
            Some(opened) => {
                slot.try_set_value(Some(SendWrapper::new(opened)));
            }
            None => {
                state.try_set(LiveState::Polling);
            }
        }
    }

    /// While the stream is down, loads a snapshot every 5 s; when the browser has given up on
    /// the stream, tries to open it again after each.
    fn poll_while_down(state: RwSignal<LiveState>, refresh: SendWrapper<Rc<dyn Fn()>>, open: SendWrapper<Rc<dyn Fn()>>) {
        let alive = Arc::new(AtomicBool::new(true));
        on_cleanup({
            let alive = Arc::clone(&alive);
            move || alive.store(false, Ordering::Relaxed)
        });
        Effect::new(move |_| {
            let (alive, refresh, open) = (Arc::clone(&alive), Rc::clone(&refresh), Rc::clone(&open));
            leptos::task::spawn_local(async move {
                while alive.load(Ordering::Relaxed) {
                    gloo_timers::future::TimeoutFuture::new(POLL_MS).await;
                    if !alive.load(Ordering::Relaxed) {
                        break;
                    }
                    match state.try_get_untracked() {
                        Some(LiveState::Reconnecting) => refresh(),
                        Some(LiveState::Polling) => {
                            refresh();
                            open();
                        }
                        _ => {}
                    }
                }
            });
        });
    }
}
