//! Extractors whose rejections are Beacon's JSON errors rather than axum's plain text, and
//! which parse ids at the edge into the domain's types.

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::domain::{ExecutionId, JobId};
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
        return AppError::refused(crate::domain::ErrorCode::PayloadTooLarge, "request body is too large");
    }
    let message = match &rejection {
        JsonRejection::MissingJsonContentType(_) => "body: expected a JSON body with Content-Type: application/json".to_string(),
        other => format!("body: {}", other.body_text()),
    };
    AppError::invalid_request(message)
}

/// A query string; one that does not parse is a 400 naming the problem.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(QueryParams(value)),
            Err(rejection) => Err(AppError::invalid_request(rejection.body_text())),
        }
    }
}

/// A body read whole, within the route's limit: over it, a 413.
pub struct BodyBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for BodyBytes {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(BodyBytes(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::refused(crate::domain::ErrorCode::PayloadTooLarge, "request body is too large"))
            }
            Err(rejection) => Err(AppError::invalid_request(format!("body: {}", rejection.body_text()))),
        }
    }
}

/// The one path parameter of a route as written (a question's or a set's id, looked up as is).
pub struct RawPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RawPath {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(RawPath(path_param(parts, state).await))
    }
}

/// The one path parameter of a route, as written.
async fn path_param<S: Send + Sync>(parts: &mut Parts, state: &S) -> String {
    Path::<String>::from_request_parts(parts, state).await.map(|Path(raw)| raw).unwrap_or_default()
}

/// A job id from the path, else 400 `invalid_job_id`.
pub struct JobIdPath(pub JobId);

impl<S: Send + Sync> FromRequestParts<S> for JobIdPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(JobIdPath(JobId::parse(&path_param(parts, state).await)?))
    }
}

/// An execution id from the path, else 400 `invalid_execution_id`.
pub struct ExecutionIdPath(pub ExecutionId);

impl<S: Send + Sync> FromRequestParts<S> for ExecutionIdPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ExecutionIdPath(ExecutionId::parse(&path_param(parts, state).await)?))
    }
}
