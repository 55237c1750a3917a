//! Builds and serves Beacon: database, router (external or the built-in demo), runner,
//! REST API and pages, on one listener. `main` and the integration tests both start here.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::post;
use axum::Router;
use leptos::config::get_configuration;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio_util::sync::CancellationToken;

use crate::app::{shell, App};

use super::config::Config;
use super::live::LiveFeed;
use super::router::demo;
use super::runner::Runner;
use super::state::{AppState, Shared};
use super::{api, auth, db, http, login, questions_upload, telemetry};

/// Request bodies above this are refused with 413 (SAFETY.md §3).
const MAX_BODY_BYTES: usize = 64 * 1024;
/// Connections the runner keeps for itself: lease renewals, claims and outcomes.
const RUNNER_CONNECTIONS: u32 = 4;

pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    /// Closes the listener.
    stop_accepting: CancellationToken,
    /// Stops the live feed and the retry committer, last of all.
    background: CancellationToken,
    served: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// The graceful stop of SAFETY.md §5: no new work is claimed and no new connection
    /// accepted; router calls in flight get `BEACON_SHUTDOWN_SECONDS` to finish and be
    /// recorded; whatever still runs then is marked `error`/`INTERRUPTED` with its attempt
    /// closed and its lease released, so it is retryable at once after a restart. Live streams
    /// end, open requests finish, and the background tasks stop.
    pub async fn stop(self) {
        let grace = self.state.config.shutdown_grace;
        self.state.runner.stop_claiming();
        self.stop_accepting.cancel();
        self.state.shutdown.cancel();
        self.state.runner.finish_in_flight(grace).await;
        let _ = self.served.await;
        self.background.cancel();
    }

    /// As if the process had been killed: nothing is finished or recorded, leases are left
    /// to expire. For tests of crash recovery.
    pub async fn halt(self) {
        self.state.runner.halt();
        self.stop_accepting.cancel();
        self.state.shutdown.cancel();
        let _ = self.served.await;
        self.background.cancel();
    }
}

pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    let db = db::connect_with(&config.database_url, config.sqlite_synchronous).await?;
    // Hybrid-router providers without a base_url (the built-in ones) use HYBRID_ROUTER_URL, or
    // the demo router when that is unset; a configuration without them needs neither.
    let needs_router = config.setup.providers.iter().any(|p| p.base_url.is_none());
    let router_url = match &config.router_url {
        Some(url) => url.clone(),
        None if !needs_router => String::new(),
        None => {
            let addr = demo::spawn(SocketAddr::from(([127, 0, 0, 1], 0)), demo::DemoConfig::from_env()?).await?;
            tracing::info!(%addr, "no HYBRID_ROUTER_URL set: using the built-in demo router");
            format!("http://{addr}")
        }
    };
    let providers = super::providers::build(&config.setup.providers, &router_url)?;
    tracing::info!(configuration = %config.setup.source, providers = providers.len(), "regions, models and providers");
    let runner_db = db.with_own_connections(RUNNER_CONNECTIONS).await?.in_background();
    let metrics = Arc::new(telemetry::metrics::Metrics::new());
    let runner = Runner::new(runner_db, providers, config.lease, config.setup.defaults.auto_retry_backoff.clone(), Arc::clone(&metrics));
    runner.start();

    let mut leptos_options = get_configuration(None)?.leptos_options;
    if leptos_options.output_name.is_empty() {
        leptos_options.output_name = "beacon".into();
    }
    let listener = tokio::net::TcpListener::bind(config.site_addr).await?;
    let addr = listener.local_addr()?;
    leptos_options.site_addr = addr;

    let background = CancellationToken::new();
    let feed = LiveFeed::start(db.clone(), background.clone()).await?;
    let retries = super::services::retry::RetryCommitter::start(db.clone(), Arc::clone(&runner), Arc::clone(&metrics), background.clone());
    super::services::housekeeping::start(db.clone(), background.clone());
    if config.open_to_the_network() {
        tracing::warn!(addr = %config.site_addr, "BEACON_AUTH=off on a network address: anyone who can reach it can start, retry and cancel jobs");
    }
    let notice_key = db::site_keys::get_or_create(&db, http::notices::KEY_NAME, &super::auth::credentials::random_secret()).await?;
    let state = AppState::new(Shared {
        leptos_options,
        db,
        runner,
        mutation_limiter: config.mutation_rate.map(|rate| Arc::new(http::limits::MutationLimiter::new(rate))),
        streams: http::limits::StreamSlots::new(config.max_streams, config.max_streams_per_client),
        metrics,
        config: Arc::new(config),
        feed,
        retries,
        notice_key: Arc::new(http::notices::NoticeKey::new(&notice_key)),
        shutdown: CancellationToken::new(),
    });
    let app = app(&state);
    let stop_accepting = CancellationToken::new();
    let served = tokio::spawn(http::listener::serve(listener, app, stop_accepting.clone(), state.config.trusted_proxies.clone()));
    tracing::info!("Beacon listening on http://{addr}");
    Ok(RunningServer { addr, state, stop_accepting, background, served })
}

/// `/pkg`: the WASM module, its JavaScript and the style sheet, straight from the site folder.
fn static_files(options: &leptos::config::LeptosOptions) -> tower_http::services::ServeDir {
    tower_http::services::ServeDir::new(format!("{}/{}", options.site_root, options.site_pkg_dir))
}

/// A path no route has: under `/api/` a JSON 404, elsewhere the app's not-found page.
async fn not_found(State(state): State<AppState>, request: axum::extract::Request) -> axum::response::Response {
    if let Some(answer) = api::rejections::api_not_found(request.method(), request.uri()) {
        return answer;
    }
    let uri = request.uri().clone();
    leptos_axum::file_and_error_handler::<AppState, _>(shell)(uri, State(state), request).await
}

/// The routes, and around them the rules every request passes, outermost first: security
/// headers, JSON errors under `/api/`, one spelling per path and ordinary methods only, the
/// Host check, the cross-site check, who is calling
/// and whether they may, the mutation rate, the request time-out, the body limit.
fn app(state: &AppState) -> Router {
    // Read once per process: while Leptos walks the app for its routes it holds every
    // resource in the process from loading, so a second server starting (tests start many)
    // would stall pages another one is rendering.
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    let routes = ROUTES.get_or_init(|| generate_route_list(App)).clone();
    // A request out of time is answered by `layer_failed`, in Beacon's error shape.
    let timeout = tower::ServiceBuilder::new()
        .layer(axum::error_handling::HandleErrorLayer::new(api::rejections::layer_failed))
        .timeout(state.config.request_timeout);
    Router::new()
        .merge(api::routes())
        // `GET /login` is the app's page; these are its form's target and the top bar's button.
        .route("/login", post(login::log_in))
        .route("/logout", post(login::log_out))
        // An upload may be as large as the API's largest import.
        .route(
            crate::serverfns::questions::UPLOAD_QUESTIONS_PATH,
            post(questions_upload::upload).layer(DefaultBodyLimit::max(questions_upload::MAX_UPLOAD_BYTES)),
        )
        .leptos_routes(state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        // The app's own files: a miss is a plain 404, never a page (SAFETY.md §7).
        .nest_service(&format!("/{}", state.leptos_options.site_pkg_dir), static_files(&state.leptos_options))
        .fallback(not_found)
        .method_not_allowed_fallback(api::rejections::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(timeout)
        .layer(from_fn_with_state(state.clone(), http::notices::sign_form_errors))
        .layer(from_fn(api::rejections::server_fn_status))
        .layer(from_fn_with_state(state.clone(), http::limits::limit_mutations))
        // Inside the access rule: a banner is signed for the caller's credential.
        .layer(from_fn_with_state(state.clone(), http::notices::only_signed))
        .layer(from_fn_with_state(state.clone(), auth::authenticate))
        .layer(from_fn_with_state(state.clone(), http::cross_site::refuse_cross_site))
        .layer(from_fn_with_state(state.clone(), http::cross_site::check_host))
        .layer(from_fn(http::paths::one_spelling))
        .layer(from_fn_with_state(state.clone(), http::client_address::resolve))
        .layer(from_fn(http::headers::security_headers))
        .layer(from_fn_with_state(state.clone(), telemetry::metrics::count_requests))
        // Every request's log lines carry its id (kept from the request, else new), and the
        // response echoes it.
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(|request: &axum::extract::Request| {
                    let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
                    tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path())
                })
                .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id())
        .layer(tower_http::request_id::SetRequestIdLayer::x_request_id(tower_http::request_id::MakeRequestUuid))
        // Outermost: a request id that could write into the log lines is replaced by a new one.
        .layer(from_fn(http::headers::drop_unsafe_request_id))
        .with_state(state.clone())
}
