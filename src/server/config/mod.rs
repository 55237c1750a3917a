//! Configuration from the environment (PRODUCT.md §1, SAFETY.md §1–§3, §6). Every knob has a
//! default that makes a first run on loopback work with no other service; a bad value stops
//! start-up (exit status 2) with a message naming the variable, never a silent default.

pub mod file;

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use super::secrets::mask_url;
pub use file::{ProviderKind, ProviderSpec, Setup};

#[derive(Debug, Clone)]
pub struct Config {
    pub site_addr: SocketAddr,
    pub database_url: String,
    /// `None`: start the built-in demo router on a loopback port.
    pub router_url: Option<String>,
    pub max_retries: i64,
    pub lease: Duration,
    /// Accounts required (`BEACON_AUTH=on`).
    pub auth: bool,
    /// Where users reach Beacon when it sits behind a proxy (`BEACON_PUBLIC_URL`): its origin
    /// is the one mutations must come from, its host is allowed with auth off, and https there
    /// makes the session cookie `Secure`.
    pub public_url: Option<PublicUrl>,
    pub request_timeout: Duration,
    pub max_streams: usize,
    pub max_streams_per_client: usize,
    /// `None`: mutations are not rate limited (`BEACON_MUTATION_RATE=off`).
    pub mutation_rate: Option<MutationRate>,
    /// How long in-flight router calls may finish after SIGTERM/SIGINT.
    pub shutdown_grace: Duration,
    /// `GET /metrics` asks for this bearer token when set (`BEACON_METRICS_TOKEN`).
    pub metrics_token: Option<String>,
    /// The largest job (executions) a submission may create (`BEACON_MAX_EXECUTIONS_PER_JOB`).
    pub max_executions_per_job: i64,
    /// Compare rows whose agreement is below this diverge (`BEACON_DIVERGENCE_THRESHOLD`, 0–1).
    pub divergence_threshold: f64,
    /// Peers whose `X-Forwarded-For` names the client (`BEACON_TRUSTED_PROXIES`; none by default).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// SQLite's `synchronous` (`BEACON_SQLITE_SYNCHRONOUS`): `FULL` by default, so a committed
    /// answer survives power loss; `NORMAL` trades that for speed.
    pub sqlite_synchronous: SqliteSynchronous,
    /// Regions, models and providers (`BEACON_CONFIG`, `./beacon.toml`, or built in).
    pub setup: Setup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteSynchronous {
    Full,
    Normal,
}

impl SqliteSynchronous {
    pub fn pragma(self) -> &'static str {
        match self {
            SqliteSynchronous::Full => "FULL",
            SqliteSynchronous::Normal => "NORMAL",
        }
    }

    fn from_env(env: &Env) -> Result<SqliteSynchronous, ConfigError> {
        match env.get("BEACON_SQLITE_SYNCHRONOUS").map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("full") => Ok(SqliteSynchronous::Full),
            Some("normal") => Ok(SqliteSynchronous::Normal),
            Some(other) => Err(ConfigError::new("BEACON_SQLITE_SYNCHRONOUS", other, "must be full or normal")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    /// `scheme://host[:port]`, as browsers send it in `Origin`.
    pub origin: String,
    pub host: String,
    pub https: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MutationRate {
    pub per_second: u32,
    pub burst: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("{name}={value:?}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    value: String,
    problem: String,
}

impl ConfigError {
    /// A setting read elsewhere than [`Config`] (the log format, read before anything else).
    pub fn invalid(name: &'static str, value: &str, problem: &str) -> ConfigError {
        ConfigError::new(name, value, problem.to_string())
    }

    fn new(name: &'static str, value: &str, problem: impl Into<String>) -> ConfigError {
        // The value is echoed back to help, but a URL's password never is.
        ConfigError { name, value: mask_url(value), problem: problem.into() }
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads through `lookup` so tests can configure without touching the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let env = Env(&lookup);
        let site_addr: SocketAddr = {
            let value = env.get("LEPTOS_SITE_ADDR").unwrap_or_else(|| "127.0.0.1:8090".into());
            value.parse().map_err(|_| ConfigError::new("LEPTOS_SITE_ADDR", &value, "must be host:port, e.g. 127.0.0.1:8090"))?
        };
        let database_url = env.get("DATABASE_URL").unwrap_or_else(|| "sqlite:data/beacon.db".into());
        if !["sqlite:", "postgres:", "postgresql:"].iter().any(|scheme| database_url.starts_with(scheme)) {
            return Err(ConfigError::new("DATABASE_URL", &database_url, "must start with sqlite: or postgres://"));
        }
        let router_url = env.get("HYBRID_ROUTER_URL").map(|u| u.trim_end_matches('/').to_string());
        if let Some(url) = &router_url {
            if reqwest::Url::parse(url).map(|u| !matches!(u.scheme(), "http" | "https")).unwrap_or(true) {
                return Err(ConfigError::new("HYBRID_ROUTER_URL", url, "must be an http:// or https:// URL"));
            }
        }
        let public_url = env.get("BEACON_PUBLIC_URL").map(|value| PublicUrl::parse(&value)).transpose()?;
        let auth = match env.get("BEACON_AUTH").as_deref() {
            Some("on") => true,
            Some("off") => false,
            Some(other) => return Err(ConfigError::new("BEACON_AUTH", other, "must be on or off")),
            // Open by default only where no one else can reach it.
            None if site_addr.ip().is_loopback() => false,
            None => {
                return Err(ConfigError::new(
                    "BEACON_AUTH",
                    "",
                    format!(
                        "must be set when listening on {site_addr}, which is not a loopback address: \
                         BEACON_AUTH=on to require accounts, or BEACON_AUTH=off to leave it open to everyone who can reach it"
                    ),
                ))
            }
        };
        let metrics_token = env.get("BEACON_METRICS_TOKEN");
        if auth && metrics_token.is_none() {
            return Err(ConfigError::new(
                "BEACON_METRICS_TOKEN",
                "",
                "must be set when BEACON_AUTH=on: /metrics then answers only to Authorization: Bearer <BEACON_METRICS_TOKEN>",
            ));
        }
        let trusted_proxies = match env.get("BEACON_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(value) => parse_trusted(&value).map_err(|problem| ConfigError::new("BEACON_TRUSTED_PROXIES", &value, problem))?,
        };
        let sqlite_synchronous = SqliteSynchronous::from_env(&env)?;
        let mutation_rate = match env.get("BEACON_MUTATION_RATE") {
            None => Some(MutationRate { per_second: 20, burst: 100 }),
            Some(value) => MutationRate::parse(&value)?,
        };
        let max_retries = env.number("BEACON_MAX_RETRIES", 3, 1..=1_000)?;
        let router_timeout = Duration::from_secs(env.number("HYBRID_ROUTER_TIMEOUT", 300, 1..=86_400)?);
        let region_concurrency = env.number("BEACON_REGION_CONCURRENCY", 10, 1..=10_000)? as usize;
        let env_defaults = file::EnvDefaults { router_timeout, region_concurrency };
        let config_file = match env.get("BEACON_CONFIG") {
            Some(path) => Some(path),
            // A beacon.toml next to where Beacon starts is used without being named.
            None => Path::new("beacon.toml").is_file().then(|| "beacon.toml".to_string()),
        };
        let setup = match config_file {
            Some(path) => file::load(Path::new(&path), &env_defaults, &|name| lookup(name))
                .map_err(|err| ConfigError::new("BEACON_CONFIG", &path, err.to_string()))?,
            None => file::built_in(&env_defaults),
        };
        Ok(Config {
            site_addr,
            database_url,
            router_url,
            max_retries: max_retries as i64,
            lease: Duration::from_secs(env.number("BEACON_LEASE_SECONDS", 30, 1..=3_600)?),
            auth,
            public_url,
            request_timeout: Duration::from_secs(env.number("BEACON_REQUEST_TIMEOUT", 60, 1..=3_600)?),
            max_streams: env.number("BEACON_MAX_STREAMS", 1_000, 1..=1_000_000)? as usize,
            max_streams_per_client: env.number("BEACON_MAX_STREAMS_PER_CLIENT", 50, 1..=1_000_000)? as usize,
            mutation_rate,
            shutdown_grace: Duration::from_secs(env.number("BEACON_SHUTDOWN_SECONDS", 10, 0..=3_600)?),
            metrics_token,
            max_executions_per_job: env.number("BEACON_MAX_EXECUTIONS_PER_JOB", 50_000, 1..=10_000_000)? as i64,
            divergence_threshold: match env.get("BEACON_DIVERGENCE_THRESHOLD") {
                None => crate::domain::analysis::similarity::DEFAULT_DIVERGENCE_THRESHOLD,
                Some(raw) => raw
                    .parse::<f64>()
                    .ok()
                    .filter(|t| (0.0..=1.0).contains(t))
                    .ok_or_else(|| ConfigError::new("BEACON_DIVERGENCE_THRESHOLD", &raw, "expected a number from 0 to 1".to_string()))?,
            },
            trusted_proxies,
            sqlite_synchronous,
            setup,
        })
    }

    /// Whether `site_addr` was loopback: with auth off on another address, start-up warns.
    pub fn open_to_the_network(&self) -> bool {
        !self.auth && !self.site_addr.ip().is_loopback()
    }
}

struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    /// The trimmed value, or `None` when unset or blank.
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
    }

    fn number(&self, name: &'static str, default: u64, range: std::ops::RangeInclusive<u64>) -> Result<u64, ConfigError> {
        let Some(value) = self.get(name) else { return Ok(default) };
        match value.parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(ConfigError::new(name, &value, format!("must be a whole number from {} to {}", range.start(), range.end()))),
        }
    }
}

impl PublicUrl {
    fn parse(value: &str) -> Result<PublicUrl, ConfigError> {
        let bad = |problem: &str| ConfigError::new("BEACON_PUBLIC_URL", value, problem.to_string());
        let url = reqwest::Url::parse(value).map_err(|_| bad("must be a URL such as https://beacon.example.org"))?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(bad("must start with http:// or https://")),
        };
        let host = url.host_str().ok_or_else(|| bad("must name a host"))?.to_string();
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must not carry credentials"));
        }
        if !matches!(url.path(), "" | "/") || url.query().is_some() {
            return Err(bad("must be an origin only (Beacon is served at the root of its host)"));
        }
        let origin = url.origin().ascii_serialization();
        Ok(PublicUrl { origin, host, https })
    }
}

impl MutationRate {
    /// `20/s,burst=100`, or `off`.
    fn parse(value: &str) -> Result<Option<MutationRate>, ConfigError> {
        if value == "off" {
            return Ok(None);
        }
        let bad = || ConfigError::new("BEACON_MUTATION_RATE", value, "must look like 20/s,burst=100, or be off");
        let (rate, burst) = value.split_once(',').ok_or_else(bad)?;
        let per_second = rate.trim().strip_suffix("/s").ok_or_else(bad)?.trim().parse::<u32>().map_err(|_| bad())?;
        let burst = burst.trim().strip_prefix("burst=").ok_or_else(bad)?.trim().parse::<u32>().map_err(|_| bad())?;
        if per_second == 0 || burst == 0 {
            return Err(bad());
        }
        Ok(Some(MutationRate { per_second, burst }))
    }
}

/// Whether a `Host` header names this machine's loopback (with or without a port): with auth
/// off, those are the only names Beacon answers to (DNS rebinding).
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map(|(name, port)| if port.chars().all(|c| c.is_ascii_digit()) { name } else { host }).unwrap_or(host),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.to_ascii_lowercase().ends_with(".localhost")
        || name.parse::<IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
}

/// `BEACON_TRUSTED_PROXIES`: addresses or CIDRs, comma-separated.
pub fn parse_trusted(value: &str) -> Result<Vec<ipnet::IpNet>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("{entry:?} is neither an address (10.0.0.5) nor a CIDR (10.0.0.0/8)"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_are_addresses_or_cidrs() {
        assert_eq!(parse_trusted("10.0.0.0/8, 192.168.1.7").unwrap().len(), 2);
        assert!(parse_trusted("10.0.0.0/33").is_err());
        assert!(parse_trusted("proxy.local").is_err());
        assert_eq!(parse_trusted("").unwrap(), vec![]);
    }

    fn with(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_need_no_environment() {
        let config = with(&[]).unwrap();
        assert_eq!(config.site_addr.to_string(), "127.0.0.1:8090");
        assert_eq!(config.max_retries, 3);
        assert!(config.setup.providers.iter().all(|p| p.concurrency == 10), "BEACON_REGION_CONCURRENCY's default");
        assert!(config.router_url.is_none());
        assert!(!config.auth);
        assert_eq!(config.mutation_rate, Some(MutationRate { per_second: 20, burst: 100 }));
        assert_eq!(config.shutdown_grace, Duration::from_secs(10));
        assert_eq!(config.max_streams, 1000);
        assert_eq!(config.max_streams_per_client, 50);
    }

    #[test]
    fn every_bad_value_names_its_variable() {
        for (name, value) in [
            ("BEACON_MAX_RETRIES", "lots"),
            ("BEACON_MAX_RETRIES", "0"),
            ("HYBRID_ROUTER_TIMEOUT", "-1"),
            ("BEACON_REGION_CONCURRENCY", "1.5"),
            ("BEACON_LEASE_SECONDS", "99999999999999999999"),
            ("BEACON_REQUEST_TIMEOUT", "sixty"),
            ("BEACON_MAX_STREAMS", "0"),
            ("BEACON_MAX_STREAMS_PER_CLIENT", "x"),
            ("BEACON_SHUTDOWN_SECONDS", "-3"),
            ("BEACON_MUTATION_RATE", "fast"),
            ("BEACON_MUTATION_RATE", "20/m,burst=5"),
            ("BEACON_MUTATION_RATE", "0/s,burst=5"),
            ("BEACON_AUTH", "yes"),
            ("BEACON_PUBLIC_URL", "ftp://beacon.example.org"),
            ("BEACON_PUBLIC_URL", "https://beacon.example.org/sub"),
            ("LEPTOS_SITE_ADDR", "everywhere"),
            ("DATABASE_URL", "mysql://db/beacon"),
            ("HYBRID_ROUTER_URL", "router.local:8000"),
        ] {
            let err = with(&[(name, value)]).unwrap_err();
            assert_eq!(err.name, name, "{value}");
            assert!(err.to_string().starts_with(name), "{err}");
        }
    }

    #[test]
    fn a_network_address_needs_an_explicit_auth_choice() {
        let err = with(&[("LEPTOS_SITE_ADDR", "0.0.0.0:8090")]).unwrap_err();
        assert_eq!(err.name, "BEACON_AUTH");
        let open = with(&[("LEPTOS_SITE_ADDR", "0.0.0.0:8090"), ("BEACON_AUTH", "off")]).unwrap();
        assert!(open.open_to_the_network());
        let closed = with(&[("LEPTOS_SITE_ADDR", "0.0.0.0:8090"), ("BEACON_AUTH", "on"), ("BEACON_METRICS_TOKEN", "t")]).unwrap();
        assert!(closed.auth && !closed.open_to_the_network());
        // Accounts on: /metrics must have its token (SAFETY.md §7).
        let err = with(&[("LEPTOS_SITE_ADDR", "0.0.0.0:8090"), ("BEACON_AUTH", "on")]).unwrap_err();
        assert_eq!(err.name, "BEACON_METRICS_TOKEN");
    }

    #[test]
    fn trusted_proxies_and_durability_parse() {
        let config = with(&[("BEACON_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1"), ("BEACON_SQLITE_SYNCHRONOUS", "NORMAL")]).unwrap();
        assert_eq!(config.trusted_proxies.len(), 2);
        assert_eq!(config.sqlite_synchronous, SqliteSynchronous::Normal);
        assert_eq!(with(&[]).unwrap().sqlite_synchronous, SqliteSynchronous::Full);
        assert_eq!(with(&[("BEACON_TRUSTED_PROXIES", "proxy.local")]).unwrap_err().name, "BEACON_TRUSTED_PROXIES");
        assert_eq!(with(&[("BEACON_SQLITE_SYNCHRONOUS", "off")]).unwrap_err().name, "BEACON_SQLITE_SYNCHRONOUS");
    }

    #[test]
    fn a_bad_database_url_is_echoed_without_its_password() {
        let err = with(&[("DATABASE_URL", "mysql://beacon:hunter2secret@db/beacon")]).unwrap_err();
        assert!(!err.to_string().contains("hunter2secret"), "{err}");
    }

    #[test]
    fn public_url_and_rates_parse() {
        let config = with(&[("BEACON_PUBLIC_URL", "https://Beacon.Example.org/"), ("BEACON_MUTATION_RATE", "5/s, burst=7")]).unwrap();
        let public = config.public_url.unwrap();
        assert_eq!(public.origin, "https://beacon.example.org");
        assert_eq!(public.host, "beacon.example.org");
        assert!(public.https);
        assert_eq!(config.mutation_rate, Some(MutationRate { per_second: 5, burst: 7 }));
        assert_eq!(with(&[("BEACON_MUTATION_RATE", "off")]).unwrap().mutation_rate, None);
    }

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "localhost:8090", "127.0.0.1:8090", "127.8.9.1", "[::1]:8090", "app.localhost"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in ["evil.example", "evil.example:8090", "10.0.0.1:8090", "localhost.evil.example", "[2001:db8::1]:80"] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
