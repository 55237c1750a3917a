use leptos::prelude::*;

/// A status as a coloured word: the class says which status (`badge-failed`, …), the text
/// says it to everyone, optionally with its reason ("completed · 36/48 succeeded").
#[component]
pub fn StatusBadge(
    #[prop(into)] status: Signal<&'static str>,
    /// The words shown; the status itself when absent.
    #[prop(optional, into)]
    text: Option<Signal<String>>,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    let shown = move || match text {
        Some(text) => text.get(),
        None => status.get().to_string(),
    };
    view! {
        <span class=move || format!("badge badge-{}", status.get()) data-testid=testid>
            {shown}
        </span>
    }
}
