//! Types shared by the server and the browser: what a region, a model, a status and a
//! progress count *are*, independent of where they are stored or shown.

pub mod model;
pub mod progress;
pub mod region;
pub mod retry;
pub mod status;
pub mod views;

pub use model::Model;
pub use progress::Progress;
pub use region::Region;
pub use status::{ExecutionStatus, JobStatus};
