use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::components::visitor::{provide_visitor, AccountMenu};
use crate::components::{provide_toaster, ToastRegion};
use crate::pages::{AdminPage, AnalysisPage, ApiDocsPage, ComparePage, ExecutionPage, HomePage, JobPage, LoginPage, NotFound, QuestionsPage};

/// The HTML document around the app (server only renders this).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The page's Content-Security-Policy names the nonce Leptos puts on its inline scripts.
    #[cfg(feature = "ssr")]
    crate::server::http::headers::policy_for_this_page();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The first focusable element of every page (UI.md §3): on a job page it skips to the
/// executions, elsewhere to the content.
#[component]
fn SkipLink() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let on_job_page = move || {
        let path = location.pathname.get();
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        segments.len() == 2 && segments[0] == "jobs"
    };
    view! {
        <a class="skip-link" href=move || if on_job_page() { "#executions" } else { "#main" } data-testid="skip-link">
            {move || if on_job_page() { "Skip to the executions" } else { "Skip to the content" }}
        </a>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_toaster();
    provide_visitor();
    // Set by an effect, which only ever runs in the browser: tests (and curious humans) can
    // tell server HTML from a hydrated page.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <Stylesheet id="leptos" href="/pkg/beacon.css" />
        <Title text="Beacon" />
        <Router>
            <div class="app" data-hydrated=move || hydrated.get().to_string()>
                <SkipLink />
                <header class="topbar">
                    <a class="brand" href="/">"Beacon"</a>
                    <span class="tagline">"cross-region LLM bias detection"</span>
                    <nav class="topnav" aria-label="Sections">
                        <a href="/">"Jobs"</a>
                        <a href="/questions">"Questions"</a>
                        <a href="/api/docs">"API"</a>
                    </nav>
                    <AccountMenu />
                </header>
                <main id="main">
                    // Async: the pages' tables must be complete in the first HTML, before any
                    // WASM has loaded (PRODUCT.md §6).
                    <Routes fallback=NotFound>
                        <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                        <Route path=path!("/jobs/:id") view=JobPage ssr=SsrMode::Async />
                        <Route path=path!("/jobs/:id/compare") view=ComparePage ssr=SsrMode::Async />
                        <Route path=path!("/jobs/:id/analysis") view=AnalysisPage ssr=SsrMode::Async />
                        <Route path=path!("/executions/:id") view=ExecutionPage ssr=SsrMode::Async />
                        <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                        <Route path=path!("/questions") view=QuestionsPage ssr=SsrMode::Async />
                        <Route path=path!("/admin") view=AdminPage ssr=SsrMode::Async />
                        <Route path=path!("/api/docs") view=ApiDocsPage ssr=SsrMode::Async />
                    </Routes>
                </main>
                <ToastRegion />
            </div>
        </Router>
    }
}
