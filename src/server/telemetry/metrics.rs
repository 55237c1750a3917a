//! `GET /metrics` (OPERATIONS.md §1), Prometheus text format through the `prometheus` crate.
//! Label values come from configuration and from Beacon's own codes (statuses, triggers,
//! route templates), never from request input, so the number of series stays bounded. Gauges
//! are read at scrape time from what is already kept: the jobs' incremental counters, the
//! stream slots, the pool; nothing scans executions.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};

use std::sync::Arc;

use crate::server::config::Config;
use crate::server::db::Db;
use crate::server::http::limits::StreamSlots;

pub struct Metrics {
    registry: Registry,
    executions: IntGaugeVec,
    pub router_requests: IntCounterVec,
    pub router_duration: HistogramVec,
    pub retries: IntCounterVec,
    live_streams: IntGauge,
    http_requests: IntCounterVec,
    pool: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let executions = IntGaugeVec::new(Opts::new("beacon_executions", "Executions by status, all jobs"), &["status"]).expect("valid metric");
        let router_requests = IntCounterVec::new(
            Opts::new("beacon_router_requests_total", "Provider calls by provider, region, model and outcome (status or error code)"),
            &["provider", "region", "model", "outcome"],
        )
        .expect("valid metric");
        let router_duration = HistogramVec::new(
            HistogramOpts::new("beacon_router_request_duration_seconds", "How long provider calls took")
                .buckets(vec![0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0]),
            &["provider", "region"],
        )
        .expect("valid metric");
        let retries = IntCounterVec::new(
            Opts::new("beacon_retries_total", "Retry requests by trigger and decision (accepted, or the refusal code)"),
            &["trigger", "decision"],
        )
        .expect("valid metric");
        let live_streams = IntGauge::with_opts(Opts::new("beacon_live_streams", "Open live streams")).expect("valid metric");
        let http_requests =
            IntCounterVec::new(Opts::new("beacon_http_requests_total", "HTTP requests by route template and status class"), &["route", "status"])
                .expect("valid metric");
        let pool = IntGaugeVec::new(Opts::new("beacon_db_pool_connections", "Database connections by state"), &["state"]).expect("valid metric");
        let build = IntGaugeVec::new(Opts::new("beacon_build_info", "Beacon's version"), &["version"]).expect("valid metric");
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        for collector in [
            Box::new(executions.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(router_requests.clone()),
            Box::new(router_duration.clone()),
            Box::new(retries.clone()),
            Box::new(live_streams.clone()),
            Box::new(http_requests.clone()),
            Box::new(pool.clone()),
            Box::new(build),
        ] {
            registry.register(collector).expect("each metric is registered once");
        }
        Metrics { registry, executions, router_requests, router_duration, retries, live_streams, http_requests, pool }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// `GET /metrics`: open like `/health`, unless `BEACON_METRICS_TOKEN` asks for a bearer token
/// (which it always does with accounts on: start-up requires it then).
pub async fn scrape(
    State(config): State<Arc<Config>>,
    State(metrics): State<Arc<Metrics>>,
    State(db): State<Db>,
    State(streams): State<Arc<StreamSlots>>,
    headers: HeaderMap,
) -> Response {
    if let Some(token) = &config.metrics_token {
        let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|given| crate::server::auth::credentials::same_secret(given.trim(), token)) {
            return crate::server::error::error_response(
                crate::domain::ErrorCode::Unauthenticated,
                "send Authorization: Bearer <BEACON_METRICS_TOKEN>",
            );
        }
    }
    match crate::server::db::jobs::totals(&db).await {
        Ok(totals) => {
            for (status, count) in totals {
                metrics.executions.with_label_values(&[status]).set(count);
            }
        }
        Err(err) => tracing::warn!(%err, "could not read the execution totals for /metrics"),
    }
    metrics.live_streams.set(streams.open_count() as i64);
    let idle = db.pool.num_idle() as i64;
    metrics.pool.with_label_values(&["idle"]).set(idle);
    metrics.pool.with_label_values(&["active"]).set(db.pool.size() as i64 - idle);
    let mut body = Vec::new();
    if let Err(err) = TextEncoder::new().encode(&metrics.registry.gather(), &mut body) {
        tracing::error!(%err, "could not encode the metrics");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// Counts every request by its route template (never its path, which holds ids) and status
/// class.
pub async fn count_requests(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    // Written `/api/v1/jobs/:id`, as the API's documentation writes routes: some Prometheus
    // tools do not read braces inside label values.
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().replace('{', ":").replace('}', ""));
    let response = next.run(request).await;
    let class = match response.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    let route = route.unwrap_or_else(|| "unmatched".to_string());
    metrics.http_requests.with_label_values(&[route.as_str(), class]).inc();
    response
}
