use serde::{Deserialize, Serialize};

/// Where one execution (job × region × model × question) is in its life.
///
/// `pending → running → completed | failed | timeout | error`;
/// `failed | timeout | error → retrying → …`; `pending | running | retrying → cancelled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutionStatus {
    Pending,
    Running,
    Completed,
    Failed,
    Timeout,
    Error,
    Retrying,
    Cancelled,
}

impl ExecutionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Pending => "pending",
            ExecutionStatus::Running => "running",
            ExecutionStatus::Completed => "completed",
            ExecutionStatus::Failed => "failed",
            ExecutionStatus::Timeout => "timeout",
            ExecutionStatus::Error => "error",
            ExecutionStatus::Retrying => "retrying",
            ExecutionStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "pending" => ExecutionStatus::Pending,
            "running" => ExecutionStatus::Running,
            "completed" => ExecutionStatus::Completed,
            "failed" => ExecutionStatus::Failed,
            "timeout" => ExecutionStatus::Timeout,
            "error" => ExecutionStatus::Error,
            "retrying" => ExecutionStatus::Retrying,
            "cancelled" => ExecutionStatus::Cancelled,
            _ => return None,
        })
    }

    /// A failure that a researcher may retry.
    pub fn is_failure(self) -> bool {
        matches!(self, ExecutionStatus::Failed | ExecutionStatus::Timeout | ExecutionStatus::Error)
    }

    /// Work that is queued or in flight: the job is not finished while any row is here.
    pub fn is_active(self) -> bool {
        matches!(self, ExecutionStatus::Pending | ExecutionStatus::Running | ExecutionStatus::Retrying)
    }
}

impl std::fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job's status, always derived from its executions (see [`crate::domain::Progress`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Submitted; no execution has started.
    Enqueued,
    Running,
    /// Finished, at least one execution answered (some may have failed).
    Completed,
    /// Finished, and no execution answered.
    Failed,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Enqueued => "enqueued",
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "enqueued" => JobStatus::Enqueued,
            "running" => JobStatus::Running,
            "completed" => JobStatus::Completed,
            "failed" => JobStatus::Failed,
            "cancelled" => JobStatus::Cancelled,
            _ => return None,
        })
    }

    pub fn is_finished(self) -> bool {
        matches!(self, JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled)
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
