//! What operators watch (OPERATIONS.md): logs (human-readable or JSON lines), request ids on
//! every HTTP request and in its log lines.

pub mod logs;
pub mod metrics;
