//! Logs (OPERATIONS.md §3): human-readable by default; `BEACON_LOG_FORMAT=json` writes one
//! JSON object per line (timestamp, level, target, message, fields, and the request's span:
//! its `request_id`, method and path). `RUST_LOG` filters either way.

use tracing_subscriber::EnvFilter;

use crate::server::config::ConfigError;

/// Installs the process's log output. A bad `BEACON_LOG_FORMAT` is a bad setting (exit 2).
pub fn init() -> Result<(), ConfigError> {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let format = std::env::var("BEACON_LOG_FORMAT").unwrap_or_default();
    match format.trim() {
        "" | "text" => tracing_subscriber::fmt().with_env_filter(filter()).init(),
        "json" => tracing_subscriber::fmt().json().flatten_event(true).with_current_span(true).with_span_list(false).with_env_filter(filter()).init(),
        other => return Err(ConfigError::invalid("BEACON_LOG_FORMAT", other, "must be text or json")),
    }
    Ok(())
}
