//! Every error answer under `/api/` has Beacon's JSON shape, `{"error", "code"}`, including
//! those Beacon's handlers never see: axum's own rejections (a query string that does not
//! parse, a body over the limit), an unknown route, a method a route does not take. Handlers'
//! own errors are already JSON and pass through untouched.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::domain::{ApiError, ErrorCode};

/// Plain-text rejections are a sentence or two; anything longer is cut.
const MAX_REJECTION_BYTES: usize = 16 * 1024;

pub async fn json_errors(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    let failed = status.is_client_error() || status.is_server_error();
    if !path.starts_with("/api/") || !failed || is_json(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_REJECTION_BYTES).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, format!("no API route {method} {path}")),
        StatusCode::METHOD_NOT_ALLOWED => (ErrorCode::MethodNotAllowed, format!("{method} is not allowed on {path}")),
        StatusCode::PAYLOAD_TOO_LARGE => (ErrorCode::PayloadTooLarge, "request body is too large".to_string()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (ErrorCode::UnsupportedMediaType, text),
        // The request time-out's answer has no body of its own.
        StatusCode::SERVICE_UNAVAILABLE if text.is_empty() => {
            (ErrorCode::RequestTimeout, "the request took longer than BEACON_REQUEST_TIMEOUT; try again".to_string())
        }
        status if status.is_server_error() => {
            tracing::error!(%path, %status, body = %text, "request failed outside a handler");
            (ErrorCode::Internal, "Something went wrong on the server; it has been logged.".to_string())
        }
        _ => (ErrorCode::InvalidRequest, if text.is_empty() { status.to_string() } else { text }),
    };
    // The status stays the one the layer gave (a 422 from axum stays a 422).
    let answer = ApiError::new(status.as_u16(), code.as_str(), message);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    let body = Body::from(answer.body().to_string());
    (parts, body).into_response()
}

fn is_json(response: &Response) -> bool {
    response.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).is_some_and(|value| value.starts_with("application/json"))
}

/// A server function whose arguments do not parse answers with the status its error names
/// (400), not the 500 Leptos gives every server-function error, so a bad call is the caller's
/// mistake in the logs and the metrics too.
pub async fn server_fn_status(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let server_fn = path.starts_with("/api/") && !path.starts_with("/api/v1/");
    let response = next.run(request).await;
    if !server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR || !is_json(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_REJECTION_BYTES).await.unwrap_or_default();
    if let Some(status) = serde_json::from_slice::<ApiError>(&bytes)
        .ok()
        .and_then(|answer| StatusCode::from_u16(answer.status).ok())
        .filter(StatusCode::is_client_error)
    {
        parts.status = status;
    }
    (parts, Body::from(bytes)).into_response()
}
