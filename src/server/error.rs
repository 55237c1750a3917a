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
use crate::domain::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed; `code` names the kind, the message names the field.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("request body is too large")]
    PayloadTooLarge,
    /// No such job or execution.
    #[error("{0}")]
    NotFound(String),
    /// A well-formed request that the rules refuse, with the status that says why (409: not
    /// now or not ever, 429: out of retries) and any fields the answer adds.
    #[error("{message}")]
    Refused { status: StatusCode, code: &'static str, message: String, details: serde_json::Value },
    /// A refusal replayed from an earlier request with the same Idempotency-Key.
    #[error("{}", .0.error)]
    Replayed(ApiError),
    /// Unexpected: the cause is logged, never shown.
    #[error("Something went wrong on the server; it has been logged.")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn invalid_request(message: impl Into<String>) -> AppError {
        AppError::BadRequest { code: "invalid_request", message: message.into() }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Refused { status: StatusCode::CONFLICT, code, message: message.into(), details: serde_json::Value::Null }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Refused { status, .. } => *status,
            AppError::Replayed(answer) => StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &str {
        match self {
            AppError::BadRequest { code, .. } | AppError::Refused { code, .. } => code,
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::NotFound(_) => "not_found",
            AppError::Replayed(answer) => &answer.code,
            AppError::Internal(_) => "internal",
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

    /// For server functions: the same answer, and the same HTTP status on the response. A
    /// plain form post (no JavaScript) is left as the redirect back to its page that Leptos
    /// makes of it, carrying the error in the URL.
    pub fn into_server_fn_error(self) -> ApiError {
        let answer = self.to_api_error();
        if !super::page_request::is_plain_form_post() {
            if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(self.status());
            }
        }
        answer
    }
}

impl From<RetryRefusal> for AppError {
    fn from(refusal: RetryRefusal) -> Self {
        use RetryRefusal::*;
        let (code, message) = (refusal.code(), refusal.message());
        match refusal {
            RegionMismatch { .. } | QuestionMismatch { .. } => AppError::BadRequest { code, message },
            NotRetryable | AlreadyCompleted | InProgress { .. } => AppError::conflict(code, message),
            MaxRetriesReached { retry_count, max_retries } => AppError::Refused {
                status: StatusCode::TOO_MANY_REQUESTS,
                code,
                message,
                details: serde_json::json!({ "retry_attempt": retry_count, "max_attempts": max_retries }),
            },
        }
    }
}

impl From<InvalidId> for AppError {
    fn from(invalid: InvalidId) -> Self {
        AppError::BadRequest { code: invalid.code, message: invalid.message }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        AppError::Internal(anyhow::Error::new(err).context("database"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let answer = self.to_api_error();
        (self.status(), Json(answer.body())).into_response()
    }
}
