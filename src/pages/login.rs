use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::domain::LoginRefusal;

/// `/login` (SAFETY.md §1): the name and password form. It posts to `/login` with or without
/// JavaScript; a refused login answers with this page again (`server::login`), the problem
/// and the name typed given to it as a [`LoginRefusal`], which travels to the browser with the
/// page so the hydrated form says the same.
#[component]
pub fn LoginPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
        // Accounts off: there is nobody to be.
        if use_context::<crate::server::state::AppState>().is_some_and(|state| !state.config.auth) {
            leptos_axum::redirect("/");
            response.set_status(axum::http::StatusCode::SEE_OTHER);
        }
    }
    let refusal = use_context::<LoginRefusal>();
    let refusal = Resource::new(|| (), move |_| std::future::ready(refusal.clone()));
    let query = use_query_map();
    view! {
        <leptos_meta::Title text="Log in · Beacon" />
        <section class="card login">
            <h1>"Log in"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let refusal = refusal.await;
                    let next = refusal.as_ref().map(|r| r.next.clone()).or_else(|| query.read_untracked().get("next")).unwrap_or_default();
                    let name = refusal.as_ref().map(|r| r.name.clone()).unwrap_or_default();
                    view! {
                        {refusal.map(|r| view! { <p class="error-banner" role="alert" data-testid="login-error">{r.problem}</p> })}
                        <form method="post" action="/login">
                            <input type="hidden" name="next" value=next />
                            <label>"User name " <input name="username" autocomplete="username" required value=name /></label>
                            <label>"Password " <input name="password" type="password" autocomplete="current-password" required /></label>
                            <button type="submit">"Log in"</button>
                        </form>
                    }
                })}
            </Suspense>
        </section>
    }
}
