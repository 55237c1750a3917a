//! A page of the app as the answer to a form post that was refused (the login form): the
//! same components a `GET` of the page renders, given what the post brought through a context
//! value, under the post's own status. Pages stay the one renderer even where a form must
//! answer with HTML and a 4xx (SAFETY.md §1: a wrong password is the form again, 401).

use axum::body::Body;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use leptos::prelude::provide_context;

use crate::app::shell;
use crate::server::state::AppState;

/// Renders the page at `path` for the caller who posted (same credentials, same address), with
/// `context` provided to its components, and answers with `status`.
pub async fn drawn_again<C>(state: &AppState, mut parts: Parts, path: &'static str, context: C, status: StatusCode) -> Response
where
    C: Clone + Send + Sync + 'static,
{
    parts.method = Method::GET;
    parts.uri = Uri::from_static(path);
    parts.headers.remove(axum::http::header::CONTENT_TYPE);
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let request = Request::from_parts(parts, Body::empty());
    let with_context = {
        let state = state.clone();
        move || {
            // What the app's routes provide (`leptos_routes`), and the post's own value.
            provide_context(leptos_router::Method::Get);
            provide_context(state.clone());
            provide_context(context.clone());
        }
    };
    let options = state.leptos_options.clone();
    let render = leptos_axum::render_app_async_with_context(with_context, move || shell(options.clone()));
    let mut response = render(request).await;
    *response.status_mut() = status;
    response
}
