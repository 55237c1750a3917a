//! The states of executions, jobs and attempts, and what set each state belongs to. The SQL
//! lists the queries use are made from these sets (`*_sql`), so "which statuses are a
//! failure" is decided here and nowhere else. The schema's `CHECK` constraints hold the same
//! spellings (migrations/*/0005); an integration test writes every value through them.

use super::text_enum::{sql_list, text_enum};

text_enum! {
    /// Where one execution (job × region × model × question) is in its life.
    ///
    /// `pending → running → completed | failed | timeout | error`;
    /// `failed | timeout | error → retrying → …`; `pending | running | retrying → cancelled`.
    pub enum ExecutionStatus {
        Pending = "pending",
        Running = "running",
        Completed = "completed",
        Failed = "failed",
        Timeout = "timeout",
        Error = "error",
        Retrying = "retrying",
        Cancelled = "cancelled",
    }
}

impl ExecutionStatus {
    /// Failures a researcher may retry.
    pub const FAILURES: [ExecutionStatus; 3] = [ExecutionStatus::Failed, ExecutionStatus::Timeout, ExecutionStatus::Error];
    /// Queued or in flight: the job is not finished while any row is here.
    pub const ACTIVE: [ExecutionStatus; 3] = [ExecutionStatus::Pending, ExecutionStatus::Running, ExecutionStatus::Retrying];
    /// Waiting for a runner: a new row, or an accepted retry.
    pub const CLAIMABLE: [ExecutionStatus; 2] = [ExecutionStatus::Pending, ExecutionStatus::Retrying];
    /// Held by a runner under a lease (a claimed retry keeps `retrying` until it ends).
    pub const LEASED: [ExecutionStatus; 2] = [ExecutionStatus::Running, ExecutionStatus::Retrying];

    pub fn is_failure(self) -> bool {
        Self::FAILURES.contains(&self)
    }

    pub fn is_active(self) -> bool {
        Self::ACTIVE.contains(&self)
    }

    /// `('a', 'b')` for SQL `IN`.
    pub fn sql(statuses: &[ExecutionStatus]) -> String {
        sql_list(statuses, ExecutionStatus::as_str)
    }
}

text_enum! {
    /// A job's status, always derived from its executions (see [`crate::domain::Progress`]).
    pub enum JobStatus {
        /// Submitted; no execution has started.
        Enqueued = "enqueued",
        Running = "running",
        /// Finished, at least one execution answered (some may have failed).
        Completed = "completed",
        /// Finished, and no execution answered.
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

impl JobStatus {
    pub fn is_finished(self) -> bool {
        matches!(self, JobStatus::Completed | JobStatus::Failed | JobStatus::Cancelled)
    }
}

text_enum! {
    /// How one attempt of an execution went. Beside the execution's own outcomes, an attempt
    /// can wait its turn (`queued`) or be taken from its worker (`interrupted`, `cancelled`).
    pub enum AttemptStatus {
        Queued = "queued",
        Running = "running",
        Completed = "completed",
        Failed = "failed",
        Timeout = "timeout",
        Error = "error",
        Interrupted = "interrupted",
        Cancelled = "cancelled",
    }
}

impl AttemptStatus {
    /// Not finished: at most one attempt per execution is here.
    pub const OPEN: [AttemptStatus; 2] = [AttemptStatus::Queued, AttemptStatus::Running];

    pub fn sql(statuses: &[AttemptStatus]) -> String {
        sql_list(statuses, AttemptStatus::as_str)
    }

    /// The attempt's record of how its execution ended.
    pub fn from_outcome(status: ExecutionStatus) -> AttemptStatus {
        match status {
            ExecutionStatus::Completed => AttemptStatus::Completed,
            ExecutionStatus::Failed => AttemptStatus::Failed,
            ExecutionStatus::Timeout => AttemptStatus::Timeout,
            ExecutionStatus::Cancelled => AttemptStatus::Cancelled,
            ExecutionStatus::Pending => AttemptStatus::Queued,
            ExecutionStatus::Running | ExecutionStatus::Retrying => AttemptStatus::Running,
            ExecutionStatus::Error => AttemptStatus::Error,
        }
    }
}

text_enum! {
    /// Where a warm-up of one (provider, model) is (PROVIDERS.md's warm-ups). A warm-up waiting
    /// for its provider is shown as `running`: it is part of the same wait.
    pub enum WarmupStatus {
        Pending = "pending",
        Running = "running",
        /// The provider answered: the job's rows may go there.
        Ok = "ok",
        /// It never answered within the time-out: the rows go anyway, and say why they fail.
        Failed = "failed",
    }
}

text_enum! {
    /// What started an attempt.
    pub enum Trigger {
        /// The execution's first attempt, when its job was submitted.
        Initial = "initial",
        /// A researcher's Retry on one row (page or REST).
        Manual = "manual",
        /// "Retry all failed".
        Batch = "batch",
        /// Beacon's own retry of an infrastructure failure.
        Auto = "auto",
    }
}

text_enum! {
    /// The named events of the live streams.
    pub enum LiveEventKind {
        /// An execution's new state (data: its view).
        Execution = "execution",
        /// A job's status and progress (data: its summary).
        Job = "job",
        /// The client missed too much: it should load a fresh snapshot.
        Resync = "resync",
    }
}

impl LiveEventKind {
    /// What the event means and carries, as the API's document says it.
    pub fn describe(self) -> &'static str {
        match self {
            LiveEventKind::Execution => "an execution's new state; data: its `ExecutionView`",
            LiveEventKind::Job => "a job's status and progress; data: its `JobSummary`",
            LiveEventKind::Resync => "the stream missed too much; load a fresh snapshot; data: `{}`",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip_and_unknown_values_are_errors() {
        for status in ExecutionStatus::ALL {
            assert_eq!(ExecutionStatus::parse(status.as_str()), Some(*status));
            let json = serde_json::to_string(status).unwrap();
            assert_eq!(serde_json::from_str::<ExecutionStatus>(&json).unwrap(), *status);
        }
        assert_eq!(ExecutionStatus::parse("Pending"), None);
        assert_eq!(ExecutionStatus::parse("done"), None);
        let err = serde_json::from_str::<JobStatus>("\"paused\"").unwrap_err().to_string();
        assert!(err.contains("unknown JobStatus \"paused\""), "{err}");
        assert_eq!("auto".parse::<Trigger>(), Ok(Trigger::Auto));
        assert!("automatic".parse::<Trigger>().is_err());
    }

    #[test]
    fn sql_lists_are_the_sets_the_code_means() {
        assert_eq!(ExecutionStatus::sql(&ExecutionStatus::FAILURES), "('failed', 'timeout', 'error')");
        assert_eq!(ExecutionStatus::sql(&ExecutionStatus::ACTIVE), "('pending', 'running', 'retrying')");
        assert_eq!(AttemptStatus::sql(&AttemptStatus::OPEN), "('queued', 'running')");
        for status in ExecutionStatus::ALL {
            assert_eq!(status.is_failure(), ExecutionStatus::FAILURES.contains(status));
            assert!(!(status.is_failure() && status.is_active()), "{status} is both");
        }
    }
}
