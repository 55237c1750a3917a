//! One error type for everything a request can run into. It separates the caller's mistakes
//! (bad input, 4xx), refusals by Beacon's rules (PRODUCT.md §4's codes, 409/429) and
//! unexpected failures (500, logged with their context, never shown). It becomes an
//! [`ApiError`] in one place, [`AppError::to_api_error`], and from there an HTTP answer
//! (REST), a server-function error that keeps its status and code, or a page's status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::domain::ids::InvalidId;
use crate::domain::retry::RetryRefusal;
use crate::domain::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed (400), or the rules refuse it (409: not now or not ever, 429:
    /// out of retries, …): the code says which and brings its status; the message names the
    /// field or the reason; `details` are the fields some answers add (`errors`, …).
    #[error("{message}")]
    Refused { code: ErrorCode, message: String, details: serde_json::Value },
    /// No such job or execution.
    #[error("{0}")]
    NotFound(String),
    /// A refusal replayed from an earlier request with the same Idempotency-Key.
    #[error("{}", .0.error)]
    Replayed(ApiError),
    /// Unexpected: the cause is logged, never shown.
    #[error("Something went wrong on the server; it has been logged.")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn invalid_request(message: impl Into<String>) -> AppError {
        AppError::refused(ErrorCode::InvalidRequest, message)
    }

    pub fn refused(code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError::Refused { code, message: message.into(), details: serde_json::Value::Null }
    }

    pub fn status(&self) -> StatusCode {
        let status = match self {
            AppError::Refused { code, .. } => code.status(),
            AppError::NotFound(_) => ErrorCode::NotFound.status(),
            AppError::Replayed(answer) => answer.status,
            AppError::Internal(_) => ErrorCode::Internal.status(),
        };
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn code(&self) -> &str {
        match self {
            AppError::Refused { code, .. } => code.as_str(),
            AppError::NotFound(_) => ErrorCode::NotFound.as_str(),
            AppError::Replayed(answer) => &answer.code,
            AppError::Internal(_) => ErrorCode::Internal.as_str(),
        }
    }

    pub fn is_internal(&self) -> bool {
        matches!(self, AppError::Internal(_))
    }

    /// The answer a caller gets: the one mapping every entry point shares. An unexpected
    /// failure is logged here, with its cause, exactly once.
    pub fn to_api_error(&self) -> ApiError {
        if let AppError::Internal(cause) = self {
            tracing::error!(error = ?cause, "request failed");
        }
        if let AppError::Replayed(answer) = self {
            return answer.clone();
        }
        let mut answer = ApiError::new(self.status().as_u16(), self.code(), self.to_string());
        if let AppError::Refused { details: serde_json::Value::Object(details), .. } = self {
            answer.details = details.clone();
        }
        answer
    }
}

impl From<RetryRefusal> for AppError {
    fn from(refusal: RetryRefusal) -> Self {
        use RetryRefusal::*;
        let (code, message) = (refusal.code(), refusal.message());
        let details = match refusal {
            MaxRetriesReached { retry_count, max_retries } => serde_json::json!({ "retry_attempt": retry_count, "max_attempts": max_retries }),
            RegionMismatch { .. } | QuestionMismatch { .. } | NotRetryable | AlreadyCompleted | InProgress { .. } => serde_json::Value::Null,
        };
        AppError::Refused { code, message, details }
    }
}

impl From<InvalidId> for AppError {
    fn from(invalid: InvalidId) -> Self {
        AppError::refused(invalid.code, invalid.message)
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        AppError::Internal(anyhow::Error::new(err).context("database"))
    }
}

/// An error answer made outside a handler (the middleware in front of them): the same JSON
/// body and the status its code brings.
pub fn error_response(code: ErrorCode, message: impl Into<String>) -> Response {
    let answer = ApiError::of(code, message);
    (StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), Json(answer.body())).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let answer = self.to_api_error();
        (self.status(), Json(answer.body())).into_response()
    }
}
