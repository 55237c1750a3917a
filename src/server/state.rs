use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::config::Config;
use super::db::Db;
use super::error::AppError;
use super::live::LiveFeed;
use super::runner::Runner;

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
    pub mutation_limiter: Option<Arc<super::http::limits::MutationLimiter>>,
    pub streams: Arc<super::http::limits::StreamSlots>,
    pub metrics: Arc<super::telemetry::metrics::Metrics>,
    /// Accepts retries in groups (one transaction for those that arrive together).
    pub retries: Arc<super::services::retry::RetryCommitter>,
    /// Signs the notices put in page addresses (SAFETY.md §7).
    pub notice_key: Arc<super::http::notices::NoticeKey>,
    /// Cancelled when the server begins to stop: ends the live streams, which would otherwise
    /// keep the graceful shutdown waiting forever.
    pub shutdown: tokio_util::sync::CancellationToken,
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

/// leptos_axum reads its options from the router's state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> LeptosOptions {
        state.leptos_options.clone()
    }
}
