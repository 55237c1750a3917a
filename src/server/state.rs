use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::config::Config;
use super::db::Db;
use super::error::AppError;
use super::live::LiveFeed;
use super::runner::Runner;

/// Everything a request handler or server function may need, built once at start-up.
#[derive(Clone, FromRef)]
pub struct AppState {
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
    /// Cancelled when the server begins to stop: ends the live streams, which would otherwise
    /// keep the graceful shutdown waiting forever.
    pub shutdown: tokio_util::sync::CancellationToken,
}

impl AppState {
    /// The state inside a server function (leptos_axum provides it as context).
    pub fn from_context() -> Result<AppState, AppError> {
        leptos::prelude::use_context::<AppState>()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("AppState missing from the server function context")))
    }
}
