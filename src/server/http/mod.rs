//! Everything between the socket and the handlers (SAFETY.md §2–§3): the listener with its
//! header-read time-out and graceful shutdown, the Host and cross-site checks, the security
//! headers, and the limits on mutations and live streams. Each rule lives in one file here.

pub mod client_address;
pub mod cross_site;
pub mod headers;
pub mod limits;
pub mod listener;
pub mod notices;
pub mod paths;

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;

/// The client's address: the peer's, or behind a trusted proxy the one it forwarded
/// (`client_address::resolve` decides it once per request; every per-client limit reads it).
pub fn client_ip(request: &Request) -> IpAddr {
    ip_in(request.extensions())
}

fn ip_in(extensions: &axum::http::Extensions) -> IpAddr {
    if let Some(client_address::ClientAddr(ip)) = extensions.get::<client_address::ClientAddr>() {
        return *ip;
    }
    extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip()).unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

/// The client's address, as a handler argument.
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(ip_in(&parts.extensions)))
    }
}

/// Whether the method may change something: the requests the cross-site rule looks at. (Roles
/// and the rate limit also know which server functions only read: `auth::policy`.)
pub fn is_mutation(method: &axum::http::Method) -> bool {
    use axum::http::Method;
    matches!(*method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE)
}
