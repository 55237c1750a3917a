//! Extractors whose rejections are Beacon's JSON errors rather than axum's plain text.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::server::error::AppError;

/// A JSON body; a missing, malformed or mistyped body is a 400 naming the problem (the
/// message comes from serde's path-aware error), an oversized one a 413.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> AppError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::PayloadTooLarge;
    }
    let message = match &rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "body: expected a JSON body with Content-Type: application/json".to_string()
        }
        JsonRejection::JsonDataError(err) => format!("body: {}", err.body_text()),
        JsonRejection::JsonSyntaxError(err) => format!("body: {}", err.body_text()),
        other => format!("body: {}", other.body_text()),
    };
    AppError::invalid_request(message)
}

/// An execution id from the path: a positive integer, else `invalid_execution_id`.
pub struct ExecutionId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for ExecutionId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_: PathRejection| invalid_execution_id("(missing)"))?;
        match raw.trim().parse::<i64>() {
            Ok(id) if id > 0 => Ok(ExecutionId(id)),
            _ => Err(invalid_execution_id(&raw)),
        }
    }
}

fn invalid_execution_id(raw: &str) -> AppError {
    AppError::BadRequest {
        code: "invalid_execution_id",
        message: format!("execution id must be a positive integer, got {raw:?}"),
    }
}
