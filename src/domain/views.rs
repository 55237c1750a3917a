//! The shapes Beacon shows: returned by the REST API and by server functions alike, so the
//! page and scripts see the same fields (DOMAIN.md's names, with additions, never renames).
//! Timestamps are RFC 3339 strings in UTC; durations are milliseconds.

use serde::{Deserialize, Serialize};

use super::{AttemptStatus, ExecutionStatus, JobId, JobStatus, Progress, Region, Timestamp, Trigger};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct QuestionView {
    pub id: String,
    /// Null for a question stored without one.
    pub category: Option<String>,
    /// Untrusted text: shown as text, never as HTML.
    pub text: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Asked by some job: it can no longer change.
    #[serde(default)]
    pub in_use: bool,
}

/// A question set: named, ordered questions a job can be built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct QuestionSetView {
    pub id: String,
    pub name: String,
    /// Its question ids, in order.
    pub questions: Vec<String>,
    pub created_at: Timestamp,
    pub created_by: Option<String>,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobView {
    pub id: JobId,
    pub status: JobStatus,
    /// Question ids in job order: the position is the `question_index`.
    pub questions: Vec<String>,
    pub models: Vec<String>,
    pub regions: Vec<Region>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The account that submitted it (null with accounts off).
    pub created_by: Option<String>,
    /// What researchers call the job, 1–120 characters (null when not given).
    #[serde(default)]
    pub name: Option<String>,
    /// Automatic retries per attempt chain.
    #[serde(default)]
    pub auto_retries: i64,
    /// Whether the job warms its providers up first.
    #[serde(default)]
    pub warmup: bool,
    /// The question set the job was built from, if any.
    #[serde(default)]
    pub question_set: Option<String>,
    /// Executions per cell (question × model × region), `sample_index` 0..samples-1.
    #[serde(default = "one")]
    pub samples: i64,
    /// The generation parameters every execution was sent with (null for jobs from before
    /// they were recorded).
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub max_tokens: Option<i64>,
    #[serde(default)]
    pub seed: Option<i64>,
    pub progress: Progress,
    /// Expected executions: questions × models × regions × samples.
    pub total_executions: i64,
}

/// A job's status and progress without its lists: what the live streams send, so an event's
/// size does not grow with the job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobSummary {
    pub id: JobId,
    pub status: JobStatus,
    pub progress: Progress,
    pub total_executions: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub created_by: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

impl JobView {
    pub fn summary(&self) -> JobSummary {
        JobSummary {
            id: self.id.clone(),
            status: self.status,
            progress: self.progress,
            total_executions: self.total_executions,
            created_at: self.created_at,
            updated_at: self.updated_at,
            created_by: self.created_by.clone(),
            name: self.name.clone(),
        }
    }

    /// Takes a pushed summary's status and progress.
    pub fn apply(&mut self, summary: &JobSummary) {
        self.status = summary.status;
        self.progress = summary.progress;
        self.updated_at = summary.updated_at;
    }

    /// A job first heard of through a summary (the jobs list needs no more).
    pub fn from_summary(summary: JobSummary) -> JobView {
        JobView {
            id: summary.id,
            status: summary.status,
            questions: Vec::new(),
            models: Vec::new(),
            regions: Vec::new(),
            created_at: summary.created_at,
            updated_at: summary.updated_at,
            created_by: summary.created_by,
            name: summary.name,
            auto_retries: 0,
            warmup: false,
            question_set: None,
            samples: 1,
            temperature: None,
            max_tokens: None,
            seed: None,
            progress: summary.progress,
            total_executions: summary.total_executions,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// An execution as the API sends it, the pages show it and the database returns it (one
/// struct: the row is the view).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::FromRow))]
pub struct ExecutionView {
    pub id: i64,
    pub job_id: JobId,
    pub status: ExecutionStatus,
    pub region: Region,
    pub model_id: String,
    pub question_id: String,
    pub question_index: i64,
    /// Which of the cell's samples this is: 0..samples-1. A cell is
    /// (question, model, region, sample_index).
    #[serde(default)]
    pub sample_index: i64,
    pub provider_id: Option<String>,
    /// The model's answer: untrusted text, never rendered as HTML.
    pub output: Option<String>,
    pub error: Option<String>,
    pub error_code: Option<String>,
    pub original_error: Option<String>,
    pub original_error_code: Option<String>,
    pub retry_count: i64,
    pub max_retries: i64,
    pub last_retry_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Duration of the latest attempt that finished.
    pub duration_ms: Option<i64>,
    /// Attempts made or queued so far (initial + retries).
    pub attempts: i64,
    /// Automatic retries allowed per attempt chain, and used by the current chain
    /// (`retry_count` counts manual and batch retries only).
    #[serde(default)]
    pub auto_retries: i64,
    #[serde(default)]
    pub auto_retry_count: i64,
    /// When the automatic retry waiting now may start.
    #[serde(default)]
    pub next_attempt_at: Option<Timestamp>,
}

impl ExecutionView {
    /// A row for unit tests: `taiwan_status · mistral-7b · eu-west`, 3 retries allowed, with
    /// the error "cold start" when failed.
    #[cfg(test)]
    pub fn sample(id: i64, status: ExecutionStatus, retry_count: i64, updated_at: &str) -> ExecutionView {
        let at = |text: &str| Timestamp::parse(text).expect("an RFC 3339 time");
        ExecutionView {
            id,
            job_id: JobId::parse("job").expect("a valid id"),
            status,
            region: Region::new("eu-west").unwrap(),
            model_id: "mistral-7b".into(),
            question_id: "taiwan_status".into(),
            question_index: 0,
            sample_index: 0,
            provider_id: None,
            output: None,
            error: (status == ExecutionStatus::Failed).then(|| "cold start".to_string()),
            error_code: None,
            original_error: None,
            original_error_code: None,
            retry_count,
            max_retries: 3,
            last_retry_at: None,
            started_at: None,
            completed_at: None,
            created_at: at("2026-01-01T00:00:00.000Z"),
            updated_at: at(updated_at),
            duration_ms: None,
            attempts: retry_count + 1,
            auto_retries: 0,
            auto_retry_count: 0,
            next_attempt_at: None,
        }
    }

    /// Retries still allowed.
    pub fn retries_left(&self) -> i64 {
        (self.max_retries - self.retry_count).max(0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AttemptView {
    pub number: i64,
    pub trigger: Trigger,
    pub status: AttemptStatus,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub provider_id: Option<String>,
    pub queued_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub duration_ms: Option<i64>,
    /// The router request exactly as sent.
    pub request: serde_json::Value,
    /// This attempt's own answer: on time, or late (arrived after the execution was cancelled
    /// or swept; the execution's status did not change).
    pub output: Option<String>,
    pub late: bool,
    /// Provenance: the configured provider and its kind, the region that
    /// served it, the model the provider says answered, why it stopped, token usage, and the
    /// SHA-256 of the exact request body (equal across the attempts of one provider).
    pub provider_kind: Option<String>,
    pub region: Option<Region>,
    pub served_model: Option<String>,
    pub finish_reason: Option<String>,
    pub usage: Option<Usage>,
    pub system_fingerprint: Option<String>,
    pub request_hash: Option<String>,
    /// For an automatic attempt: how long it waited before it started.
    pub backoff_ms: Option<i64>,
    /// Who asked for a manual or batch attempt (null with accounts off, and for the runner's
    /// own attempts).
    pub requested_by: Option<String>,
}

/// One warm-up of a job, as `GET /api/v1/jobs/:id/warmups` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WarmupView {
    pub provider_id: String,
    pub region: Region,
    pub model_id: String,
    pub status: super::WarmupStatus,
    pub requests: i64,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
}

/// Tokens an attempt used, as the provider reported them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Usage {
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
}

/// Everything the job page renders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobPageData {
    /// The change-log position this snapshot is at: the live stream resumes after it.
    pub cursor: i64,
    pub job: JobView,
    pub questions: Vec<QuestionView>,
    /// One page of the job's executions (at most `PageInfo::per_page`), in table order.
    pub executions: Vec<ExecutionView>,
    pub paging: PageInfo,
    /// Each of the job's regions with its label from the configuration.
    pub region_labels: Vec<(Region, String)>,
    /// The job's warm-ups, when it asked for them.
    #[serde(default)]
    pub warmups: Vec<WarmupView>,
}

/// The answer to an accepted retry (shape: `execution_id` is a string there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RetryAccepted {
    pub execution_id: String,
    pub job_id: JobId,
    pub region: Region,
    pub model_id: String,
    pub question_id: String,
    pub question_index: i64,
    pub status: ExecutionStatus,
    /// The retry this acceptance started: 1 for the first retry.
    pub retry_attempt: i64,
    pub max_retries: i64,
    pub updated_at: Timestamp,
    /// Which of the cell's samples, and how many the job asks per cell.
    #[serde(default)]
    pub sample_index: i64,
    #[serde(default = "one")]
    pub samples: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SkippedRetry {
    pub id: i64,
    pub code: String,
}

/// The answer to "retry all failed".
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BatchRetryResult {
    pub queued: Vec<i64>,
    pub skipped: Vec<SkippedRetry>,
}

/// One execution with its full attempt history, for the history page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ExecutionHistory {
    pub execution: ExecutionView,
    pub question_text: String,
    pub attempts: Vec<AttemptView>,
    /// The job's samples per cell: the page names the sample when there is more than one.
    #[serde(default = "one")]
    pub samples: i64,
    /// A cancelled job's failures offer no retry, here as in the row.
    #[serde(default)]
    pub job_cancelled: bool,
}

/// Which of a job's executions a page or an API call wants: any combination of statuses, one
/// region, one model. Empty means all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionFilter {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<ExecutionStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl ExecutionFilter {
    /// From the query string's words: `status` as a comma-separated list of statuses,
    /// `region` as a code or router region, `model` as a model id. Each bad word is named.
    pub fn parse(status: Option<&str>, region: Option<&str>, model: Option<&str>) -> Result<ExecutionFilter, String> {
        fn present(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        let statuses = match present(status) {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(|s| ExecutionStatus::parse(s.trim()).ok_or_else(|| format!("status: unknown status {s:?}")))
                .collect::<Result<_, _>>()?,
        };
        let region = match present(region) {
            None => None,
            Some(raw) => Some(Region::new(&raw.to_ascii_lowercase()).ok_or_else(|| format!("region: not a region id {raw:?}"))?),
        };
        let model = present(model).map(str::to_string);
        Ok(ExecutionFilter { statuses, region, model })
    }

    pub fn is_empty(&self) -> bool {
        self.statuses.is_empty() && self.region.is_none() && self.model.is_none()
    }

    /// The query string that selects this filter (`status=failed,timeout&region=us-east`).
    pub fn query(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if !self.statuses.is_empty() {
            pairs.push(("status", self.statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")));
        }
        if let Some(region) = &self.region {
            pairs.push(("region", region.router_region().to_string()));
        }
        if let Some(model) = &self.model {
            pairs.push(("model", model.clone()));
        }
        pairs
    }

    pub fn matches(&self, execution: &ExecutionView) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&execution.status))
            && self.region.as_ref().is_none_or(|r| *r == execution.region)
            && self.model.as_ref().is_none_or(|m| *m == execution.model_id)
    }
}

/// Where a paged job page is: which page of how many, under which filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageInfo {
    /// 1-based.
    pub page: i64,
    pub pages: i64,
    /// Executions matching the filter, on all pages.
    pub matching: i64,
    pub per_page: i64,
    pub filter: ExecutionFilter,
}

/// The comparison's filters as written, in the page's address and the REST route's query
/// string alike: parsed (and refused with a reason) by the server (`CompareFilter::from_query`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct CompareQuery {
    /// Only this model's rows.
    pub model: Option<String>,
    /// Only questions of this category.
    pub category: Option<String>,
    /// `true`: only rows that diverge.
    pub diverging: Option<String>,
    /// `true`: only rows where some region refused.
    pub refused: Option<String>,
    /// `true`: only rows where some region of the job has no answer.
    #[serde(default)]
    pub incomplete: Option<String>,
    /// 1-based; 100 rows a page.
    pub page: Option<String>,
}
