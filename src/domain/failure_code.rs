//! Why an attempt failed, as a value: built by the providers, stored as its code
//! (`ROUTER_HTTP_503`, the spelling scripts and exports depend on), read back with `parse`, and
//! asked questions (`is_transient`, `reason`) instead of matched by string prefix.

use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FailureCode {
    /// `ROUTER_TIMEOUT`: no answer within the time-out.
    Timeout,
    /// `ROUTER_NETWORK`: the connection failed.
    Network,
    /// `ROUTER_RATE_LIMITED`: HTTP 429.
    RateLimited,
    /// `ROUTER_ERROR`: the hybrid router reported a failure of its own.
    ProviderError,
    /// `ROUTER_HTTP_<status>`: any other status that is not a success.
    Http(u16),
    /// `ROUTER_JSON_ERROR`: a success whose body is not the answer's shape.
    JsonError,
    /// `ROUTER_EMPTY_RESPONSE`
    EmptyResponse,
    /// `ROUTER_RESPONSE_TOO_LARGE`
    ResponseTooLarge,
    /// `INTERRUPTED`: Beacon stopped while the attempt ran.
    Interrupted,
    /// `BEACON_INTERNAL`: Beacon could not make the call (a stored request it cannot read, …).
    Internal,
    /// A code this version does not make (an older or newer Beacon's): kept as written.
    Other(String),
}

impl FailureCode {
    pub fn parse(raw: &str) -> FailureCode {
        match raw {
            "ROUTER_TIMEOUT" => FailureCode::Timeout,
            "ROUTER_NETWORK" => FailureCode::Network,
            "ROUTER_RATE_LIMITED" => FailureCode::RateLimited,
            "ROUTER_ERROR" => FailureCode::ProviderError,
            "ROUTER_JSON_ERROR" => FailureCode::JsonError,
            "ROUTER_EMPTY_RESPONSE" => FailureCode::EmptyResponse,
            "ROUTER_RESPONSE_TOO_LARGE" => FailureCode::ResponseTooLarge,
            "INTERRUPTED" => FailureCode::Interrupted,
            "BEACON_INTERNAL" => FailureCode::Internal,
            other => match other.strip_prefix("ROUTER_HTTP_").filter(|s| s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit())) {
                Some(status) => match status.parse::<u16>() {
                    Ok(status) if (100..=599).contains(&status) => FailureCode::Http(status),
                    _ => FailureCode::Other(other.to_string()),
                },
                None => FailureCode::Other(other.to_string()),
            },
        }
    }

    /// The stored spelling.
    pub fn as_str(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            FailureCode::Timeout => "ROUTER_TIMEOUT",
            FailureCode::Network => "ROUTER_NETWORK",
            FailureCode::RateLimited => "ROUTER_RATE_LIMITED",
            FailureCode::ProviderError => "ROUTER_ERROR",
            FailureCode::JsonError => "ROUTER_JSON_ERROR",
            FailureCode::EmptyResponse => "ROUTER_EMPTY_RESPONSE",
            FailureCode::ResponseTooLarge => "ROUTER_RESPONSE_TOO_LARGE",
            FailureCode::Interrupted => "INTERRUPTED",
            FailureCode::Internal => "BEACON_INTERNAL",
            FailureCode::Http(status) => return Cow::Owned(format!("ROUTER_HTTP_{status}")),
            FailureCode::Other(code) => return Cow::Owned(code.clone()),
        })
    }

    /// A failure of the infrastructure that a later attempt may not meet (PROVIDERS.md's
    /// automatic retries take these): time-outs, network errors, rate limits, the router's own
    /// errors and 5xx answers. Never an answer the model gave or a request that was wrong.
    pub fn is_transient(&self) -> bool {
        match self {
            FailureCode::Timeout | FailureCode::Network | FailureCode::RateLimited | FailureCode::ProviderError => true,
            FailureCode::Http(status) => (500..=599).contains(status),
            _ => false,
        }
    }
}

impl std::fmt::Display for FailureCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::FailureCode;

    #[test]
    fn every_code_reads_back_as_itself() {
        for code in [
            FailureCode::Timeout,
            FailureCode::Network,
            FailureCode::RateLimited,
            FailureCode::ProviderError,
            FailureCode::Http(503),
            FailureCode::Http(404),
            FailureCode::JsonError,
            FailureCode::EmptyResponse,
            FailureCode::ResponseTooLarge,
            FailureCode::Interrupted,
            FailureCode::Internal,
            FailureCode::Other("NETWORK".into()),
        ] {
            assert_eq!(FailureCode::parse(&code.as_str()), code);
        }
        for odd in ["ROUTER_HTTP_", "ROUTER_HTTP_5", "ROUTER_HTTP_5000", "ROUTER_HTTP_999", "ROUTER_HTTP_+50"] {
            assert_eq!(FailureCode::parse(odd), FailureCode::Other(odd.into()), "{odd}");
        }
    }
}
