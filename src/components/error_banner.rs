use leptos::prelude::*;

/// A refusal or failure, announced to screen readers.
#[component]
pub fn ErrorBanner(#[prop(into)] message: String) -> impl IntoView {
    view! { <p class="error-banner" role="alert">{message}</p> }
}

/// The outcome of a form post made without JavaScript ("Retry queued: …").
#[component]
pub fn NoticeBanner(#[prop(into)] message: String) -> impl IntoView {
    view! { <p class="notice-banner" role="status">{message}</p> }
}

/// The server's own message, without the transport's wrapping.
pub fn server_error_text(err: &ServerFnError) -> String {
    match err {
        ServerFnError::ServerError(message) => message.clone(),
        other => other.to_string(),
    }
}
