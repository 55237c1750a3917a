//! Toasts: short messages in an `aria-live` region. A provider at the root, a handle in
//! context, `push` to show one. Each hides itself after 5 s, can be dismissed, and at most
//! three are shown (the oldest goes first).

use leptos::prelude::*;

/// At most three at once (UI.md §3): more would cover the table.
const MAX_TOASTS: usize = 3;
#[cfg(feature = "hydrate")]
const HIDE_AFTER_MS: u32 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Success,
    Error,
    Info,
}

impl ToastKind {
    fn class(self) -> &'static str {
        match self {
            ToastKind::Success => "toast toast-success",
            ToastKind::Error => "toast toast-error",
            ToastKind::Info => "toast toast-info",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    id: u64,
    kind: ToastKind,
    text: String,
    /// A link after the text: (where, words).
    link: Option<(String, String)>,
}

#[derive(Clone, Copy)]
pub struct Toaster {
    toasts: RwSignal<Vec<Toast>>,
    next_id: StoredValue<u64>,
}

impl Toaster {
    pub fn push(&self, kind: ToastKind, text: impl Into<String>) {
        self.show(Toast { id: 0, kind, text: text.into(), link: None });
    }

    /// A toast ending in a link ("18 retried: 12 answered, 6 failed again — show them").
    pub fn push_with_link(&self, kind: ToastKind, text: impl Into<String>, href: String, words: &str) {
        self.show(Toast { id: 0, kind, text: text.into(), link: Some((href, words.to_string())) });
    }

    fn show(&self, toast: Toast) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        self.toasts.update(|toasts| {
            toasts.push(Toast { id, ..toast });
            let excess = toasts.len().saturating_sub(MAX_TOASTS);
            toasts.drain(..excess);
        });
        #[cfg(feature = "hydrate")]
        {
            let toasts = self.toasts;
            gloo_timers::callback::Timeout::new(HIDE_AFTER_MS, move || {
                toasts.try_update(|toasts| toasts.retain(|t| t.id != id));
            })
            .forget();
        }
    }

    pub fn dismiss(&self, id: u64) {
        self.toasts.update(|toasts| toasts.retain(|t| t.id != id));
    }
}

pub fn provide_toaster() -> Toaster {
    let toaster = Toaster { toasts: RwSignal::new(Vec::new()), next_id: StoredValue::new(0) };
    provide_context(toaster);
    toaster
}

pub fn use_toaster() -> Toaster {
    use_context::<Toaster>().unwrap_or_else(provide_toaster)
}

/// Where toasts appear. Screen readers announce each as it arrives.
#[component]
pub fn ToastRegion() -> impl IntoView {
    let toaster = use_toaster();
    view! {
        <div class="toasts" role="status" aria-live="polite" aria-label="Notifications">
            <For
                each=move || toaster.toasts.get()
                key=|toast| toast.id
                children=move |toast| {
                    let id = toast.id;
                    view! {
                        <div class=toast.kind.class() data-testid="toast">
                            <span class="toast-text">{toast.text}</span>
                            {toast.link.map(|(href, words)| view! { " — " <a href=href data-testid="toast-link">{words}</a> })}
                            <button
                                type="button"
                                class="toast-dismiss"
                                aria-label="Dismiss notification"
                                on:click=move |_| toaster.dismiss(id)
                            >
                                "×"
                            </button>
                        </div>
                    }
                }
            />
        </div>
    }
}
