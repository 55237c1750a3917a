//! The browser's session cookie: `HttpOnly` (scripts cannot read it), `SameSite=Lax` (other
//! sites' forms do not carry it), `Secure` when Beacon is reached over https.

use cookie::{Cookie, SameSite};

pub const NAME: &str = "beacon_session";
/// A browser session lasts a week, then its user logs in again.
pub const LIFETIME_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// The session id in a `Cookie` header's value, if there is one.
pub fn find(cookies: &str) -> Option<String> {
    Cookie::split_parse(cookies)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == NAME && !cookie.value().is_empty())
        .map(|cookie| cookie.value().to_string())
}

pub fn set(session_id: &str, secure: bool) -> String {
    Cookie::build((NAME, session_id.to_string()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(cookie::time::Duration::milliseconds(LIFETIME_MS))
        .build()
        .to_string()
}

pub fn clear(secure: bool) -> String {
    Cookie::build((NAME, ""))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_round_trip_with_their_flags() {
        let set_cookie = set("abc123", true);
        assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax") && set_cookie.contains("Secure"));
        assert!(!set("abc123", false).contains("Secure"));
        assert_eq!(find("a=b; beacon_session=abc123; c=d").as_deref(), Some("abc123"));
        assert_eq!(find("beacon_session="), None);
        assert_eq!(find("other=1"), None);
    }
}
