//! Every error answer under `/api/` has Beacon's JSON shape, `{"error", "code"}`, including
//! those no handler of Beacon's writes: an unknown route and a method a route does not take
//! (the router's fallbacks, here), a request that runs out of time (its error handler, here),
//! and a query string or body that does not parse (the extractors in `extract`).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::domain::{ApiError, ErrorCode};
use crate::server::error::error_response;

/// Plain-text rejections are a sentence or two; anything longer is cut.
const MAX_REJECTION_BYTES: usize = 16 * 1024;

fn is_api(uri: &Uri) -> bool {
    uri.path().starts_with("/api/")
}

/// No route under `/api/` has this path. Pages' misses are the app's own not-found page.
pub fn api_not_found(method: &Method, uri: &Uri) -> Option<Response> {
    is_api(uri).then(|| error_response(ErrorCode::NotFound, format!("no API route {method} {}", uri.path())))
}

/// The route exists, the method does not (the router adds the `Allow` header).
pub async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    if is_api(&uri) {
        error_response(ErrorCode::MethodNotAllowed, format!("{method} is not allowed on {}", uri.path()))
    } else {
        (StatusCode::METHOD_NOT_ALLOWED, format!("{method} is not allowed here")).into_response()
    }
}

/// The request time-out's answer (`BEACON_REQUEST_TIMEOUT`), and any other error of the
/// layers around the routes.
pub async fn layer_failed(uri: Uri, error: tower::BoxError) -> Response {
    if error.is::<tower::timeout::error::Elapsed>() {
        let message = "the request took longer than BEACON_REQUEST_TIMEOUT; try again";
        return if is_api(&uri) {
            error_response(ErrorCode::RequestTimeout, message)
        } else {
            (StatusCode::SERVICE_UNAVAILABLE, message).into_response()
        };
    }
    tracing::error!(path = %uri.path(), %error, "request failed outside a handler");
    error_response(ErrorCode::Internal, "Something went wrong on the server; it has been logged.")
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
