//! Where a retry is decided. The rules of PRODUCT.md §4, in their order, as one pure
//! function: the server applies it inside the transaction that accepts a retry, and the page
//! uses the same facts to choose what a row's action cell offers.

use serde::{Deserialize, Serialize};

use super::views::ExecutionView;
use super::{ExecutionStatus, Region};

/// What is known about an execution when a retry is asked for.
#[derive(Debug, Clone)]
pub struct RetryFacts {
    pub status: ExecutionStatus,
    pub job_cancelled: bool,
    pub region: Region,
    pub question_index: i64,
    pub retry_count: i64,
    pub max_retries: i64,
}

/// Why a retry is refused, in the order the rules are checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RetryRefusal {
    RegionMismatch { expected: Region, got: Region },
    QuestionMismatch { expected: i64, got: i64 },
    NotRetryable,
    AlreadyCompleted,
    InProgress { status: ExecutionStatus },
    MaxRetriesReached { retry_count: i64, max_retries: i64 },
}

impl RetryRefusal {
    pub fn code(&self) -> super::ErrorCode {
        use super::ErrorCode;
        match self {
            RetryRefusal::RegionMismatch { .. } => ErrorCode::RegionMismatch,
            RetryRefusal::QuestionMismatch { .. } => ErrorCode::QuestionMismatch,
            RetryRefusal::NotRetryable => ErrorCode::NotRetryable,
            RetryRefusal::AlreadyCompleted => ErrorCode::AlreadyCompleted,
            RetryRefusal::InProgress { .. } => ErrorCode::InProgress,
            RetryRefusal::MaxRetriesReached { .. } => ErrorCode::MaxRetriesReached,
        }
    }

    pub fn message(&self) -> String {
        match self {
            RetryRefusal::RegionMismatch { expected, got } => {
                format!("region {got} is not this execution's region ({expected})")
            }
            RetryRefusal::QuestionMismatch { expected, got } => {
                format!("question_index {got} is not this execution's question_index ({expected})")
            }
            RetryRefusal::NotRetryable => "This execution's job was cancelled; it cannot be retried".into(),
            RetryRefusal::AlreadyCompleted => "This execution already completed".into(),
            RetryRefusal::InProgress { status } => format!("This execution is {status}; wait for it to finish"),
            RetryRefusal::MaxRetriesReached { retry_count, max_retries } => {
                format!("Max retries reached ({retry_count}/{max_retries})")
            }
        }
    }
}

/// Applies the rules in order. `region` is the requested region as a caller wrote it (code
/// or router region, any case) and has already been parsed.
pub fn decide(facts: &RetryFacts, region: &Region, question_index: i64) -> Result<(), RetryRefusal> {
    if *region != facts.region {
        return Err(RetryRefusal::RegionMismatch { expected: facts.region.clone(), got: region.clone() });
    }
    if question_index != facts.question_index {
        return Err(RetryRefusal::QuestionMismatch { expected: facts.question_index, got: question_index });
    }
    if facts.job_cancelled || facts.status == ExecutionStatus::Cancelled {
        return Err(RetryRefusal::NotRetryable);
    }
    match facts.status {
        ExecutionStatus::Completed => return Err(RetryRefusal::AlreadyCompleted),
        status @ (ExecutionStatus::Pending | ExecutionStatus::Running | ExecutionStatus::Retrying) => {
            return Err(RetryRefusal::InProgress { status })
        }
        _ => {}
    }
    if facts.retry_count >= facts.max_retries {
        return Err(RetryRefusal::MaxRetriesReached { retry_count: facts.retry_count, max_retries: facts.max_retries });
    }
    Ok(())
}

/// What a row's action cell offers (PRODUCT.md §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowAction {
    Answer,
    /// A retry button with this label: "Retry", then "Retry (k/N)".
    Retry {
        label: String,
    },
    Retrying,
    /// An automatic retry waits: "Retrying automatically (k/N)", until `at` (RFC 3339).
    RetryingAutomatically {
        k: i64,
        n: i64,
        at: super::Timestamp,
    },
    MaxRetriesReached,
    Nothing,
}

/// How many of `executions` offer a Retry button: what "Retry all failed (N)" counts.
pub fn retryable_count<'a>(executions: impl IntoIterator<Item = &'a ExecutionView>, job_cancelled: bool) -> usize {
    executions.into_iter().filter(|e| matches!(row_action(e, job_cancelled), RowAction::Retry { .. })).count()
}

pub fn row_action(execution: &ExecutionView, job_cancelled: bool) -> RowAction {
    match execution.status {
        ExecutionStatus::Completed => RowAction::Answer,
        ExecutionStatus::Retrying => match &execution.next_attempt_at {
            Some(at) => RowAction::RetryingAutomatically { k: execution.auto_retry_count, n: execution.auto_retries, at: *at },
            None => RowAction::Retrying,
        },
        status if status.is_failure() && !job_cancelled => failed_action(execution.retry_count, execution.max_retries),
        _ => RowAction::Nothing,
    }
}

/// A failed execution's control, wherever it is shown (a row, an attempt history, a compare
/// cell): "Retry", "Retry (k/N)" or "Max retries reached".
pub fn failed_action(retry_count: i64, max_retries: i64) -> RowAction {
    if retry_count >= max_retries {
        RowAction::MaxRetriesReached
    } else if retry_count == 0 {
        RowAction::Retry { label: "Retry".into() }
    } else {
        RowAction::Retry { label: format!("Retry ({}/{})", retry_count + 1, max_retries) }
    }
}

/// Which failures a job's automatic retries take (PROVIDERS.md §3): the infrastructure's,
/// never an answer the model gave or a request that was wrong.
pub fn is_auto_retryable(error_code: &str) -> bool {
    super::FailureCode::parse(error_code).is_transient()
}

/// The wait before automatic retry number `k` (1-based): the schedule's k-th value (its last
/// repeated), lengthened by `jitter` (a fraction in 0..=0.2, never shortening it), and never
/// sooner than what the provider asked for with `Retry-After`.
pub fn auto_backoff(schedule_ms: &[u64], k: usize, jitter: f64, retry_after_ms: Option<u64>) -> u64 {
    let base = schedule_ms.get(k.saturating_sub(1)).or(schedule_ms.last()).copied().unwrap_or(0);
    let jittered = base + (base as f64 * jitter.clamp(0.0, 0.2)).round() as u64;
    jittered.max(retry_after_ms.unwrap_or(0))
}

/// The cell a retry was accepted for: "Retry queued: taiwan_status · mistral-7b · eu-west".
pub fn accepted_summary(accepted: &super::views::RetryAccepted) -> String {
    // The sample is named when the job asks each cell more than once (UI.md §2).
    let sample = if accepted.samples > 1 { format!(" #{}", accepted.sample_index + 1) } else { String::new() };
    format!("Retry queued: {}{sample} · {} · {}", accepted.question_id, accepted.model_id, accepted.region)
}

/// One line for a batch's answer: "12 queued · 3 skipped: max retries reached".
pub fn batch_summary(result: &super::views::BatchRetryResult) -> String {
    let mut line = format!("{} queued", result.queued.len());
    let mut reasons: Vec<(String, usize)> = Vec::new();
    for skipped in &result.skipped {
        let reason = skipped.code.replace('_', " ");
        match reasons.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, count)) => *count += 1,
            None => reasons.push((reason, 1)),
        }
    }
    for (reason, count) in reasons {
        line.push_str(&format!(" · {count} skipped: {reason}"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eu() -> Region {
        Region::new("eu-west").unwrap()
    }

    fn facts(status: ExecutionStatus, retry_count: i64) -> RetryFacts {
        RetryFacts { status, job_cancelled: false, region: eu(), question_index: 2, retry_count, max_retries: 3 }
    }

    #[test]
    fn only_infrastructure_failures_are_retried_automatically() {
        for code in ["ROUTER_TIMEOUT", "ROUTER_NETWORK", "ROUTER_RATE_LIMITED", "ROUTER_ERROR", "ROUTER_HTTP_500", "ROUTER_HTTP_503"] {
            assert!(is_auto_retryable(code), "{code}");
        }
        for code in [
            "ROUTER_HTTP_404",
            "ROUTER_HTTP_400",
            "ROUTER_JSON_ERROR",
            "ROUTER_EMPTY_RESPONSE",
            "ROUTER_RESPONSE_TOO_LARGE",
            "INTERRUPTED",
            "ROUTER_HTTP_5",
            "ROUTER_HTTP_5000",
        ] {
            assert!(!is_auto_retryable(code), "{code}");
        }
    }

    #[test]
    fn backoff_follows_the_schedule_with_jitter_that_only_lengthens() {
        let schedule = [2_000, 10_000, 30_000];
        assert_eq!(auto_backoff(&schedule, 1, 0.0, None), 2_000);
        assert_eq!(auto_backoff(&schedule, 2, 0.2, None), 12_000);
        assert_eq!(auto_backoff(&schedule, 5, 0.1, None), 33_000, "the last value repeats");
        assert_eq!(auto_backoff(&schedule, 1, 0.9, None), 2_400, "jitter is at most 20 %");
        assert_eq!(auto_backoff(&schedule, 1, -1.0, None), 2_000, "and never shortens");
        assert_eq!(auto_backoff(&schedule, 1, 0.0, Some(5_000)), 5_000, "never sooner than Retry-After");
    }

    #[test]
    fn rules_apply_in_their_order() {
        let f = facts(ExecutionStatus::Completed, 3);
        assert_eq!(decide(&f, &Region::new("us-east").unwrap(), 9).unwrap_err().code().as_str(), "region_mismatch");
        assert_eq!(decide(&f, &eu(), 9).unwrap_err().code().as_str(), "question_mismatch");
        assert_eq!(decide(&RetryFacts { job_cancelled: true, ..f.clone() }, &eu(), 2).unwrap_err().code().as_str(), "not_retryable");
        assert_eq!(decide(&f, &eu(), 2).unwrap_err().code().as_str(), "already_completed");
        for status in [ExecutionStatus::Pending, ExecutionStatus::Running, ExecutionStatus::Retrying] {
            assert_eq!(decide(&facts(status, 3), &eu(), 2).unwrap_err().code().as_str(), "in_progress");
        }
        assert_eq!(decide(&facts(ExecutionStatus::Timeout, 3), &eu(), 2).unwrap_err().code().as_str(), "max_retries_reached");
        assert_eq!(decide(&facts(ExecutionStatus::Error, 2), &eu(), 2), Ok(()));
    }

    fn row(status: ExecutionStatus, retry_count: i64) -> ExecutionView {
        ExecutionView::sample(1, status, retry_count, "2026-01-01T00:00:00.000Z")
    }

    fn retry(label: &str) -> RowAction {
        RowAction::Retry { label: label.into() }
    }

    #[test]
    fn the_action_cell_follows_status_and_budget() {
        use ExecutionStatus::*;
        assert_eq!(row_action(&row(Completed, 0), false), RowAction::Answer);
        assert_eq!(row_action(&row(Retrying, 1), false), RowAction::Retrying);
        for status in [Failed, Timeout, Error] {
            assert_eq!(row_action(&row(status, 0), false), retry("Retry"));
            assert_eq!(row_action(&row(status, 1), false), retry("Retry (2/3)"));
            assert_eq!(row_action(&row(status, 2), false), retry("Retry (3/3)"));
            assert_eq!(row_action(&row(status, 3), false), RowAction::MaxRetriesReached);
            // A cancelled job's failures are final: nothing to offer.
            assert_eq!(row_action(&row(status, 0), true), RowAction::Nothing);
        }
        for status in [Pending, Running, Cancelled] {
            assert_eq!(row_action(&row(status, 0), false), RowAction::Nothing);
        }
    }

    #[test]
    fn retryable_count_counts_rows_offering_a_retry() {
        use ExecutionStatus::*;
        let rows = [row(Failed, 0), row(Timeout, 2), row(Error, 3), row(Completed, 0), row(Retrying, 1), row(Pending, 0)];
        assert_eq!(retryable_count(&rows, false), 2);
        assert_eq!(retryable_count(&rows, true), 0);
        assert_eq!(retryable_count(&[], false), 0);
    }

    #[test]
    fn batch_summary_groups_skips_by_reason_in_first_seen_order() {
        use super::super::views::{BatchRetryResult, SkippedRetry};
        let skipped = |id, code: &str| SkippedRetry { id, code: code.into() };
        let result = BatchRetryResult {
            queued: vec![1, 2, 3],
            skipped: vec![skipped(4, "max_retries_reached"), skipped(5, "in_progress"), skipped(6, "max_retries_reached")],
        };
        assert_eq!(batch_summary(&result), "3 queued · 2 skipped: max retries reached · 1 skipped: in progress");
        assert_eq!(batch_summary(&BatchRetryResult::default()), "0 queued");
    }
}
