//! One error type for everything a request can run into, mapped to an HTTP status and a
//! JSON body `{"error": message, "code": machine code, …}` in one place. Expected refusals
//! carry their message to the user; unexpected failures are logged with context and shown
//! generically.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed; `code` names the kind, the message names the field.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{message}")]
    TooManyRequests { code: &'static str, message: String, extra: serde_json::Value },
    #[error("request body is too large")]
    PayloadTooLarge,
    /// A refusal replayed from an earlier request with the same Idempotency-Key.
    #[error("{}", body["error"].as_str().unwrap_or("refused"))]
    Replayed { status: u16, body: serde_json::Value },
    /// Unexpected: the cause is logged, never shown.
    #[error("Something went wrong on the server; it has been logged.")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn invalid_request(message: impl Into<String>) -> AppError {
        AppError::BadRequest { code: "invalid_request", message: message.into() }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Replayed { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { code, .. }
            | AppError::Conflict { code, .. }
            | AppError::TooManyRequests { code, .. } => code,
            AppError::NotFound(_) => "not_found",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::Replayed { .. } => "replayed",
            AppError::Internal(_) => "internal",
        }
    }

    /// What the user is told. Internal details stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Internal(_) => "Something went wrong on the server; it has been logged.".to_string(),
            other => other.to_string(),
        }
    }

    pub fn body(&self) -> serde_json::Value {
        if let AppError::Replayed { body, .. } = self {
            return body.clone();
        }
        let mut body = serde_json::json!({ "error": self.public_message(), "code": self.code() });
        if let (AppError::TooManyRequests { extra: serde_json::Value::Object(extra), .. }, Some(map)) =
            (self, body.as_object_mut())
        {
            map.extend(extra.clone());
        }
        body
    }
}

impl From<crate::domain::retry::RetryRefusal> for AppError {
    fn from(refusal: crate::domain::retry::RetryRefusal) -> Self {
        use crate::domain::retry::RetryRefusal::*;
        let (code, message) = (refusal.code(), refusal.message());
        match refusal {
            RegionMismatch { .. } | QuestionMismatch { .. } => AppError::BadRequest { code, message },
            NotRetryable | AlreadyCompleted | InProgress { .. } => AppError::Conflict { code, message },
            MaxRetriesReached { retry_count, max_retries } => AppError::TooManyRequests {
                code,
                message,
                extra: serde_json::json!({ "retry_attempt": retry_count, "max_attempts": max_retries }),
            },
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        AppError::Internal(anyhow::Error::new(err).context("database"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(err) = &self {
            tracing::error!(error = ?err, "request failed");
        }
        (self.status(), Json(self.body())).into_response()
    }
}

impl AppError {
    /// For server functions: an expected refusal keeps its own message, an unexpected
    /// failure is logged here, with its cause, and reported generically.
    pub fn into_server_fn_error(self) -> leptos::prelude::ServerFnError {
        if let AppError::Internal(inner) = &self {
            tracing::error!(error = ?inner, "server function failed");
        }
        leptos::prelude::ServerFnError::ServerError(self.public_message())
    }
}
