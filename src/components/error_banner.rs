use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::domain::ApiError;

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

/// What a form posted without JavaScript came back with: the server function's notice on
/// success (`?notice=`), or its error, which Leptos puts in the URL (`?__err=`).
#[component]
pub fn FormOutcome() -> impl IntoView {
    let query = use_query_map();
    let notice = move || query.read().get("notice");
    let error = move || query.read().get("__err").map(|encoded| leptos::server_fn::error::ServerFnUrlError::<ApiError>::decode_err(&encoded).error);
    view! {
        {move || error().map(|message| view! { <ErrorBanner message /> })}
        {move || notice().map(|message| view! { <NoticeBanner message /> })}
    }
}

/// A page whose data could not be loaded: "not found" for a job or execution that does not
/// exist (404), otherwise the failure (the error's own status; 500 when the server failed).
/// On the server it also sets the page's HTTP status.
#[component]
pub fn LoadError(error: ApiError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::from_u16(error.status).unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR));
    }
    let heading = if error.is_not_found() {
        "Not found"
    } else if error.status >= 500 {
        "This page could not be loaded"
    } else {
        "This address is not valid"
    };
    view! {
        <section class="panel load-error" data-testid="load-error" data-status=error.status.to_string()>
            <h1>{heading}</h1>
            <ErrorBanner message=error.error />
            <p><a href="/">"Back to the jobs"</a></p>
        </section>
    }
}

/// A page's body once `resource` has loaded: `show` with its data, or [`LoadError`]. The
/// server waits for it (the pages render async), so the first HTML is complete.
pub fn loaded<T, V, Show>(resource: Resource<Result<T, ApiError>>, show: Show) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    V: IntoView + 'static,
    Show: Fn(T) -> V + Clone + Send + Sync + 'static,
{
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let show = show.clone();
                let visitor = super::visitor::loading();
                Suspend::new(async move {
                    if let Some(visitor) = visitor {
                        visitor.await;
                    }
                    match resource.await {
                        Ok(data) => show(data).into_any(),
                        Err(error) => view! { <LoadError error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
