//! Which sites may talk to Beacon (SAFETY.md §2). Two rules, each a middleware:
//!
//! - **Host** (auth off only): a request must name Beacon by a loopback name or address, or by
//!   the host of `BEACON_PUBLIC_URL`, or it gets 421. Without this a page on an attacker's domain
//!   that re-resolves to 127.0.0.1 (DNS rebinding) would be same-origin with an open Beacon.
//! - **Cross-site mutations**: a POST/PUT/PATCH/DELETE without a bearer token must come from
//!   Beacon's own origin. Browsers say where a request comes from (`Origin`, `Referer`,
//!   `Sec-Fetch-Site`); scripts and curl send none of these and are let through, unless they
//!   carry a session cookie, which only a browser holds: then the browser must say it is us.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;

use super::is_mutation;
use crate::domain::ErrorCode;
use crate::server::auth::session_cookie;
use crate::server::config::is_loopback_host;
use crate::server::config::Config;

pub async fn check_host(State(config): State<Arc<Config>>, request: Request, next: Next) -> Response {
    if config.auth {
        return next.run(request).await;
    }
    let host = request_host(request.headers(), request.uri()).unwrap_or_default();
    let public_host = config.public_url.as_ref().map(|public| public.host.as_str());
    let host_name = host.rsplit_once(':').map(|(name, _)| name).unwrap_or(&host);
    if is_loopback_host(&host) || public_host.is_some_and(|public| public.eq_ignore_ascii_case(host_name)) {
        return next.run(request).await;
    }
    refuse(
        ErrorCode::MisdirectedRequest,
        format!("Beacon does not answer to the host {host:?}; open it by a loopback address, or set BEACON_PUBLIC_URL"),
    )
}

pub async fn refuse_cross_site(State(config): State<Arc<Config>>, request: Request, next: Next) -> Response {
    if !is_mutation(request.method()) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let own_origins = own_origins(&config, headers, request.uri());
    match verdict(headers, &own_origins) {
        Ok(()) => next.run(request).await,
        Err(why) => refuse(ErrorCode::CrossOrigin, format!("refused a request from another site: {why}")),
    }
}

/// The origins Beacon is reached at: `BEACON_PUBLIC_URL`'s, or this request's host over http
/// or https (a TLS proxy in front changes the scheme, not the host).
fn own_origins(config: &Config, headers: &HeaderMap, uri: &axum::http::Uri) -> Vec<String> {
    match &config.public_url {
        Some(public) => vec![public.origin.clone()],
        None => match request_host(headers, uri) {
            Some(host) => vec![format!("http://{host}").to_ascii_lowercase(), format!("https://{host}").to_ascii_lowercase()],
            None => Vec::new(),
        },
    }
}

fn verdict(headers: &HeaderMap, own_origins: &[String]) -> Result<(), String> {
    let text = |name: header::HeaderName| headers.get(name).and_then(|value| value.to_str().ok()).map(str::trim);
    let bearer = text(header::AUTHORIZATION).is_some_and(|value| value.len() > 7 && value[..7].eq_ignore_ascii_case("bearer "));
    if bearer {
        // The token is the credential; a browser never adds it on its own.
        return Ok(());
    }
    let fetch_site = text(header::HeaderName::from_static("sec-fetch-site"));
    if let Some(site @ ("cross-site" | "same-site")) = fetch_site {
        return Err(format!("Sec-Fetch-Site: {site}"));
    }
    let is_ours = |origin: &str| own_origins.iter().any(|own| own.eq_ignore_ascii_case(origin));
    if let Some(origin) = text(header::ORIGIN) {
        return if is_ours(origin) { Ok(()) } else { Err(format!("Origin: {origin}")) };
    }
    // A browser holding a session must say more than a Referer, which is easy to strip.
    let has_session =
        headers.get_all(header::COOKIE).iter().filter_map(|value| value.to_str().ok()).any(|cookies| session_cookie::find(cookies).is_some());
    if has_session && fetch_site != Some("same-origin") {
        return Err("a session cookie without Origin or Sec-Fetch-Site: same-origin".into());
    }
    if let Some(referer) = text(header::REFERER) {
        let origin = reqwest::Url::parse(referer).map(|url| url.origin().ascii_serialization()).unwrap_or_default();
        return if is_ours(&origin) { Ok(()) } else { Err(format!("Referer from {origin}")) };
    }
    Ok(())
}

fn request_host(headers: &HeaderMap, uri: &axum::http::Uri) -> Option<String> {
    headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
        .or_else(|| uri.authority().map(|authority| authority.to_string()))
}

fn refuse(code: ErrorCode, message: String) -> Response {
    let mut response = crate::server::error::error_response(code, message);
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    const OURS: &[&str] = &["http://127.0.0.1:8090", "https://127.0.0.1:8090"];

    fn check(pairs: &[(&'static str, &str)]) -> Result<(), String> {
        let own: Vec<String> = OURS.iter().map(|s| s.to_string()).collect();
        verdict(&headers(pairs), &own)
    }

    #[test]
    fn scripts_and_own_pages_pass() {
        assert!(check(&[]).is_ok(), "curl sends none of the browser headers");
        assert!(check(&[("origin", "http://127.0.0.1:8090")]).is_ok());
        assert!(check(&[("referer", "http://127.0.0.1:8090/jobs/x")]).is_ok());
        assert!(check(&[("sec-fetch-site", "same-origin"), ("cookie", "beacon_session=abc")]).is_ok());
        assert!(check(&[("authorization", "Bearer t"), ("origin", "https://evil.example")]).is_ok());
    }

    #[test]
    fn every_cross_site_variant_is_refused() {
        for pairs in [
            &[("origin", "https://evil.example")][..],
            &[("origin", "null")],
            &[("origin", "http://127.0.0.1:9999")],
            &[("referer", "https://evil.example/page")],
            &[("sec-fetch-site", "cross-site")],
            &[("sec-fetch-site", "same-site"), ("origin", "http://127.0.0.1:8090")],
            &[("cookie", "beacon_session=abc")],
            &[("cookie", "a=b; beacon_session=abc"), ("sec-fetch-site", "none")],
            &[("cookie", "beacon_session=abc"), ("referer", "http://127.0.0.1:8090/jobs/x")],
        ] {
            assert!(check(pairs).is_err(), "{pairs:?}");
        }
    }
}
