//! A job as submitted, parsed at the edge: the REST handler and the new-job form's server
//! function turn the body into a [`JobSpec`] before anything else runs, so the service only
//! sees values that are known to be well formed and configured (models, regions, limits);
//! what needs the database (the questions exist, the job's size) the service checks.

use std::collections::HashSet;

use serde::Deserialize;

use crate::domain::job::JobLimits;
use crate::domain::{JobId, JobName, ModelId, QuestionId, Region};
use crate::server::config::Setup;
use crate::server::error::AppError;

/// `POST /api/v1/jobs`'s body, also what the new-job form sends.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct CreateJob {
    #[serde(default)]
    pub id: Option<String>,
    /// What researchers call the job: 1–120 characters, shown on its page, in the jobs list
    /// and in its export files' names.
    #[serde(default)]
    pub name: Option<String>,
    /// Question ids, in job order; with `question_set`, asked after the set's questions.
    #[serde(default)]
    pub questions: Vec<String>,
    /// A question set whose questions the job asks, in the set's order.
    #[serde(default)]
    pub question_set: Option<String>,
    pub models: Vec<String>,
    pub regions: Vec<String>,
    /// Automatic retries of infrastructure failures per attempt chain (0–5); the
    /// configuration's `[defaults] auto_retries` when absent.
    #[serde(default)]
    pub auto_retries: Option<i64>,
    /// Warm each (provider, model) up before its first execution.
    #[serde(default)]
    pub warmup: bool,
    /// Executions per cell, 1–20 (default 1).
    #[serde(default)]
    pub samples: Option<i64>,
    /// 0–2; the configuration's `[defaults] temperature` when absent.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// 1–8192; the configuration's `[defaults] max_tokens` when absent.
    #[serde(default)]
    pub max_tokens: Option<i64>,
    #[serde(default)]
    pub seed: Option<i64>,
}

/// A [`CreateJob`] whose every field is checked against the limits and the configuration.
#[derive(Debug, Clone)]
pub struct JobSpec {
    pub id: Option<JobId>,
    pub name: Option<JobName>,
    pub question_set: Option<QuestionId>,
    /// Listed questions, distinct, in the order given (asked after the set's).
    pub questions: Vec<QuestionId>,
    pub models: Vec<ModelId>,
    pub regions: Vec<Region>,
    pub samples: i64,
    pub temperature: f64,
    pub max_tokens: i64,
    pub auto_retries: i64,
    pub seed: Option<i64>,
    /// Each (provider, region, model) to warm before its first execution, when asked for.
    pub warmups: Option<Vec<(String, Region, String)>>,
}

impl JobSpec {
    /// Checks `request` field by field, in the form's order, and names the first bad field.
    pub fn parse(request: &CreateJob, setup: &Setup) -> Result<JobSpec, AppError> {
        let name = match request.name.as_deref().map(JobName::parse) {
            None => None,
            Some(Ok(Some(name))) => Some(name),
            Some(Ok(None)) => return Err(AppError::invalid_request("name: must be 1–120 characters, got a blank one; leave it out for no name")),
            Some(Err(message)) => return Err(AppError::invalid_request(message)),
        };
        let question_set = match request.question_set.as_deref() {
            None => None,
            Some(raw) => Some(QuestionId::parse(raw).map_err(|_| JobSpec::unknown_set(raw))?),
        };
        let questions = if question_set.is_some() && request.questions.is_empty() {
            Vec::new()
        } else {
            distinct_nonempty("questions", &request.questions, |raw| QuestionId::parse(raw).ok())?
        };
        // The defaults were checked against the same limits when the configuration was read.
        let defaults = &setup.defaults;
        let samples = in_range("samples", request.samples, 1, JobLimits::SAMPLES)?;
        let max_tokens = in_range("max_tokens", request.max_tokens, i64::from(defaults.max_tokens), JobLimits::MAX_TOKENS)?;
        let temperature = in_range("temperature", request.temperature, defaults.temperature, JobLimits::TEMPERATURE)?;
        let auto_retries = in_range("auto_retries", request.auto_retries, i64::from(defaults.auto_retries), JobLimits::AUTO_RETRIES)?;
        let catalogue = &setup.catalogue;
        let models = distinct_nonempty("models", &request.models, |id| catalogue.model_id(id))?;
        let regions: Vec<Region> = distinct_nonempty("regions", &request.regions, |raw| catalogue.region(raw).map(|r| r.id.clone()))?;
        // Every (region, model) asked for must have a provider: name the first that has none.
        for region in &regions {
            if let Some(model) = models.iter().find(|model| !catalogue.serves(region, model.as_str())) {
                return Err(AppError::invalid_request(format!("no provider serves {model} in {region}; see GET /api/v1/models")));
            }
        }
        let id = match &request.id {
            Some(raw) => Some(JobId::parse(raw).map_err(|invalid| AppError::invalid_request(format!("id: {invalid}")))?),
            None => None,
        };
        let warmups = request.warmup.then(|| {
            let mut pairs = Vec::new();
            for provider in &setup.providers {
                for model in &models {
                    if regions.contains(&provider.region) && provider.models.contains_key(model.as_str()) {
                        pairs.push((provider.id.clone(), provider.region.clone(), model.to_string()));
                    }
                }
            }
            pairs
        });
        Ok(JobSpec {
            id,
            name,
            question_set,
            questions,
            models,
            regions,
            samples,
            temperature,
            max_tokens,
            auto_retries,
            seed: request.seed,
            warmups,
        })
    }

    pub fn unknown_set(raw: &str) -> AppError {
        AppError::invalid_request(format!("question_set: unknown question set {raw:?}; see GET /api/v1/question-sets"))
    }
}

/// An optional number within bounds, or the default.
fn in_range<T: PartialOrd + std::fmt::Display>(field: &str, value: Option<T>, default: T, range: std::ops::RangeInclusive<T>) -> Result<T, AppError> {
    match value {
        None => Ok(default),
        Some(n) if range.contains(&n) => Ok(n),
        Some(n) => Err(AppError::invalid_request(JobLimits::out_of_range(field, &range, n))),
    }
}

/// Parses every entry of a list field, refusing an empty list, unknown values and duplicates
/// (after parsing, so `US` and `us-east` count as the same region).
fn distinct_nonempty<T: Clone + Eq + std::hash::Hash>(field: &str, raw: &[String], parse: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, AppError> {
    if raw.is_empty() {
        // "models" → "pick at least one model": the form shows the words after the field's name.
        let item = field.strip_suffix('s').unwrap_or(field);
        return Err(AppError::invalid_request(format!("{field}: pick at least one {item}")));
    }
    let mut seen = HashSet::new();
    let mut parsed = Vec::with_capacity(raw.len());
    for value in raw {
        let item = parse(value).ok_or_else(|| AppError::invalid_request(format!("{field}: unknown value {value:?}")))?;
        if !seen.insert(item.clone()) {
            return Err(AppError::invalid_request(format!("{field}: {value:?} is listed twice")));
        }
        parsed.push(item);
    }
    Ok(parsed)
}
