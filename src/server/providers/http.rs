//! One HTTP call to a provider, and what every kind of provider shares in classifying it:
//! transport errors, time-outs, non-2xx statuses (with `Retry-After`), bodies over 1 MiB. One
//! request per attempt: a failure is classified and reported, never retried here (the earlier
//! system tried four paths on any error and so turned one time-out into two inferences).

use crate::domain::FailureCode;
use std::time::Duration;

use crate::domain::ExecutionStatus;
use crate::server::db::executions::Outcome;

/// Bodies larger than this are refused: an answer is text of at most a few pages.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// What a call came to, and how long the provider asked to be left alone.
#[derive(Debug, Clone)]
pub struct Answer {
    pub outcome: Outcome,
    pub retry_after: Option<Duration>,
}

impl From<Outcome> for Answer {
    fn from(outcome: Outcome) -> Answer {
        Answer { outcome, retry_after: None }
    }
}

pub fn failure(status: ExecutionStatus, code: FailureCode, message: String) -> Outcome {
    Outcome::failed(status, code, message)
}

/// Posts `body` to `url`. `Ok`: a 2xx body, for the provider's own reader; `Err`: every other
/// end, classified.
pub async fn post(http: &reqwest::Client, url: &str, api_key: Option<&str>, body: Vec<u8>, timeout: Duration) -> Result<Vec<u8>, Answer> {
    let mut request = http.post(url).timeout(timeout).header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
    if let Some(key) = api_key {
        request = request.bearer_auth(key);
    }
    let response = match request.send().await {
        Ok(response) => response,
        // Described without the URL: the text is stored and shown.
        Err(err) => return Err(Answer::from(classify_transport_error(&err.without_url()))),
    };
    let status = response.status();
    let retry_after = response.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
    let body = match read_capped(response).await {
        Ok(body) => body,
        Err(BodyError::Transport(err)) => return Err(Answer::from(classify_transport_error(&err.without_url()))),
        Err(BodyError::TooLarge) => {
            return Err(Answer::from(failure(
                ExecutionStatus::Failed,
                FailureCode::ResponseTooLarge,
                format!("the answer exceeded {MAX_RESPONSE_BYTES} bytes"),
            )))
        }
    };
    if !status.is_success() {
        let code = if status.as_u16() == 429 { FailureCode::RateLimited } else { FailureCode::Http(status.as_u16()) };
        let outcome = failure(ExecutionStatus::Failed, code, format!("the provider answered HTTP {status}: {}", http_error_detail(&body)));
        // Only these two ask the client to come back later.
        let retry_after = retry_after.filter(|_| matches!(status.as_u16(), 429 | 503));
        return Err(Answer { outcome, retry_after });
    }
    Ok(body)
}

/// `Retry-After` as seconds or as an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds.min(3_600)));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.signed_duration_since(chrono::Utc::now()).num_milliseconds().clamp(0, 3_600_000);
    Some(Duration::from_millis(wait as u64))
}

fn classify_transport_error(err: &reqwest::Error) -> Outcome {
    if err.is_timeout() {
        failure(ExecutionStatus::Timeout, FailureCode::Timeout, format!("the provider did not answer in time: {err}"))
    } else if err.is_connect() || err.is_request() || err.is_body() || err.is_decode() {
        failure(ExecutionStatus::Failed, FailureCode::Network, format!("network error talking to the provider: {}", error_chain(err)))
    } else {
        failure(ExecutionStatus::Error, FailureCode::Internal, format!("could not call the provider: {}", error_chain(err)))
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

/// The most useful short text of an error body: FastAPI's `detail`, OpenAI's `error`, else
/// the start of it.
fn http_error_detail(body: &[u8]) -> String {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(detail) = value.get("detail").or_else(|| value.get("error")) {
            return match detail {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Object(o) if o.get("message").is_some_and(|m| m.is_string()) => {
                    o["message"].as_str().unwrap_or_default().to_string()
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        let in_a_minute = (chrono::Utc::now() + chrono::Duration::seconds(60)).to_rfc2822();
        let wait = parse_retry_after(&in_a_minute).unwrap();
        assert!(wait > Duration::from_secs(55) && wait <= Duration::from_secs(60), "{wait:?}");
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO), "a past date: no wait");
        assert_eq!(parse_retry_after("soon"), None);
    }
}
