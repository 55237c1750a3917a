use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::views::{ExecutionFilter, JobPageData, JobView, QuestionView};
use crate::domain::{ApiError, Catalogue, JobId};

/// What the home page shows: the catalogue for the new-job form and the recent jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomeData {
    /// The first questions of the catalogue, to tick one by one (larger studies use a set).
    pub questions: Vec<QuestionView>,
    /// Every question set: id, name and how many questions it holds.
    #[serde(default)]
    pub question_sets: Vec<(String, String, usize)>,
    /// The configured regions and models, for the new-job form.
    pub catalogue: Catalogue,
    /// The configuration's defaults for a job's automatic retries and generation parameters.
    pub auto_retries_default: i64,
    #[serde(default)]
    pub temperature_default: f64,
    #[serde(default)]
    pub max_tokens_default: i64,
    pub jobs: Vec<JobView>,
}

/// A job page's query string, as written: parsed (and refused with a reason) by the server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobPageQuery {
    pub page: Option<String>,
    pub status: Option<String>,
    pub region: Option<String>,
    pub model: Option<String>,
}

impl JobPageQuery {
    pub async fn load(self, id: String) -> Result<JobPageData, ApiError> {
        load_job_page(id, self.page, self.status, self.region, self.model).await
    }

    /// The query that shows `filter`'s rows, page `page`.
    pub fn of(filter: &ExecutionFilter, page: i64) -> JobPageQuery {
        let mut query = JobPageQuery { page: (page > 1).then(|| page.to_string()), ..Default::default() };
        for (key, value) in filter.query() {
            match key {
                "status" => query.status = Some(value),
                "region" => query.region = Some(value),
                _ => query.model = Some(value),
            }
        }
        query
    }
}

/// Questions the new-job form lists one by one; a study larger than this is a question set.
pub const MAX_FORM_QUESTIONS: usize = 100;

#[server(prefix = "/api/read")]
pub async fn load_home() -> Result<HomeData, ApiError> {
    use crate::server::{db, services};
    super::serve(<LoadHome as leptos::server_fn::ServerFn>::PATH, |state| async move {
        let questions = db::questions::first(&state.db, MAX_FORM_QUESTIONS as i64).await?;
        let question_sets = services::questions::list_sets(&state.db).await?.into_iter().map(|s| (s.id, s.name, s.questions.len())).collect();
        let jobs = services::jobs::list(&state.db).await?;
        let setup = &state.config.setup;
        Ok(HomeData {
            questions,
            question_sets,
            jobs,
            catalogue: setup.catalogue.clone(),
            auto_retries_default: i64::from(setup.defaults.auto_retries),
            temperature_default: setup.defaults.temperature,
            max_tokens_default: i64::from(setup.defaults.max_tokens),
        })
    })
    .await
}

/// A job page: the job, and one page of its executions under the query's filter.
#[server(prefix = "/api/read")]
pub async fn load_job_page(
    id: String,
    page: Option<String>,
    status: Option<String>,
    region: Option<String>,
    model: Option<String>,
) -> Result<JobPageData, ApiError> {
    use crate::server::error::AppError;
    use crate::server::services;
    let query = JobPageQuery { page, status, region, model };
    super::serve(<LoadJobPage as leptos::server_fn::ServerFn>::PATH, |state| async move {
        let filter =
            services::jobs::execution_filter(&state.config.setup.catalogue, query.status.as_deref(), query.region.as_deref(), query.model.as_deref())
                .map_err(AppError::invalid_request)?;
        let page = match query.page.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            None => 1,
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| AppError::invalid_request(format!("page: expected a page number from 1, got {raw:?}")))?,
        };
        services::jobs::page(&state.db, &state.config.setup.catalogue, &JobId::parse(&id)?, filter, page).await
    })
    .await
}

pub use new_job::*;

/// One argument per form field is how a server function reads a form posted without
/// JavaScript; the lint cannot be silenced on the function itself (the macro drops it).
#[allow(clippy::too_many_arguments)]
mod new_job {
    use leptos::prelude::*;

    use crate::domain::{ApiError, JobId};

    /// The new-job form. The lists are optional here only so that an unticked group reaches the
    /// service, which names the field that must list at least one. One argument per form field:
    /// that is how a server function reads a form posted without JavaScript.
    #[server]
    pub async fn create_job(
        name: Option<String>,
        questions: Option<Vec<String>>,
        models: Option<Vec<String>>,
        regions: Option<Vec<String>>,
        auto_retries: Option<String>,
        warmup: Option<String>,
        question_set: Option<String>,
        samples: Option<String>,
        temperature: Option<String>,
        max_tokens: Option<String>,
        seed: Option<String>,
    ) -> Result<JobId, ApiError> {
        use crate::server::page_request;
        use crate::server::services::jobs;
        /// A form's number field: empty means "the default", anything else must parse.
        fn number<T: std::str::FromStr>(field: &str, raw: Option<String>) -> Result<Option<T>, crate::server::error::AppError> {
            match raw.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(text) => text
                    .parse::<T>()
                    .map(Some)
                    .map_err(|_| crate::server::error::AppError::invalid_request(format!("{field}: expected a number, got {text:?}"))),
            }
        }
        super::super::serve(<CreateJob as leptos::server_fn::ServerFn>::PATH, |state| async move {
            let request = jobs::CreateJob {
                id: None,
                // The form always sends the field: blank is "no name".
                name: name.filter(|name| !name.trim().is_empty()),
                questions: questions.unwrap_or_default(),
                question_set: question_set.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
                models: models.unwrap_or_default(),
                regions: regions.unwrap_or_default(),
                auto_retries: number("auto_retries", auto_retries)?,
                // A ticked checkbox sends its value; an unticked one sends nothing.
                warmup: warmup.is_some(),
                samples: number("samples", samples)?,
                temperature: number("temperature", temperature)?,
                max_tokens: number("max_tokens", max_tokens)?,
                seed: number("seed", seed)?,
            };
            let caller = crate::server::auth::Caller::from_context();
            let spec = jobs::JobSpec::parse(&request, &state.config.setup)?;
            let created = jobs::create(&state.db, &state.runner, &state.config, &spec, caller.account()).await?;
            page_request::go_to(&format!("/jobs/{}", created.id));
            Ok(created.id)
        })
        .await
    }
}

#[server]
pub async fn cancel_job(id: String) -> Result<JobId, ApiError> {
    use crate::server::page_request;
    use crate::server::services::jobs;
    super::serve(<CancelJob as leptos::server_fn::ServerFn>::PATH, |state| async move {
        let cancelled = jobs::cancel(&state.db, &JobId::parse(&id)?).await?;
        page_request::back_with_notice(&state.notice_key, "Job cancelled");
        Ok(cancelled.id)
    })
    .await
}

/// A job's warm-ups, for the job page's panel while they run.
#[server(prefix = "/api/read")]
pub async fn load_warmups(job_id: String) -> Result<Vec<crate::domain::views::WarmupView>, ApiError> {
    use crate::server::services::jobs;
    super::serve(<LoadWarmups as leptos::server_fn::ServerFn>::PATH, |state| async move { jobs::warmups(&state.db, &JobId::parse(&job_id)?).await })
        .await
}
