//! How pushed updates and fresh snapshots are merged into what a page shows, and which
//! changes deserve a toast. Pure, so the rules are unit-tested without a browser.

use crate::domain::views::{ExecutionView, JobPageData, JobSummary, RetryAccepted};
use crate::domain::ExecutionStatus;

/// A retry that ended between two looks at a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryEnded {
    Succeeded(String),
    FailedAgain(String),
}

/// Takes a pushed execution unless the row already shows something newer. Returns how a
/// retry of that row ended, if this update is its end.
pub fn apply_execution(data: &mut JobPageData, fresh: ExecutionView) -> Option<RetryEnded> {
    let row = data.executions.iter_mut().find(|e| e.id == fresh.id)?;
    // RFC 3339 in UTC with fixed precision: text order is time order.
    if fresh.updated_at < row.updated_at {
        return None;
    }
    let ended = retry_ended(row, &fresh, data.job.samples > 1);
    *row = fresh;
    ended
}

/// Takes a pushed job status and progress unless it is older than what is shown.
pub fn apply_job(data: &mut JobPageData, fresh: &JobSummary) -> bool {
    let newer = data.job.id == fresh.id && fresh.updated_at >= data.job.updated_at;
    if newer {
        data.job.apply(fresh);
    }
    newer
}

/// Shows an accepted retry at once, from the server's answer, if the row still shows the
/// failure the retry was for.
pub fn apply_accepted(data: &mut JobPageData, accepted: &RetryAccepted) {
    let Ok(id) = accepted.execution_id.parse::<i64>() else { return };
    if let Some(row) = data.executions.iter_mut().find(|e| e.id == id) {
        if row.status.is_failure() {
            row.status = accepted.status;
            row.retry_count = accepted.retry_attempt;
            row.updated_at = accepted.updated_at;
        }
    }
}

/// Replaces the page's data with a fresh snapshot; returns the retries that ended meanwhile,
/// with their executions' ids.
pub fn replace_snapshot(data: &mut JobPageData, fresh: JobPageData) -> Vec<(i64, RetryEnded)> {
    let ended = fresh
        .executions
        .iter()
        .filter_map(|now| {
            let before = data.executions.iter().find(|e| e.id == now.id)?;
            retry_ended(before, now, fresh.job.samples > 1).map(|ended| (now.id, ended))
        })
        .collect();
    *data = fresh;
    ended
}

/// `samples`: the job asks each cell more than once, so a toast names the sample (UI.md §2).
fn retry_ended(before: &ExecutionView, now: &ExecutionView, samples: bool) -> Option<RetryEnded> {
    // Seen retrying before and not now; or a retry that started and ended between two looks
    // (the feed sends an execution's latest state, so a fast retry can arrive finished).
    let finished = now.status != ExecutionStatus::Retrying && (before.status == ExecutionStatus::Retrying || now.retry_count > before.retry_count);
    if !finished {
        return None;
    }
    let sample = if samples { format!(" #{}", now.sample_index + 1) } else { String::new() };
    let cell = format!("{}{sample} · {} · {}", now.question_id, now.model_id, now.region);
    match now.status {
        ExecutionStatus::Completed => Some(RetryEnded::Succeeded(format!("Retry succeeded: {cell}"))),
        status if status.is_failure() => Some(RetryEnded::FailedAgain(format!(
            "Retry failed again: {cell} — {}",
            now.error.clone().or(now.error_code.clone()).unwrap_or_else(|| status.to_string())
        ))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::views::JobView;
    use crate::domain::{JobId, JobStatus, Progress, Region};
    use ExecutionStatus::*;

    fn at(text: &str) -> crate::domain::Timestamp {
        crate::domain::Timestamp::parse(text).expect("an RFC 3339 time")
    }

    fn execution(id: i64, status: ExecutionStatus, retry_count: i64, updated_at: &str) -> ExecutionView {
        ExecutionView::sample(id, status, retry_count, updated_at)
    }

    fn page(rows: Vec<ExecutionView>) -> JobPageData {
        JobPageData {
            cursor: 0,
            job: JobView {
                id: JobId::parse("job").unwrap(),
                status: JobStatus::Running,
                questions: vec![],
                models: vec![],
                regions: vec![Region::new("eu-west").unwrap()],
                created_at: at("2026-01-01T00:00:00.000Z"),
                updated_at: at("2026-01-01T00:00:01.000Z"),
                created_by: None,
                name: None,
                auto_retries: 0,
                warmup: false,
                question_set: None,
                samples: 1,
                temperature: None,
                max_tokens: None,
                seed: None,
                progress: Progress::default(),
                total_executions: rows.len() as i64,
            },
            questions: vec![],
            executions: rows,
            paging: Default::default(),
            region_labels: vec![],
            warmups: vec![],
        }
    }

    const T1: &str = "2026-01-01T00:00:01.000Z";
    const T2: &str = "2026-01-01T00:00:02.000Z";
    const T3: &str = "2026-01-01T00:00:03.000Z";

    #[test]
    fn an_older_update_never_overwrites_a_newer_row() {
        let mut data = page(vec![execution(1, Completed, 1, T2)]);
        assert_eq!(apply_execution(&mut data, execution(1, Retrying, 1, T1)), None);
        assert_eq!(data.executions[0].status, Completed);
        // Unknown rows are ignored (another job's, or not on this page).
        assert_eq!(apply_execution(&mut data, execution(9, Failed, 0, T3)), None);
        assert_eq!(data.executions.len(), 1);
    }

    #[test]
    fn a_toast_names_the_sample_when_the_job_has_several() {
        let mut data = page(vec![execution(1, Retrying, 1, T1)]);
        data.job.samples = 3;
        let mut fresh = execution(1, Completed, 1, T2);
        fresh.sample_index = 1;
        data.executions[0].sample_index = 1;
        let ended = apply_execution(&mut data, fresh);
        assert_eq!(ended, Some(RetryEnded::Succeeded("Retry succeeded: taiwan_status #2 · mistral-7b · eu-west".into())));
    }

    #[test]
    fn the_end_of_a_retry_is_announced_once() {
        let mut data = page(vec![execution(1, Retrying, 1, T1)]);
        let ended = apply_execution(&mut data, execution(1, Completed, 1, T2));
        assert_eq!(ended, Some(RetryEnded::Succeeded("Retry succeeded: taiwan_status · mistral-7b · eu-west".into())));
        // The same state again (a replay after a reconnect) is not a second end.
        assert_eq!(apply_execution(&mut data, execution(1, Completed, 1, T2)), None);
    }

    #[test]
    fn a_retry_that_started_and_failed_between_two_looks_is_announced() {
        let mut data = page(vec![execution(1, Failed, 0, T1)]);
        let ended = apply_execution(&mut data, execution(1, Failed, 1, T2));
        assert_eq!(ended, Some(RetryEnded::FailedAgain("Retry failed again: taiwan_status · mistral-7b · eu-west — cold start".into())));
    }

    #[test]
    fn an_accepted_retry_shows_at_once_but_not_over_a_newer_state() {
        let accepted = RetryAccepted {
            execution_id: "1".into(),
            job_id: JobId::parse("job").unwrap(),
            region: Region::new("eu-west").unwrap(),
            model_id: "mistral-7b".into(),
            question_id: "taiwan_status".into(),
            question_index: 0,
            status: Retrying,
            retry_attempt: 1,
            max_retries: 3,
            updated_at: at(T2),
            sample_index: 0,
            samples: 1,
        };
        let mut data = page(vec![execution(1, Failed, 0, T1)]);
        apply_accepted(&mut data, &accepted);
        assert_eq!((data.executions[0].status, data.executions[0].retry_count), (Retrying, 1));
        // The stream was faster: the retry already completed; the answer must not undo that.
        let mut data = page(vec![execution(1, Completed, 1, T3)]);
        apply_accepted(&mut data, &accepted);
        assert_eq!(data.executions[0].status, Completed);
    }

    #[test]
    fn job_updates_apply_in_time_order_and_to_their_own_job_only() {
        let mut data = page(vec![]);
        let mut summary = data.job.summary();
        summary.status = JobStatus::Completed;
        summary.updated_at = at(T3);
        assert!(apply_job(&mut data, &summary));
        assert_eq!(data.job.status, JobStatus::Completed);
        summary.status = JobStatus::Running;
        summary.updated_at = at(T2);
        assert!(!apply_job(&mut data, &summary));
        summary.id = JobId::parse("other").unwrap();
        summary.updated_at = at("2027-01-01T00:00:00.000Z");
        assert!(!apply_job(&mut data, &summary));
        assert_eq!(data.job.status, JobStatus::Completed);
    }

    #[test]
    fn a_snapshot_replaces_everything_and_reports_retries_that_ended() {
        let mut data = page(vec![execution(1, Retrying, 1, T1), execution(2, Failed, 0, T1)]);
        let fresh = page(vec![execution(1, Failed, 1, T2), execution(2, Failed, 0, T1)]);
        let ended = replace_snapshot(&mut data, fresh.clone());
        assert_eq!(ended.len(), 1);
        assert!(matches!(ended[0], (1, RetryEnded::FailedAgain(_))));
        assert_eq!(data, fresh);
    }
}
