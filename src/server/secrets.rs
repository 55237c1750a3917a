//! Secrets never reach logs, pages, `/health` or stored error texts (SAFETY.md §6): URLs are
//! shown through [`mask_url`], and tokens are printed once, at creation, and stored hashed.

/// `url` with the password of its user information replaced by `***` (a database or router
/// URL with credentials); text that is not a URL keeps only what precedes any credentials.
pub fn mask_url(url: &str) -> String {
    if let Ok(mut parsed) = reqwest::Url::parse(url) {
        if parsed.password().is_some() && parsed.set_password(Some("***")).is_ok() {
            return parsed.to_string();
        }
        return url.to_string();
    }
    // Not parseable as a URL, but it may still hold `user:password@`: cut the user information.
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => format!("{}://***@{}", &url[..scheme_end], &url[at + 1..]),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::mask_url;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(mask_url("postgres://beacon:s3cret@db:5432/beacon"), "postgres://beacon:***@db:5432/beacon");
        assert_eq!(mask_url("https://user:tok@router.example/v1"), "https://user:***@router.example/v1");
        assert_eq!(mask_url("sqlite:data/beacon.db"), "sqlite:data/beacon.db");
        assert_eq!(mask_url("http://router:8000"), "http://router:8000");
        assert!(!mask_url("postgres://u:p w@d@host/db").contains("p w"));
        assert!(!mask_url("weird://a:b@c d").contains("a:b"));
    }
}
