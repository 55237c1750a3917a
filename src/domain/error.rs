//! The one shape of a refused or failed request, `{"error": sentence, "code": machine code,
//! …}`, as the REST API answers it and as server functions carry it to the page. Its HTTP
//! status travels with it, so a 409 refusal stays a 409 with its code on the way to the
//! browser, and a page can tell "no such job" (404) from "the server failed" (500).

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{error}")]
pub struct ApiError {
    /// The sentence a person reads.
    pub error: String,
    /// What scripts match on (`not_found`, `in_progress`, `max_retries_reached`, …).
    pub code: String,
    /// The HTTP status this answer has (not part of the REST body).
    #[serde(default = "internal_status", skip_serializing_if = "is_zero")]
    pub status: u16,
    /// Fields some refusals add (`retry_attempt`, `max_attempts`, …).
    #[serde(flatten)]
    pub details: serde_json::Map<String, serde_json::Value>,
}

fn internal_status() -> u16 {
    500
}

fn is_zero(status: &u16) -> bool {
    *status == 0
}

impl ApiError {
    pub fn new(status: u16, code: impl Into<String>, error: impl Into<String>) -> ApiError {
        ApiError { error: error.into(), code: code.into(), status, details: Default::default() }
    }

    /// An answer with `code` and the status that goes with it.
    pub fn of(code: super::ErrorCode, error: impl Into<String>) -> ApiError {
        ApiError::new(code.status(), code.as_str(), error)
    }

    pub fn is_not_found(&self) -> bool {
        self.status == 404
    }

    /// The REST body: the same fields without `status`, which is the response's own.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::Map::new();
        body.insert("error".into(), self.error.clone().into());
        body.insert("code".into(), self.code.clone().into());
        for (key, value) in &self.details {
            body.entry(key.clone()).or_insert_with(|| value.clone());
        }
        serde_json::Value::Object(body)
    }
}

/// Failures of the transport itself (the server unreachable, arguments that do not decode):
/// a bad argument is the caller's mistake, the rest are "could not reach the server".
impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // On the server, Deserialization is a body that could not be read (not UTF-8, …).
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) | ServerFnErrorErr::Deserialization(message) => {
                ApiError::of(super::ErrorCode::InvalidRequest, format!("invalid arguments: {message}"))
            }
            ServerFnErrorErr::Request(message) => ApiError::of(super::ErrorCode::Unreachable, format!("Could not reach the server: {message}")),
            other => ApiError::of(super::ErrorCode::Internal, other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_travels_with_the_error_but_not_in_the_rest_body() {
        let mut error = ApiError::new(429, "max_retries_reached", "Max retries reached (3/3)");
        error.details.insert("retry_attempt".into(), 3.into());
        let wire = serde_json::to_value(&error).unwrap();
        assert_eq!(wire["status"], 429);
        assert_eq!(serde_json::from_value::<ApiError>(wire).unwrap(), error);
        let body = error.body();
        assert_eq!(body, serde_json::json!({"error": "Max retries reached (3/3)", "code": "max_retries_reached", "retry_attempt": 3}));
    }
}
