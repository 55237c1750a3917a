//! Builds and serves Beacon: database, router (external or the built-in demo), runner,
//! REST API and pages, on one listener. `main` and the integration tests both start here.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use leptos::config::get_configuration;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio_util::sync::CancellationToken;

use crate::app::{shell, App};

use super::config::Config;
use super::live::LiveFeed;
use super::router::{demo, RouterClient};
use super::runner::Runner;
use super::state::AppState;
use super::{api, db};

/// Request bodies above this are refused with 413: the largest legitimate body, a job with
/// every question, model and region, is a few hundred bytes.
const MAX_BODY_BYTES: usize = 64 * 1024;

pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: CancellationToken,
    served: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// Stops accepting requests and claiming work, and waits for the listener to close.
    pub async fn stop(self) {
        self.state.runner.stop();
        self.shutdown.cancel();
        let _ = self.served.await;
    }
}

pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    let db = db::connect(&config.database_url).await?;
    let router_url = match &config.router_url {
        Some(url) => url.clone(),
        None => {
            let addr = demo::spawn(SocketAddr::from(([127, 0, 0, 1], 0)), demo::DemoConfig::from_env()?).await?;
            tracing::info!(%addr, "no HYBRID_ROUTER_URL set: using the built-in demo router");
            format!("http://{addr}")
        }
    };
    let router = RouterClient::new(&router_url, config.router_timeout)?;
    let runner = Runner::new(db.clone(), router.clone(), config.region_concurrency, config.lease);
    runner.start();

    let mut leptos_options = get_configuration(None)?.leptos_options;
    if leptos_options.output_name.is_empty() {
        leptos_options.output_name = "beacon".into();
    }
    let listener = tokio::net::TcpListener::bind(config.site_addr).await?;
    let addr = listener.local_addr()?;
    leptos_options.site_addr = addr;

    let shutdown = CancellationToken::new();
    let feed = LiveFeed::start(db.clone(), shutdown.clone()).await?;
    let retries = super::services::retry::RetryCommitter::start(db.clone(), Arc::clone(&runner), shutdown.clone());
    let state = AppState { leptos_options, db, runner, router, config: Arc::new(config), feed, retries, shutdown: shutdown.clone() };
    let routes = generate_route_list(App);
    let app = Router::new()
        .merge(api::routes())
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(api::rejections::json_errors))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state.clone());

    let served = tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            let serving = axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned());
            if let Err(err) = serving.await {
                tracing::error!(%err, "server stopped");
            }
        }
    });
    tracing::info!("Beacon listening on http://{addr}");
    Ok(RunningServer { addr, state, shutdown, served })
}
