use serde::{Deserialize, Serialize};

use super::{ExecutionStatus, JobStatus};

/// Counts of executions by what a researcher cares about. Every bar, counter and job status
/// is derived from this one struct, so they cannot disagree with each other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Progress {
    pub total: i64,
    pub pending: i64,
    pub running: i64,
    pub retrying: i64,
    pub completed: i64,
    /// failed + timeout + error
    pub failed: i64,
    pub cancelled: i64,
    /// Of `failed`, those with no retries left.
    #[serde(default)]
    pub exhausted: i64,
}

impl Progress {
    pub fn add(&mut self, status: ExecutionStatus, count: i64) {
        self.total += count;
        match status {
            ExecutionStatus::Pending => self.pending += count,
            ExecutionStatus::Running => self.running += count,
            ExecutionStatus::Retrying => self.retrying += count,
            ExecutionStatus::Completed => self.completed += count,
            ExecutionStatus::Failed | ExecutionStatus::Timeout | ExecutionStatus::Error => self.failed += count,
            ExecutionStatus::Cancelled => self.cancelled += count,
        }
    }

    /// Counts a job's (or a region's) executions, including which failures are final.
    pub fn from_executions<'a>(executions: impl IntoIterator<Item = &'a super::views::ExecutionView>) -> Self {
        let mut progress = Progress::default();
        for execution in executions {
            progress.add(execution.status, 1);
            if execution.status.is_failure() && execution.retry_count >= execution.max_retries {
                progress.exhausted += 1;
            }
        }
        progress
    }

    #[cfg(test)]
    pub fn from_statuses(statuses: impl IntoIterator<Item = ExecutionStatus>) -> Self {
        let mut progress = Progress::default();
        for status in statuses {
            progress.add(status, 1);
        }
        progress
    }

    /// Executions that have reached an end state (for "done / total").
    pub fn done(&self) -> i64 {
        self.completed + self.failed + self.cancelled
    }

    pub fn active(&self) -> i64 {
        self.pending + self.running + self.retrying
    }

    /// Failures that still offer a Retry: what "Retry all failed (N)" counts for a whole job,
    /// whether or not its rows are all on the page.
    pub fn retryable(&self, job_cancelled: bool) -> i64 {
        if job_cancelled {
            0
        } else {
            self.failed - self.exhausted
        }
    }

    /// The job status these counts imply. `cancelled` is sticky: a cancelled job stays so.
    pub fn job_status(&self, cancelled: bool) -> JobStatus {
        if cancelled {
            JobStatus::Cancelled
        } else if self.total == 0 || self.pending == self.total {
            JobStatus::Enqueued
        } else if self.active() > 0 {
            JobStatus::Running
        } else if self.completed > 0 {
            JobStatus::Completed
        } else {
            JobStatus::Failed
        }
    }

    /// Width of a bar segment, in percent of the whole job.
    pub fn percent(&self, part: i64) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            (part as f64) * 100.0 / (self.total as f64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ExecutionStatus::*;

    #[test]
    fn job_status_follows_the_executions() {
        assert_eq!(Progress::from_statuses([Pending, Pending]).job_status(false), JobStatus::Enqueued);
        assert_eq!(Progress::from_statuses([Pending, Completed]).job_status(false), JobStatus::Running);
        assert_eq!(Progress::from_statuses([Retrying, Completed]).job_status(false), JobStatus::Running);
        assert_eq!(Progress::from_statuses([Failed, Completed]).job_status(false), JobStatus::Completed);
        assert_eq!(Progress::from_statuses([Timeout, Error]).job_status(false), JobStatus::Failed);
        assert_eq!(Progress::from_statuses([Completed]).job_status(true), JobStatus::Cancelled);
    }

    #[test]
    fn every_execution_is_counted_exactly_once() {
        let p = Progress::from_statuses([Pending, Running, Retrying, Completed, Failed, Timeout, Error, Cancelled]);
        assert_eq!(p.total, 8);
        assert_eq!(p.pending + p.running + p.retrying + p.completed + p.failed + p.cancelled, p.total);
        assert_eq!(p.done() + p.active(), p.total);
    }
}
