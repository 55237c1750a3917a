//! Security headers (SAFETY.md §2). Every response says `nosniff` and `Referrer-Policy:
//! same-origin`; every HTML response carries a Content-Security-Policy that lets scripts run
//! only from Beacon itself or with the page's nonce. Leptos puts that nonce on its hydration
//! and streaming scripts, so pages rendered by the app get a policy naming it
//! ([`policy_for_this_page`]); any other HTML gets the policy without a nonce.

use axum::extract::Request;
use axum::http::header::{self, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The policy, with the page's nonce when it has inline scripts. `'wasm-unsafe-eval'` lets the
/// browser compile the app's WASM; nothing may frame Beacon (click-jacking).
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let scripts = match nonce {
        Some(nonce) => format!("'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        None => "'self' 'wasm-unsafe-eval'".to_string(),
    };
    format!(
        "default-src 'self'; script-src {scripts}; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Called while the app's shell renders: the policy for this response names its nonce.
pub fn policy_for_this_page() {
    let nonce = leptos::nonce::use_nonce();
    let policy = content_security_policy(nonce.as_deref());
    if let (Some(response), Ok(value)) = (leptos::prelude::use_context::<leptos_axum::ResponseOptions>(), HeaderValue::from_str(&policy)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    let is_html = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).is_some_and(|value| value.starts_with("text/html"));
    if is_html && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(value) = HeaderValue::from_str(&content_security_policy(None)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    if is_html {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

/// A client's `X-Request-Id` is kept for its log lines only when it is 1–64 letters, digits,
/// `-`, `_` or `.`: anything else (spaces, braces, newlines) could forge log content, and is
/// dropped so that a new id is made.
pub async fn drop_unsafe_request_id(mut request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let safe = |id: &[u8]| !id.is_empty() && id.len() <= 64 && id.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    let ids = request.headers().get_all("x-request-id");
    if ids.iter().count() > 1 || ids.iter().any(|id| !safe(id.as_bytes())) {
        request.headers_mut().remove("x-request-id");
    }
    next.run(request).await
}
