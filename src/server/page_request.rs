//! What a server function needs to know about the request that called it. The pages' forms
//! post to server functions; with JavaScript the call is a fetch that wants data, without it
//! the browser itself posts the form and wants to land on a page again.

use axum::http::header::{ACCEPT, REFERER};
use axum::http::request::Parts;
use axum::http::Uri;
use leptos::prelude::use_context;

use crate::domain::ApiError;
use crate::server::error::AppError;
use crate::server::http::notices::NoticeKey;

/// A form posted by the browser itself (no JavaScript): it accepts HTML, not data.
pub fn is_plain_form_post() -> bool {
    use_context::<Parts>().and_then(|parts| parts.headers.get(ACCEPT)?.to_str().ok().map(|accept| accept.contains("text/html"))).unwrap_or(false)
}

/// A server function's error: the same answer as the REST route's, and the same HTTP status on
/// the response. A plain form post (no JavaScript) is left as the redirect back to its page
/// that Leptos makes of it, carrying the error in the URL.
pub fn server_fn_error(error: AppError) -> ApiError {
    let answer = error.to_api_error();
    if !is_plain_form_post() {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(error.status());
        }
    }
    answer
}

/// After a plain form post, sends the browser back to the page it came from with `notice`
/// shown there (signed: SAFETY.md §7); a call from the page's code gets its data instead and
/// shows its own toast.
pub fn back_with_notice(notice_key: &NoticeKey, notice: &str) {
    if is_plain_form_post() {
        let page = referring_path().unwrap_or_else(|| "/".to_string());
        let who = use_context::<Parts>().map(|parts| crate::server::http::notices::who(&parts.extensions)).unwrap_or_default();
        leptos_axum::redirect(&notice_key.page_with_notice(&page, notice, &who));
    }
}

/// Sends the browser to `path`, with or without JavaScript.
pub fn go_to(path: &str) {
    leptos_axum::redirect(path);
}

/// The path and query (never the host, so this cannot redirect elsewhere) of the page that
/// posted, without the banner it showed.
fn referring_path() -> Option<String> {
    let parts = use_context::<Parts>()?;
    let referer: Uri = parts.headers.get(REFERER)?.to_str().ok()?.parse().ok()?;
    let path = referer.path();
    // "//host/x" would be another site to a browser.
    if !path.starts_with('/') || path.starts_with("//") {
        return None;
    }
    let query = crate::server::http::notices::without_banner(referer.query().unwrap_or_default());
    Some(if query.is_empty() { path.to_string() } else { format!("{path}?{query}") })
}
