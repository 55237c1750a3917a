//! Beacon's client for the inference router. One `reqwest::Client`, one URL, one request per
//! attempt: a failure is classified and reported, never retried here (the earlier system
//! tried four paths on any error and so turned one time-out into two inferences).

use std::time::Duration;

use crate::domain::ExecutionStatus;
use crate::server::db::executions::Outcome;

use super::protocol::InferenceResponse;

/// Bodies larger than this are refused: a router answer is text of at most a few pages.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct RouterClient {
    http: reqwest::Client,
    inference_url: String,
}

impl RouterClient {
    pub fn new(base_url: &str, timeout: Duration) -> anyhow::Result<RouterClient> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()?;
        let base_url = base_url.trim_end_matches('/').to_string();
        Ok(RouterClient { http, inference_url: format!("{base_url}/inference") })
    }

    /// Sends one stored request body and classifies what came back. Transport errors are
    /// described without the URL: the text is stored and shown, and a URL is no one's business
    /// there (reqwest already moves a URL's credentials into a header).
    pub async fn infer(&self, request_json: &str) -> Outcome {
        let sent = self
            .http
            .post(&self.inference_url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(request_json.to_owned())
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(err) => return classify_transport_error(&err.without_url()),
        };
        let status = response.status();
        let body = match read_capped(response).await {
            Ok(body) => body,
            Err(BodyError::Transport(err)) => return classify_transport_error(&err.without_url()),
            Err(BodyError::TooLarge) => {
                return failure(
                    ExecutionStatus::Failed,
                    "ROUTER_RESPONSE_TOO_LARGE",
                    format!("router answer exceeded {MAX_RESPONSE_BYTES} bytes"),
                )
            }
        };
        if !status.is_success() {
            return failure(
                ExecutionStatus::Failed,
                &format!("ROUTER_HTTP_{}", status.as_u16()),
                format!("router answered HTTP {status}: {}", http_error_detail(&body)),
            );
        }
        let parsed: InferenceResponse = match serde_json::from_slice(&body) {
            Ok(parsed) => parsed,
            Err(err) => {
                return failure(
                    ExecutionStatus::Failed,
                    "ROUTER_JSON_ERROR",
                    format!("router answer is not the expected JSON: {err}"),
                )
            }
        };
        classify_answer(parsed)
    }
}

fn failure(status: ExecutionStatus, code: &str, message: String) -> Outcome {
    Outcome {
        status,
        output: None,
        provider_id: None,
        error_code: Some(code.to_string()),
        error: Some(message),
    }
}

fn classify_answer(answer: InferenceResponse) -> Outcome {
    let provider_id = answer.provider_used.filter(|p| !p.is_empty());
    if !answer.success {
        let message = answer.error.filter(|e| !e.trim().is_empty()).unwrap_or_else(|| {
            "router reported a failure without a message".to_string()
        });
        let message = match answer.error_code {
            Some(code) if !code.is_empty() => format!("{message} ({code})"),
            _ => message,
        };
        return Outcome { provider_id, ..failure(ExecutionStatus::Failed, "ROUTER_ERROR", message) };
    }
    match answer.response {
        Some(text) if !text.trim().is_empty() => Outcome {
            status: ExecutionStatus::Completed,
            output: Some(text),
            provider_id,
            error_code: None,
            error: None,
        },
        _ => Outcome {
            provider_id,
            ..failure(
                ExecutionStatus::Failed,
                "ROUTER_EMPTY_RESPONSE",
                "router reported success with an empty answer".to_string(),
            )
        },
    }
}

fn classify_transport_error(err: &reqwest::Error) -> Outcome {
    if err.is_timeout() {
        failure(ExecutionStatus::Timeout, "ROUTER_TIMEOUT", format!("router did not answer in time: {err}"))
    } else if err.is_connect() || err.is_request() || err.is_body() || err.is_decode() {
        failure(ExecutionStatus::Failed, "ROUTER_NETWORK", format!("network error talking to the router: {}", error_chain(err)))
    } else {
        failure(ExecutionStatus::Error, "BEACON_INTERNAL", format!("could not call the router: {}", error_chain(err)))
    }
}

/// reqwest's top-level message is generic ("error sending request"); the cause says why.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// The most useful short text of an error body: FastAPI's `detail`, else the start of it.
fn http_error_detail(body: &[u8]) -> String {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(detail) = value.get("detail").or_else(|| value.get("error")) {
            return match detail {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        "(empty body)".to_string()
    } else {
        text.chars().take(300).collect()
    }
}

enum BodyError {
    Transport(reqwest::Error),
    TooLarge,
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|len| len > MAX_RESPONSE_BYTES as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
