//! One file per route.

mod execution;
mod home;
mod job;
mod not_found;

pub use execution::ExecutionPage;
pub use home::HomePage;
pub use job::JobPage;
pub use not_found::NotFound;
