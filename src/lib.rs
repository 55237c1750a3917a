#![recursion_limit = "512"]
//! Beacon: cross-region LLM bias-detection jobs, a live progress table, and retries.
//!
//! `domain` is shared by the server and the browser; `server` runs only on the server
//! (feature `ssr`); `app`, `pages` and `components` render on both; `serverfns` are the
//! page's calls into the server.

pub mod app;
pub mod components;
pub mod domain;
pub mod pages;
pub mod serverfns;

#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
