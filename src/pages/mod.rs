//! One file per route.

mod admin;
mod analysis;
mod api_docs;
mod compare;
mod execution;
mod home;
mod job;
mod not_found;

pub use admin::AdminPage;
pub use analysis::AnalysisPage;
pub use api_docs::ApiDocsPage;
pub use compare::ComparePage;
pub use execution::ExecutionPage;
pub use home::HomePage;
pub use job::JobPage;
pub use not_found::NotFound;
