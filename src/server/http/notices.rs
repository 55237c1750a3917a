//! Notices are Beacon's (SAFETY.md §7). After a form post without JavaScript the browser comes
//! back to its page with the outcome in the address (`?notice=`, or Leptos' `?__err=`), and the
//! page shows it as a banner. Anyone can write such an address, so Beacon signs the ones it
//! makes (`sig`, an HMAC of the text with a key all instances share) and sends a page address
//! whose notice is not signed to the same page without it: a link cannot make a banner say
//! "your session expired, log in at evil.example". A signature holds for one page, for the
//! credential of whoever posted the form (errors may quote what they typed), and for ten
//! minutes: nobody can mint a banner on their own form and send it to a colleague.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use std::sync::Arc;

use crate::server::auth::Credential;

/// The query parameters a page shows as banners, and the one that signs them.
const NOTICE: &str = "notice";
const ERROR: &str = "__err";
const ERROR_PATH: &str = "__path";
const SIGNATURE: &str = "sig";
const EXPIRES: &str = "exp";
/// How long a signed banner shows: long enough to come back to the page, not to be passed on.
const VALID_SECONDS: i64 = 10 * 60;
/// The name of the shared key in `site_keys`.
pub const KEY_NAME: &str = "notice_hmac";

/// A page's query without the banner Beacon put there (a notice or an error, its expiry and
/// signature): what a form sends the browser back to, with the new banner added, so the
/// page's own filters stay and banners do not pile up.
pub fn without_banner(query: &str) -> String {
    let kept = form_urlencoded::parse(query.as_bytes()).filter(|(key, _)| ![NOTICE, ERROR, ERROR_PATH, SIGNATURE, EXPIRES].contains(&key.as_ref()));
    form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish()
}

pub struct NoticeKey(Vec<u8>);

impl NoticeKey {
    pub fn new(key: &str) -> NoticeKey {
        NoticeKey(key.as_bytes().to_vec())
    }

    /// The signature of `text` shown as a banner of `kind` on the page at `path`, for `who`
    /// (a credential's id, empty with accounts off), until `expires` (Unix seconds): 128 bits
    /// of HMAC-SHA-256, as hex.
    fn sign(&self, kind: &str, text: &str, path: &str, expires: i64, who: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        for part in [kind, text, path, &expires.to_string(), who] {
            mac.update(part.as_bytes());
            mac.update(&[0]);
        }
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// `page` (a path, with or without a query) with `notice` to show there, signed for `who`.
    pub fn page_with_notice(&self, page: &str, notice: &str, who: &str) -> String {
        let path = page.split('?').next().unwrap_or(page);
        let expires = now_seconds() + VALID_SECONDS;
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair(NOTICE, notice)
            .append_pair(EXPIRES, &expires.to_string())
            .append_pair(SIGNATURE, &self.sign(NOTICE, notice, path, expires, who))
            .finish();
        let joint = if page.contains('?') { '&' } else { '?' };
        format!("{page}{joint}{query}")
    }

    /// Whether a page's query shows only banners Beacon wrote for this page and caller: none,
    /// or one that is signed and not expired.
    fn query_is_beacons(&self, pairs: &[(String, String)], path: &str, who: &str, now: i64) -> bool {
        let find = |name: &str| pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
        let count = |name: &str| pairs.iter().filter(|(key, _)| key == name).count();
        let kind = match (count(NOTICE), count(ERROR)) {
            (0, 0) => return true,
            (1, 0) => NOTICE,
            (0, 1) => ERROR,
            _ => return false,
        };
        let Some(expires) = find(EXPIRES).and_then(|e| e.parse::<i64>().ok()).filter(|_| count(EXPIRES) == 1) else { return false };
        let signature = find(SIGNATURE).filter(|_| count(SIGNATURE) == 1).unwrap_or_default();
        let text = find(kind).unwrap_or_default();
        expires >= now
            && expires <= now + VALID_SECONDS
            && super::super::auth::credentials::same_secret(signature, &self.sign(kind, text, path, expires, who))
    }
}

fn now_seconds() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Who a banner is for: the id of the request's credential, or without one (accounts off, or
/// not logged in) the client's address, so a link someone else made Beacon sign shows its
/// banner to them only.
pub fn who(extensions: &axum::http::Extensions) -> String {
    match (extensions.get::<Credential>(), extensions.get::<super::client_address::ClientAddr>()) {
        (Some(credential), _) => credential.id(),
        (None, Some(address)) => format!("a:{}", address.0),
        (None, None) => String::new(),
    }
}

/// [`who`], as a handler argument.
pub struct BannerFor(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for BannerFor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(BannerFor(who(&parts.extensions)))
    }
}

/// Page requests (GET, outside `/api/`) whose banner text is not signed are sent to the same
/// address without it.
pub async fn only_signed(State(notice_key): State<Arc<NoticeKey>>, request: Request, next: Next) -> Response {
    let is_page = request.method() == Method::GET && !request.uri().path().starts_with("/api/");
    let Some(query) = request.uri().query().filter(|_| is_page) else {
        return next.run(request).await;
    };
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    if notice_key.query_is_beacons(&pairs, request.uri().path(), &who(request.extensions()), now_seconds()) {
        return next.run(request).await;
    }
    let kept = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().filter(|(key, _)| ![NOTICE, ERROR, ERROR_PATH, SIGNATURE, EXPIRES].contains(&key.as_str())))
        .finish();
    let path = request.uri().path();
    let target = if kept.is_empty() { path.to_string() } else { format!("{path}?{kept}") };
    (StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response()
}

/// A server function that failed for a plain form post answers with a redirect back to its
/// page carrying the error (`__err`, written by Leptos); this signs it, and keeps the redirect
/// on this site (Leptos takes the page from `Referer`, which a script can set to anything).
/// Only server functions' answers are signed: a redirect elsewhere (after logging in, to
/// `next`) may carry an address someone else wrote.
pub async fn sign_form_errors(State(notice_key): State<Arc<NoticeKey>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let server_fn = request.method() == Method::POST && path.starts_with("/api/") && !path.starts_with("/api/v1/");
    let who = who(request.extensions());
    let mut response = next.run(request).await;
    if !server_fn {
        return response;
    }
    let Some(location) = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()) else { return response };
    let here = on_this_site(location);
    let signed = sign_error_in(&notice_key, &here, &who).unwrap_or(here);
    if let Ok(value) = HeaderValue::from_str(&signed) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// The path and query of `location`, never another site: `http://elsewhere/x?y` is `/x?y`;
/// `//elsewhere`, `javascript:…` and anything else that is not a path is `/`.
fn on_this_site(location: &str) -> String {
    let path = match location.split_once("://") {
        Some((scheme, rest)) if scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) => {
            rest.find(['/', '?']).map_or("/".to_string(), |at| rest[at..].to_string())
        }
        _ => location.to_string(),
    };
    let path = if path.starts_with('?') { format!("/{path}") } else { path };
    if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') && path.bytes().all(|b| b.is_ascii_graphic()) {
        path
    } else {
        "/".to_string()
    }
}

/// `location` (a path with its query) with its `__err` signed for `who`, and any earlier
/// notice dropped (stale by now).
fn sign_error_in(key: &NoticeKey, location: &str, who: &str) -> Option<String> {
    let (base, query) = location.split_once('?')?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    // Leptos adds its `__path` and `__err` after the page's own query, which may still carry
    // the banner it showed: the last ones are this answer's.
    let last = |name: &str| pairs.iter().rposition(|(key, _)| key == name);
    let (error_at, path_at) = (last(ERROR)?, last(ERROR_PATH));
    let error = pairs[error_at].1.clone();
    let expires = now_seconds() + VALID_SECONDS;
    let kept = pairs.iter().enumerate().filter(|(at, (key, _))| match key.as_str() {
        NOTICE | SIGNATURE | EXPIRES => false,
        ERROR => *at == error_at,
        ERROR_PATH => Some(*at) == path_at,
        _ => true,
    });
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept.map(|(_, pair)| pair))
        .append_pair(EXPIRES, &expires.to_string())
        .append_pair(SIGNATURE, &key.sign(ERROR, &error, base, expires, who))
        .finish();
    Some(format!("{base}?{query}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(query.as_bytes()).into_owned().collect()
    }

    #[test]
    fn only_signed_banners_pass_on_their_page_for_their_caller_while_fresh() {
        let key = NoticeKey::new("k");
        let now = now_seconds();
        let signed = key.page_with_notice("/jobs/x", "Retry queued: 3 rows", "s:alice");
        let query = signed.split_once('?').unwrap().1;
        assert!(key.query_is_beacons(&pairs(query), "/jobs/x", "s:alice", now));
        assert!(!key.query_is_beacons(&pairs(query), "/admin", "s:alice", now), "another page");
        assert!(!key.query_is_beacons(&pairs(query), "/jobs/x", "s:bob", now), "another caller");
        assert!(!key.query_is_beacons(&pairs(query), "/jobs/x", "s:alice", now + VALID_SECONDS + 1), "expired");
        assert!(key.query_is_beacons(&pairs("status=failed&page=2"), "/jobs/x", "", now));
        assert!(!key.query_is_beacons(&pairs("notice=Log+in+at+evil.example"), "/jobs/x", "", now));
        assert!(!key.query_is_beacons(&pairs(&query.replace("Retry", "Retrx")), "/jobs/x", "s:alice", now));
        assert!(!NoticeKey::new("other").query_is_beacons(&pairs(query), "/jobs/x", "s:alice", now), "another key's signature");
        assert!(!key.query_is_beacons(&pairs("__err=abc&sig=00&exp=0"), "/jobs/x", "", now));
        let with_set = key.page_with_notice("/questions?set=s", "Imported", "");
        assert!(with_set.starts_with("/questions?set=s&notice=Imported&exp="), "{with_set}");
        assert!(key.query_is_beacons(&pairs(with_set.split_once('?').unwrap().1), "/questions", "", now));

        // The page's old banner, error or notice, goes; the filter stays; the new error is signed.
        let again = sign_error_in(&key, "/jobs/x?__err=old&status=failed&__path=/p&notice=n&__path=/api/x&__err=new", "a:1.2.3.4").unwrap();
        let again_pairs = pairs(again.split_once('?').unwrap().1);
        let errors: Vec<&str> = again_pairs.iter().filter(|(k, _)| k == ERROR).map(|(_, v)| v.as_str()).collect();
        assert_eq!(errors, ["new"], "{again}");
        assert!(again_pairs.iter().any(|(k, v)| k == "status" && v == "failed") && !again_pairs.iter().any(|(k, _)| k == NOTICE), "{again}");
        assert!(key.query_is_beacons(&again_pairs, "/jobs/x", "a:1.2.3.4", now));
        assert!(!key.query_is_beacons(&again_pairs, "/jobs/x", "a:5.6.7.8", now), "another client's address");
        let signed_error = sign_error_in(&key, &format!("/jobs/x?{query}&__path=/api/x&__err=abc"), "t:tok").unwrap();
        let error_query = signed_error.split_once('?').unwrap().1;
        assert!(!error_query.contains("notice="), "{signed_error}");
        assert!(key.query_is_beacons(&pairs(error_query), "/jobs/x", "t:tok", now), "{signed_error}");
        // A notice's signature does not sign the same text as an error.
        let as_error = query.replace("notice=", "__err=");
        assert!(!key.query_is_beacons(&pairs(&as_error), "/jobs/x", "s:alice", now));
    }

    #[test]
    fn a_form_errors_redirect_stays_on_this_site() {
        assert_eq!(on_this_site("http://127.0.0.1:8090/jobs/x?page=2"), "/jobs/x?page=2");
        assert_eq!(on_this_site("http://evil.example/phish"), "/phish");
        assert_eq!(on_this_site("http://evil.example"), "/");
        assert_eq!(on_this_site("http://evil.example?x=1"), "/?x=1");
        assert_eq!(on_this_site("//evil.example/x"), "/");
        assert_eq!(on_this_site("javascript:alert(1)"), "/");
        assert_eq!(on_this_site("/\\evil.example"), "/");
        assert_eq!(on_this_site("/jobs/x"), "/jobs/x");
    }
}
