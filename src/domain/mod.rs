//! Types shared by the server and the browser: what a region, a model, a status, an id and a
//! progress count *are*, independent of where they are stored or shown.

pub mod account;
pub mod analysis;
pub mod error;
pub mod error_code;
pub mod failure_code;
pub mod failure_reason;
pub mod ids;
pub mod job;
pub mod job_name;
pub mod model;
pub mod progress;
pub mod question;
pub mod region;
pub mod retry;
pub mod status;
pub(crate) mod text_enum;
pub mod timestamp;
pub mod views;

pub use account::{LoginRefusal, Role, Visitor};
pub use error::ApiError;
pub use error_code::ErrorCode;
pub use failure_code::FailureCode;
pub use ids::{ExecutionId, IdempotencyKey, JobId, ModelId, QuestionId};
pub use job_name::JobName;
pub use model::{Catalogue, ModelInfo, RegionInfo};
pub use progress::Progress;
pub use region::Region;
pub use status::{AttemptStatus, ExecutionStatus, JobStatus, LiveEventKind, Trigger, WarmupStatus};
pub use timestamp::Timestamp;
