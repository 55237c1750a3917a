//! Server functions: the page's calls into the server. Each is a public endpoint, so each
//! validates like a REST handler and delegates to the same service.

pub mod jobs;
pub mod retries;
