//! Integration tests: each starts a real Beacon (HTTP on a loopback port, a fresh SQLite
//! database) against a real HTTP router on another loopback port, and talks to it as a
//! script or browser would.

mod helpers;
mod openai_server;
mod test_router;

mod accounts;
mod analysis;
mod auto_retries;
mod counters;
mod cross_site;
mod demo_router;
mod exports;
mod hardening;
mod jobs;
mod leases_and_cancel;
mod limits;
mod live_events;
mod multi_instance;
mod openapi;
mod operations;
mod pages;
mod paging;
mod providers;
mod questions;
mod questions_page;
mod retries;
mod router_failures;
mod shutdown;
mod typed_core;
mod validation;
