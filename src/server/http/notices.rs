//! Notices are Beacon's (SAFETY.md §7). After a form post without JavaScript the browser comes
//! back to its page with the outcome in the address (`?notice=`, or Leptos' `?__err=`), and the
//! page shows it as a banner. Anyone can write such an address, so Beacon signs the ones it
//! makes (`sig`, an HMAC of the text with a key all instances share) and sends a page address
//! whose notice is not signed to the same page without it: a link cannot make a banner say
//! "your session expired, log in at evil.example".

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::server::state::AppState;

/// The query parameters a page shows as banners, and the one that signs them.
const NOTICE: &str = "notice";
const ERROR: &str = "__err";
const ERROR_PATH: &str = "__path";
const SIGNATURE: &str = "sig";
/// The name of the shared key in `site_keys`.
pub const KEY_NAME: &str = "notice_hmac";

pub struct NoticeKey(Vec<u8>);

impl NoticeKey {
    pub fn new(key: &str) -> NoticeKey {
        NoticeKey(key.as_bytes().to_vec())
    }

    /// The signature of `text` shown as a banner of `kind`: 128 bits of HMAC-SHA-256, as hex.
    fn sign(&self, kind: &str, text: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(text.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    fn verify(&self, kind: &str, text: &str, signature: &str) -> bool {
        super::super::auth::credentials::same_secret(signature, &self.sign(kind, text))
    }

    /// `path` with `notice` to show there, signed.
    pub fn page_with_notice(&self, path: &str, notice: &str) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair(NOTICE, notice)
            .append_pair(SIGNATURE, &self.sign(NOTICE, notice))
            .finish();
        let joint = if path.contains('?') { '&' } else { '?' };
        format!("{path}{joint}{query}")
    }

    /// Whether a page's query shows only banners Beacon wrote: none, or one that is signed.
    fn query_is_beacons(&self, pairs: &[(String, String)]) -> bool {
        let find = |name: &str| pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
        let count = |name: &str| pairs.iter().filter(|(key, _)| key == name).count();
        let signature = find(SIGNATURE).unwrap_or_default();
        match (count(NOTICE), count(ERROR)) {
            (0, 0) => true,
            (1, 0) => count(SIGNATURE) == 1 && self.verify(NOTICE, find(NOTICE).unwrap_or_default(), signature),
            (0, 1) => count(SIGNATURE) == 1 && self.verify(ERROR, find(ERROR).unwrap_or_default(), signature),
            _ => false,
        }
    }
}

/// Page requests (GET, outside `/api/`) whose banner text is not signed are sent to the same
/// address without it.
pub async fn only_signed(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let is_page = request.method() == Method::GET && !request.uri().path().starts_with("/api/");
    let Some(query) = request.uri().query().filter(|_| is_page) else {
        return next.run(request).await;
    };
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    if state.notice_key.query_is_beacons(&pairs) {
        return next.run(request).await;
    }
    let kept = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().filter(|(key, _)| ![NOTICE, ERROR, ERROR_PATH, SIGNATURE].contains(&key.as_str())))
        .finish();
    let path = request.uri().path();
    let target = if kept.is_empty() { path.to_string() } else { format!("{path}?{kept}") };
    (StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response()
}

/// A server function that failed for a plain form post answers with a redirect back to its
/// page carrying the error (`__err`, written by Leptos); this signs it. Only server
/// functions' answers are signed: a redirect elsewhere (after logging in, to `next`) may carry
/// an address someone else wrote.
pub async fn sign_form_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let server_fn = request.method() == Method::POST && path.starts_with("/api/") && !path.starts_with("/api/v1/");
    let mut response = next.run(request).await;
    if !server_fn {
        return response;
    }
    let Some(location) = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()) else { return response };
    let Some(signed) = sign_error_in(&state.notice_key, location) else { return response };
    if let Ok(value) = HeaderValue::from_str(&signed) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// `location` with its `__err` signed, and any earlier notice dropped (stale by now).
fn sign_error_in(key: &NoticeKey, location: &str) -> Option<String> {
    let (base, query) = location.split_once('?')?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let error = pairs.iter().find(|(key, _)| key == ERROR)?.1.clone();
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().filter(|(key, _)| ![NOTICE, SIGNATURE].contains(&key.as_str())))
        .append_pair(SIGNATURE, &key.sign(ERROR, &error))
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
    fn only_signed_banners_pass() {
        let key = NoticeKey::new("k");
        let signed = key.page_with_notice("/jobs/x", "Retry queued: 3 rows");
        let query = signed.split_once('?').unwrap().1;
        assert!(key.query_is_beacons(&pairs(query)));
        assert!(key.query_is_beacons(&pairs("status=failed&page=2")));
        assert!(!key.query_is_beacons(&pairs("notice=Log+in+at+evil.example")));
        assert!(!key.query_is_beacons(&pairs(&query.replace("Retry", "Retrx"))));
        assert!(!NoticeKey::new("other").query_is_beacons(&pairs(query)), "another key's signature");
        assert!(!key.query_is_beacons(&pairs("__err=abc&sig=00")));
        let signed_error = sign_error_in(&key, &format!("http://h/jobs/x?{query}&__path=/api/x&__err=abc")).unwrap();
        let error_query = signed_error.split_once('?').unwrap().1;
        assert!(!error_query.contains("notice="), "{signed_error}");
        assert!(key.query_is_beacons(&pairs(error_query)), "{signed_error}");
        // A notice's signature does not sign the same text as an error.
        let as_error = query.replace("notice=", "__err=");
        assert!(!key.query_is_beacons(&pairs(&as_error)));
    }
}
