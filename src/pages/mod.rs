//! One file per route.

mod home;
mod job;
mod not_found;

pub use home::HomePage;
pub use job::JobPage;
pub use not_found::NotFound;
