//! A scriptable inference router on a loopback port that records every request it receives.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use beacon::server::router::protocol::InferenceRequest;

#[derive(Clone, Debug)]
pub enum Reply {
    /// `success: true` with this answer.
    Answer(String),
    /// `success: false` with this error.
    Fail(String),
    /// A non-2xx status with this body.
    Http(u16, String),
    /// A 200 whose body is this raw text.
    Raw(String),
    /// Never answers within any sensible time-out.
    Hang,
    /// The inner reply, after a pause.
    After(Duration, Box<Reply>),
}

type Script = dyn Fn(&InferenceRequest, usize) -> Reply + Send + Sync;

struct Shared {
    script: Box<Script>,
    received: Mutex<Vec<Vec<u8>>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

#[derive(Clone)]
pub struct TestRouter {
    pub url: String,
    shared: Arc<Shared>,
}

impl TestRouter {
    /// `script(request, n)` decides the reply to the n-th request (0-based) for the same
    /// (region, model, prompt).
    pub async fn start(script: impl Fn(&InferenceRequest, usize) -> Reply + Send + Sync + 'static) -> TestRouter {
        let shared = Arc::new(Shared {
            script: Box::new(script),
            received: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let app = Router::new().route("/inference", post(handle)).with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TestRouter { url: format!("http://{addr}"), shared }
    }

    pub async fn answering() -> TestRouter {
        TestRouter::start(|req, _| Reply::Answer(format!("answer to {} <script>alert(1)</script>", req.model))).await
    }

    /// Raw bodies received, in order.
    pub fn received(&self) -> Vec<Vec<u8>> {
        self.shared.received.lock().unwrap().clone()
    }

    pub fn received_requests(&self) -> Vec<InferenceRequest> {
        self.received().iter().map(|b| serde_json::from_slice(b).unwrap()).collect()
    }

    /// Requests whose handler is still running (the client has not gone away).
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    /// The most requests this router ever had open at once.
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

async fn handle(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let now_open = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.max_in_flight.fetch_max(now_open, Ordering::SeqCst);
    let _guard = InFlight(Arc::clone(&shared));
    let request: InferenceRequest = serde_json::from_slice(&body).expect("Beacon sent a valid request");
    let nth = {
        let mut received = shared.received.lock().unwrap();
        let nth = received.iter().filter(|b| serde_json::from_slice::<InferenceRequest>(b).map(|r| r == request).unwrap_or(false)).count();
        received.push(body.to_vec());
        nth
    };
    let mut reply = (shared.script)(&request, nth);
    while let Reply::After(pause, inner) = reply {
        tokio::time::sleep(pause).await;
        reply = *inner;
    }
    match reply {
        Reply::Answer(text) => axum::Json(serde_json::json!({
            "success": true, "response": text, "error": null, "error_code": null,
            "provider_used": format!("test-{}", request.region_preference.clone().unwrap_or_default()),
            "inference_time": 0.01, "cost_estimate": 0.0,
            "metadata": {"provider_type": "test", "region": request.region_preference, "model": request.model, "receipt": null}
        }))
        .into_response(),
        Reply::Fail(message) => axum::Json(serde_json::json!({
            "success": false, "response": null, "error": message, "error_code": null,
            "provider_used": "test-provider", "inference_time": 0.0, "cost_estimate": 0.0, "metadata": {}
        }))
        .into_response(),
        Reply::Http(status, body) => (StatusCode::from_u16(status).unwrap(), body).into_response(),
        Reply::Raw(body) => (StatusCode::OK, [("content-type", "application/json")], body).into_response(),
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Reply::After(..) => unreachable!("unwrapped above"),
    }
}
