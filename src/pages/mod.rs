//! One file per route.

mod admin;
mod analysis;
mod api_docs;
mod compare;
mod execution;
mod home;
mod job;
mod login;
mod not_found;
mod questions;

pub use admin::AdminPage;
pub use analysis::AnalysisPage;
pub use api_docs::ApiDocsPage;
pub use compare::ComparePage;
pub use execution::ExecutionPage;
pub use home::HomePage;
pub use job::JobPage;
pub use login::LoginPage;
pub use not_found::NotFound;
pub use questions::QuestionsPage;
