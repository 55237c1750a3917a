//! A scriptable OpenAI-compatible server on a loopback port (`POST /v1/chat/completions`),
//! recording every request with its headers and arrival time, and how many were in flight.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

#[derive(Clone, Debug)]
pub enum Chat {
    /// A chat completion with this content.
    Answer(String),
    /// This status and body, with an optional `Retry-After` (seconds).
    Status(u16, String, Option<u64>),
    /// A 200 with this raw body.
    Raw(String),
    Hang,
    After(Duration, Box<Chat>),
}

#[derive(Clone, Debug)]
pub struct Received {
    pub at: Instant,
    pub authorization: Option<String>,
    pub body: Vec<u8>,
    pub json: Value,
}

type Script = dyn Fn(&Value, usize) -> Chat + Send + Sync;

struct Shared {
    script: Box<Script>,
    received: Mutex<Vec<Received>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

#[derive(Clone)]
pub struct OpenAiServer {
    /// The `base_url` a provider is given (`…/v1`).
    pub base_url: String,
    shared: Arc<Shared>,
}

impl OpenAiServer {
    /// `script(body, n)`: the reply to the n-th request (0-based) with the same messages.
    pub async fn start(script: impl Fn(&Value, usize) -> Chat + Send + Sync + 'static) -> OpenAiServer {
        let shared = Arc::new(Shared {
            script: Box::new(script),
            received: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let app = Router::new().route("/v1/chat/completions", post(handle)).with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        OpenAiServer { base_url: format!("http://{addr}/v1"), shared }
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }
}

struct InFlight(Arc<Shared>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let now_open = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.max_in_flight.fetch_max(now_open, Ordering::SeqCst);
    let _guard = InFlight(Arc::clone(&shared));
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let nth = {
        let mut received = shared.received.lock().unwrap();
        let nth = received.iter().filter(|r| r.json["messages"] == json["messages"] && r.json["model"] == json["model"]).count();
        received.push(Received {
            at: Instant::now(),
            authorization: headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string),
            body: body.to_vec(),
            json: json.clone(),
        });
        nth
    };
    let mut reply = (shared.script)(&json, nth);
    while let Chat::After(pause, inner) = reply {
        tokio::time::sleep(pause).await;
        reply = *inner;
    }
    match reply {
        Chat::Answer(text) => axum::Json(json!({
            "id": "chatcmpl-test", "object": "chat.completion", "model": format!("{}-served", json["model"].as_str().unwrap_or("")),
            "system_fingerprint": "fp_test",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 21, "completion_tokens": 5, "total_tokens": 26}
        }))
        .into_response(),
        Chat::Status(status, body, retry_after) => {
            let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
            if let Some(seconds) = retry_after {
                response.headers_mut().insert("retry-after", seconds.to_string().parse().unwrap());
            }
            response
        }
        Chat::Raw(body) => (StatusCode::OK, [("content-type", "application/json")], body).into_response(),
        Chat::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Chat::After(..) => unreachable!("unwrapped above"),
    }
}

/// The question of a chat body (its user message).
pub fn question(body: &Value) -> String {
    body["messages"].as_array().and_then(|m| m.last()).and_then(|m| m["content"].as_str()).unwrap_or_default().to_string()
}
