//! The built-in demo router: the real router protocol over HTTP, with providers that scale to
//! zero. Each (region, model) starts cold; its first requests fail the way real cold starts
//! do, then it is warm and answers deterministically from the prompt until it has been idle
//! long enough to go cold again. Beacon runs it on a loopback port when no
//! `HYBRID_ROUTER_URL` is set; `beacon demo-router` runs it alone.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::sync::Mutex;

use super::protocol::{HealthResponse, InferenceRequest, InferenceResponse};

/// How the demo's providers behave. Every field can be set from the environment
/// (`DEMO_COLD_REQUESTS`, `DEMO_COLD_FAIL_MS`, `DEMO_COLD_HANG_MS`, `DEMO_WARM_LATENCY_MS`,
/// `DEMO_IDLE_COOLDOWN_SECONDS`, `DEMO_DOWN`) so tests can run a whole cold start in seconds.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Requests a cold (region, model) fails before it is warm.
    pub cold_requests: u32,
    /// How long a cold us-east request takes to fail with "app … is stopped".
    pub cold_fail: Duration,
    /// How long a cold eu-west / asia-pacific request hangs before the proxy answers 504;
    /// longer than Beacon's time-out, it shows as a time-out.
    pub cold_hang: Duration,
    /// How long a warm answer takes.
    pub warm_latency: Duration,
    /// Idle time after which a provider scales to zero again.
    pub idle_cooldown: Duration,
    /// `(router region, model)` pairs whose provider is broken: every request fails like a
    /// stopped app (`DEMO_DOWN=asia-pacific/mistral-7b,…`).
    pub down: Vec<(String, String)>,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            cold_requests: 2,
            cold_fail: Duration::from_millis(1500),
            cold_hang: Duration::from_secs(20),
            warm_latency: Duration::from_millis(800),
            idle_cooldown: Duration::from_secs(600),
            down: Vec::new(),
        }
    }
}

impl DemoConfig {
    pub fn from_env() -> anyhow::Result<DemoConfig> {
        let defaults = DemoConfig::default();
        let read = |name: &str| -> anyhow::Result<Option<u64>> {
            match std::env::var(name) {
                Ok(v) if !v.trim().is_empty() => {
                    v.trim().parse::<u64>().map(Some).map_err(|_| anyhow::anyhow!("{name}={v:?}: must be a whole number"))
                }
                _ => Ok(None),
            }
        };
        let ms = |name, default: Duration| -> anyhow::Result<Duration> { Ok(read(name)?.map(Duration::from_millis).unwrap_or(default)) };
        Ok(DemoConfig {
            cold_requests: read("DEMO_COLD_REQUESTS")?.map(|n| u32::try_from(n).unwrap_or(u32::MAX)).unwrap_or(defaults.cold_requests),
            cold_fail: ms("DEMO_COLD_FAIL_MS", defaults.cold_fail)?,
            cold_hang: ms("DEMO_COLD_HANG_MS", defaults.cold_hang)?,
            warm_latency: ms("DEMO_WARM_LATENCY_MS", defaults.warm_latency)?,
            idle_cooldown: read("DEMO_IDLE_COOLDOWN_SECONDS")?.map(Duration::from_secs).unwrap_or(defaults.idle_cooldown),
            down: parse_down(&std::env::var("DEMO_DOWN").unwrap_or_default())?,
        })
    }
}

/// The regions the demo router serves: the same three as Beacon's built-in configuration, which
/// it imitates (it is a stand-in for the external router, so it keeps its own list).
pub struct DemoRegion {
    pub id: &'static str,
    pub label: &'static str,
    aliases: &'static [&'static str],
}

pub const DEMO_REGIONS: [DemoRegion; 3] = [
    DemoRegion { id: "us-east", label: "United States", aliases: &["us"] },
    DemoRegion { id: "eu-west", label: "Europe", aliases: &["eu"] },
    DemoRegion { id: "asia-pacific", label: "Asia Pacific", aliases: &["asia", "apac"] },
];

impl DemoRegion {
    fn find(raw: &str) -> Option<&'static DemoRegion> {
        let raw = raw.trim().to_ascii_lowercase();
        DEMO_REGIONS.iter().find(|r| r.id == raw || r.aliases.contains(&raw.as_str()))
    }
}

fn parse_down(raw: &str) -> anyhow::Result<Vec<(String, String)>> {
    raw.split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (region, model) = pair.split_once('/').ok_or_else(|| anyhow::anyhow!("DEMO_DOWN entry {pair:?}: expected region/model"))?;
            let region = DemoRegion::find(region).ok_or_else(|| anyhow::anyhow!("DEMO_DOWN entry {pair:?}: unknown region"))?;
            Ok((region.id.to_string(), model.to_string()))
        })
        .collect()
}

#[derive(Default)]
struct Provider {
    /// Cold requests failed since this provider last went cold.
    cold_failures: u32,
    last_used: Option<Instant>,
}

struct DemoState {
    config: DemoConfig,
    providers: Mutex<HashMap<(String, String), Provider>>,
}

pub fn app(config: DemoConfig) -> Router {
    let state = Arc::new(DemoState { config, providers: Mutex::new(HashMap::new()) });
    Router::new()
        .route("/inference", post(inference))
        // The same providers, as OpenAI-compatible servers, one per region
        // (`base_url = "http://…/openai/us-east/v1"`): for trying Beacon's openai provider kind.
        .route("/openai/{region}/v1/chat/completions", post(openai_chat))
        .route("/health", get(health))
        .with_state(state)
}

/// Serves the demo router on `addr` (port 0 picks a free one) and returns the bound address.
pub async fn spawn(addr: SocketAddr, config: DemoConfig) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app(config)).await {
            tracing::error!(%err, "demo router stopped");
        }
    });
    Ok(bound)
}

async fn health() -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "healthy".into(),
        providers_total: DEMO_REGIONS.len() as i64,
        providers_healthy: DEMO_REGIONS.len() as i64,
        regions: DEMO_REGIONS.iter().map(|r| r.id.to_string()).collect(),
    })
}

/// What the (region, model) provider does with this request: cold ones fail (us-east fast, the
/// others after hanging) until they have failed `cold_requests` times; broken ones always fail.
async fn behaviour(state: &DemoState, region: &DemoRegion, model: &str) -> Behaviour {
    let mut providers = state.providers.lock().await;
    let entry = providers.entry((region.id.to_string(), model.to_string())).or_default();
    let now = Instant::now();
    if entry.last_used.is_some_and(|t| now.duration_since(t) > state.config.idle_cooldown) {
        entry.cold_failures = 0;
    }
    entry.last_used = Some(now);
    let down = state.config.down.iter().any(|(r, m)| r == region.id && m == model);
    if down {
        Behaviour::Stopped
    } else if entry.cold_failures < state.config.cold_requests {
        entry.cold_failures += 1;
        // us-east's provider is a stopped app; the others wait behind a proxy.
        if region.id == DEMO_REGIONS[0].id {
            Behaviour::Stopped
        } else {
            Behaviour::ProxyTimeout
        }
    } else {
        Behaviour::Answer
    }
}

/// `POST /openai/{region}/v1/chat/completions`: the region's providers as an OpenAI-compatible
/// server. A cold start is a 503 (or a 504 after hanging); a warm provider answers a chat
/// completion with the same deterministic text as `/inference`.
async fn openai_chat(
    State(state): State<Arc<DemoState>>,
    axum::extract::Path(region): axum::extract::Path<String>,
    body: Result<Json<serde_json::Value>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let (Some(region), Ok(Json(body))) = (DemoRegion::find(&region), body) else {
        return (StatusCode::BAD_REQUEST, Json(serde_json::json!({"error": {"message": "unknown region or invalid body"}}))).into_response();
    };
    let model = body["model"].as_str().unwrap_or_default().to_string();
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let text_of = |role: &str| messages.iter().rev().find(|m| m["role"] == role).and_then(|m| m["content"].as_str()).unwrap_or_default().to_string();
    let prompt = format!("{}\n\nUser: {}\nAssistant:", text_of("system"), text_of("user"));
    match behaviour(&state, region, &model).await {
        Behaviour::Stopped => {
            tokio::time::sleep(state.config.cold_fail).await;
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"error": {"message": "model is loading (cold start)"}}))).into_response()
        }
        Behaviour::ProxyTimeout => {
            tokio::time::sleep(state.config.cold_hang).await;
            (StatusCode::GATEWAY_TIMEOUT, "upstream request timeout").into_response()
        }
        Behaviour::Answer => {
            tokio::time::sleep(state.config.warm_latency).await;
            let content = if text_of("user") == "Reply with OK." { "OK".to_string() } else { answer(&model, region, &prompt) };
            Json(serde_json::json!({
                "id": "chatcmpl-demo", "object": "chat.completion", "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": prompt.len() / 4, "completion_tokens": 12},
            }))
            .into_response()
        }
    }
}

/// What a provider does with one request.
enum Behaviour {
    /// Fails after `cold_fail` like a stopped Modal app (cold us-east, or a broken provider).
    Stopped,
    /// Hangs for `cold_hang` waiting for a container, then the proxy answers 504.
    ProxyTimeout,
    Answer,
}

async fn inference(State(state): State<Arc<DemoState>>, body: Result<Json<InferenceRequest>, axum::extract::rejection::JsonRejection>) -> Response {
    let Ok(Json(request)) = body else {
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(serde_json::json!({"detail": "invalid request body"}))).into_response();
    };
    let region = request.region_preference.as_deref().and_then(DemoRegion::find).unwrap_or(&DEMO_REGIONS[0]);
    let provider = format!("modal-{}", region.id);
    let behaviour = behaviour(&state, region, &request.model).await;

    match behaviour {
        Behaviour::Stopped => {
            tokio::time::sleep(state.config.cold_fail).await;
            Json(InferenceResponse {
                success: false,
                error: Some("app for invoked web endpoint is stopped".into()),
                error_code: Some("PROVIDER_COLD".into()),
                provider_used: Some(provider),
                ..Default::default()
            })
            .into_response()
        }
        Behaviour::ProxyTimeout => {
            // Waiting for a GPU container until the proxy in front gives up.
            tokio::time::sleep(state.config.cold_hang).await;
            (StatusCode::GATEWAY_TIMEOUT, "upstream request timeout").into_response()
        }
        Behaviour::Answer => {
            let started = Instant::now();
            tokio::time::sleep(state.config.warm_latency).await;
            let answer = answer(&request.model, region, &request.prompt);
            Json(InferenceResponse {
                success: true,
                response: Some(answer),
                provider_used: Some(provider.clone()),
                inference_time: Some(started.elapsed().as_secs_f64()),
                cost_estimate: Some(0.0),
                metadata: Some(serde_json::json!({
                    "provider_type": "modal",
                    "region": region.id,
                    "model": request.model,
                    "receipt": null,
                })),
                ..Default::default()
            })
            .into_response()
        }
    }
}

/// The scripted answer (see [`super::demo_script`]) to the prompt's question.
fn answer(model: &str, region: &DemoRegion, prompt: &str) -> String {
    let question = prompt.rsplit("User: ").next().unwrap_or(prompt);
    let question = question.split("\nAssistant:").next().unwrap_or(question).trim();
    super::demo_script::answer(model, region.id, region.label, question)
}
