//! A failure in words (UI.md §2): the short reason a row shows beside its code, so nobody has
//! to hover to learn that `ROUTER_ERROR` was a cold start. Codes stay as they are (scripts
//! depend on them); the words come from the code and, for cold starts, from the provider's own
//! message, matched against the phrasings below.

use super::FailureCode;

/// What providers that scale to zero say while a container starts: (phrase, reason). Matched
/// without regard to case.
pub const COLD_START_PHRASES: [(&str, &str); 8] = [
    ("app for invoked web endpoint is stopped", "Cold start: endpoint stopped"),
    ("endpoint is stopped", "Cold start: endpoint stopped"),
    ("scaled to zero", "Cold start: scaled to zero"),
    ("scaling up", "Cold start: scaling up"),
    ("model is loading", "Cold start: model loading"),
    ("is currently loading", "Cold start: model loading"),
    ("no healthy upstream", "Cold start: no healthy upstream"),
    ("cold start", "Cold start"),
];

/// The reason in words for a failure `code`, with the provider's `message` where it says more.
pub fn failure_reason(code: &str, message: Option<&str>) -> String {
    let lower = message.unwrap_or_default().to_lowercase();
    if let Some((_, reason)) = COLD_START_PHRASES.iter().find(|(phrase, _)| lower.contains(phrase)) {
        return reason.to_string();
    }
    match FailureCode::parse(code) {
        FailureCode::Timeout => "No answer in time".to_string(),
        FailureCode::Network => "Could not reach the provider".to_string(),
        FailureCode::RateLimited => "Rate limited by the provider".to_string(),
        FailureCode::ProviderError => "The provider reported an error".to_string(),
        FailureCode::JsonError => "Unreadable answer from the provider".to_string(),
        FailureCode::EmptyResponse => "Empty answer".to_string(),
        FailureCode::ResponseTooLarge => "Answer too large".to_string(),
        FailureCode::Interrupted => "Interrupted by a restart".to_string(),
        FailureCode::Internal => "Beacon could not make the call".to_string(),
        FailureCode::Http(504) => "Gateway time-out (provider said 504)".to_string(),
        FailureCode::Http(status) => format!("Provider said {status}"),
        FailureCode::Other(_) => "Failed".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_as_words() {
        assert_eq!(failure_reason("ROUTER_ERROR", Some("app for invoked web endpoint is stopped")), "Cold start: endpoint stopped");
        assert_eq!(failure_reason("ROUTER_HTTP_503", Some("the provider answered HTTP 503: Model is LOADING")), "Cold start: model loading");
        assert_eq!(failure_reason("ROUTER_HTTP_503", Some("the provider answered HTTP 503: busy")), "Provider said 503");
        assert_eq!(failure_reason("ROUTER_HTTP_504", None), "Gateway time-out (provider said 504)");
        assert_eq!(failure_reason("ROUTER_TIMEOUT", Some("the provider did not answer in time")), "No answer in time");
        assert_eq!(failure_reason("ROUTER_ERROR", Some("CUDA out of memory")), "The provider reported an error");
        assert_eq!(failure_reason("INTERRUPTED", None), "Interrupted by a restart");
        assert_eq!(failure_reason("ROUTER_HTTP_", None), "Failed");
        assert_eq!(failure_reason("SOMETHING_NEW", None), "Failed");
    }
}
