//! Who the client is when Beacon sits behind a proxy (SAFETY.md §7, "Behind a proxy").
//! `X-Forwarded-For` is read only from peers listed in `BEACON_TRUSTED_PROXIES`; anyone else
//! could write any address there. Of the forwarded chain, the right-most address that is not
//! itself a trusted proxy is the client: the entries left of it were written by the client.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use crate::server::config::Config;

/// The client's address as decided for this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

pub async fn resolve(State(config): State<Arc<Config>>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
    if let Some(peer) = peer {
        let client = client_of(peer, request.headers(), &config.trusted_proxies);
        request.extensions_mut().insert(ClientAddr(client));
    }
    next.run(request).await
}

pub fn client_of(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    // Several headers are one list, in order.
    let forwarded: Vec<&str> =
        headers.get_all("x-forwarded-for").iter().filter_map(|value| value.to_str().ok()).flat_map(|value| value.split(',')).map(str::trim).collect();
    let mut client = peer;
    for entry in forwarded.iter().rev() {
        // Something that is not an address ends the chain: the hop that wrote it is the
        // last one known.
        let Ok(ip) = entry.parse::<IpAddr>() else { break };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let trusted = crate::server::config::parse_trusted("10.0.0.0/8, 192.168.1.7").unwrap();
        let peer: IpAddr = "10.1.2.3".parse().unwrap();
        let stranger: IpAddr = "203.0.113.9".parse().unwrap();
        // An untrusted peer's header is ignored.
        assert_eq!(client_of(stranger, &headers(&["198.51.100.1"]), &trusted), stranger);
        // The right-most untrusted entry, not the left-most one the client may have forged.
        assert_eq!(client_of(peer, &headers(&["6.6.6.6, 198.51.100.1"]), &trusted), "198.51.100.1".parse::<IpAddr>().unwrap());
        assert_eq!(client_of(peer, &headers(&["6.6.6.6", "198.51.100.1, 192.168.1.7"]), &trusted), "198.51.100.1".parse::<IpAddr>().unwrap());
        // No header: the proxy itself.
        assert_eq!(client_of(peer, &headers(&[]), &trusted), peer);
        // Garbage ends the chain at the last hop known.
        assert_eq!(client_of(peer, &headers(&["198.51.100.1, garbage"]), &trusted), peer);
        // Nothing trusted: nothing read.
        assert_eq!(client_of(peer, &headers(&["198.51.100.1"]), &[]), peer);
    }
}
