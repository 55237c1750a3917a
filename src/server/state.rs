use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::config::Config;
use super::db::Db;
use super::error::AppError;
use super::http::limits::{MutationLimiter, StreamSlots};
use super::http::notices::NoticeKey;
use super::live::LiveFeed;
use super::runner::Runner;
use super::services::retry::RetryCommitter;
use super::telemetry::metrics::Metrics;
use tokio_util::sync::CancellationToken;

/// Everything a request handler or server function may need, built once at start-up. Every
/// middleware layer and extractor clones the state for each request, so it is one shared
/// pointer rather than the whole set of handles.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub runner: Arc<Runner>,
    pub config: Arc<Config>,
    pub feed: Arc<LiveFeed>,
    /// `None` with `BEACON_MUTATION_RATE=off`.
    pub mutation_limiter: Option<Arc<MutationLimiter>>,
    pub streams: Arc<StreamSlots>,
    pub metrics: Arc<Metrics>,
    /// Accepts retries in groups (one transaction for those that arrive together).
    pub retries: Arc<RetryCommitter>,
    /// Signs the notices put in page addresses (SAFETY.md §7).
    pub notice_key: Arc<NoticeKey>,
    /// Cancelled when the server begins to stop: ends the live streams, which would otherwise
    /// keep the graceful shutdown waiting forever.
    pub shutdown: CancellationToken,
}

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }

    /// The state inside a server function (leptos_axum provides it as context).
    pub fn from_context() -> Result<AppState, AppError> {
        leptos::prelude::use_context::<AppState>()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("AppState missing from the server function context")))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The narrow pieces handlers, middleware and extractors ask for (`State<Db>`,
/// `State<Arc<Config>>`, …): a function names only what it uses, and nothing below this module
/// needs to know the whole state exists (which is what keeps the import graph free of cycles).
macro_rules! sub_states {
    ($($field:ident: $ty:ty),* $(,)?) => {$(
        impl FromRef<AppState> for $ty {
            fn from_ref(state: &AppState) -> $ty {
                state.$field.clone()
            }
        }
    )*};
}

impl FromRef<AppState> for super::live::streams::Streams {
    fn from_ref(state: &AppState) -> Self {
        let (db, feed, slots, shutdown) = (state.db.clone(), state.feed.clone(), state.streams.clone(), state.shutdown.clone());
        super::live::streams::Streams { db, feed, slots, shutdown }
    }
}

sub_states! {
    leptos_options: LeptosOptions,
    db: Db,
    runner: Arc<Runner>,
    config: Arc<Config>,
    feed: Arc<LiveFeed>,
    mutation_limiter: Option<Arc<MutationLimiter>>,
    streams: Arc<StreamSlots>,
    metrics: Arc<Metrics>,
    retries: Arc<RetryCommitter>,
    notice_key: Arc<NoticeKey>,
    shutdown: CancellationToken,
}
