//! What Beacon does, once: REST handlers and server functions are thin callers of these.

pub mod analysis;
pub mod exports;
pub mod housekeeping;
pub mod job_spec;
pub mod jobs;
pub mod questions;
pub mod retry;
