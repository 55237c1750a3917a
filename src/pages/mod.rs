//! One file per route.

mod admin;
mod execution;
mod home;
mod job;
mod not_found;

pub use admin::AdminPage;
pub use execution::ExecutionPage;
pub use home::HomePage;
pub use job::JobPage;
pub use not_found::NotFound;
