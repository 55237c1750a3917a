//! Configuration from the environment (PRODUCT.md §1). Every knob has a default that makes a
//! first run work with no other service; a bad value stops start-up with a message naming it.

use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    pub site_addr: SocketAddr,
    pub database_url: String,
    /// `None`: start the built-in demo router on a loopback port.
    pub router_url: Option<String>,
    pub router_timeout: Duration,
    pub max_retries: i64,
    pub region_concurrency: usize,
    pub lease: Duration,
}

#[derive(Debug, thiserror::Error)]
#[error("{name}={value:?}: {problem}")]
pub struct ConfigError {
    name: &'static str,
    value: String,
    problem: &'static str,
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads through `lookup` so tests can configure without touching the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &'static str, default: &str| -> (String, &'static str) {
            (lookup(name).filter(|v| !v.trim().is_empty()).unwrap_or_else(|| default.to_string()), name)
        };
        let parse_positive = |name: &'static str, default: &str| -> Result<u64, ConfigError> {
            let (value, name) = get(name, default);
            match value.trim().parse::<u64>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(ConfigError { name, value, problem: "must be a positive whole number" }),
            }
        };

        let (addr, addr_name) = get("LEPTOS_SITE_ADDR", "127.0.0.1:8090");
        let site_addr = addr.parse().map_err(|_| ConfigError {
            name: addr_name,
            value: addr.clone(),
            problem: "must be host:port, e.g. 127.0.0.1:8090",
        })?;
        let (database_url, _) = get("DATABASE_URL", "sqlite:data/beacon.db");
        let router_url = lookup("HYBRID_ROUTER_URL")
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .filter(|u| !u.is_empty());
        if let Some(url) = &router_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError {
                    name: "HYBRID_ROUTER_URL",
                    value: url.clone(),
                    problem: "must start with http:// or https://",
                });
            }
        }
        let max_retries = parse_positive("BEACON_MAX_RETRIES", "3")?;
        Ok(Config {
            site_addr,
            database_url,
            router_url,
            router_timeout: Duration::from_secs(parse_positive("HYBRID_ROUTER_TIMEOUT", "300")?),
            max_retries: i64::try_from(max_retries).unwrap_or(i64::MAX),
            region_concurrency: parse_positive("BEACON_REGION_CONCURRENCY", "10")? as usize,
            lease: Duration::from_secs(parse_positive("BEACON_LEASE_SECONDS", "30")?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_environment() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert_eq!(config.site_addr.to_string(), "127.0.0.1:8090");
        assert_eq!(config.max_retries, 3);
        assert_eq!(config.region_concurrency, 10);
        assert!(config.router_url.is_none());
    }

    #[test]
    fn a_bad_value_names_the_variable() {
        let err = Config::from_lookup(|n| (n == "BEACON_MAX_RETRIES").then(|| "lots".into())).unwrap_err();
        assert!(err.to_string().contains("BEACON_MAX_RETRIES"));
    }
}
