//! The browser's `EventSource`, wrapped: named events to one callback, connection state to
//! another, and closed when dropped. The browser reconnects by itself (sending
//! `Last-Event-ID`), so a restarted server is picked up without any code here.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{EventSource, MessageEvent};

use crate::domain::LiveEventKind;

/// How the page is getting its updates, for the discreet indicator in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Live,
    /// The stream dropped; the browser is reconnecting while the page polls.
    Reconnecting,
    /// The stream cannot be opened: the page polls until it can.
    Polling,
}

pub struct Subscription {
    source: EventSource,
    _listeners: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// Opens `url` and calls `on_event(kind, data)` for each of `kinds`.
pub fn subscribe(
    url: &str,
    kinds: &[LiveEventKind],
    on_event: impl Fn(LiveEventKind, String) + Clone + 'static,
    on_state: impl Fn(Connection) + Clone + 'static,
) -> Option<Subscription> {
    let source = EventSource::new(url).ok()?;
    let mut listeners: Vec<Closure<dyn FnMut(web_sys::Event)>> = Vec::new();
    for &kind in kinds {
        let on_event = on_event.clone();
        let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            if let Some(data) = event.dyn_ref::<MessageEvent>().and_then(|m| m.data().as_string()) {
                on_event(kind, data);
            }
        });
        source.add_event_listener_with_callback(kind.as_str(), listener.as_ref().unchecked_ref()).ok()?;
        listeners.push(listener);
    }
    let opened = {
        let on_state = on_state.clone();
        Closure::<dyn FnMut(web_sys::Event)>::new(move |_| on_state(Connection::Live))
    };
    source.set_onopen(Some(opened.as_ref().unchecked_ref()));
    listeners.push(opened);
    let failed = {
        let source = source.clone();
        Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            on_state(if source.ready_state() == EventSource::CLOSED { Connection::Polling } else { Connection::Reconnecting })
        })
    };
    source.set_onerror(Some(failed.as_ref().unchecked_ref()));
    listeners.push(failed);
    Some(Subscription { source, _listeners: listeners })
}
