use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::views::{JobPageData, JobView, QuestionView};
use crate::domain::{ApiError, JobId};

/// What the home page shows: the catalogue for the new-job form and the recent jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomeData {
    pub questions: Vec<QuestionView>,
    pub jobs: Vec<JobView>,
}

#[server]
pub async fn load_home() -> Result<HomeData, ApiError> {
    use crate::server::{db, services};
    super::serve(|state| async move {
        let questions = db::questions::list(&state.db).await?;
        let jobs = services::jobs::list(&state).await?;
        Ok(HomeData { questions, jobs })
    })
    .await
}

#[server]
pub async fn load_job_page(id: String) -> Result<JobPageData, ApiError> {
    use crate::server::services;
    super::serve(|state| async move { services::jobs::page(&state, &JobId::parse(&id)?).await }).await
}

/// The new-job form. The lists are optional here only so that an unticked group reaches the
/// service, which names the field that must list at least one.
#[server]
pub async fn create_job(
    questions: Option<Vec<String>>,
    models: Option<Vec<String>>,
    regions: Option<Vec<String>>,
) -> Result<JobId, ApiError> {
    use crate::server::page_request;
    use crate::server::services::jobs::{self, CreateJob};
    super::serve(|state| async move {
        let request = CreateJob {
            id: None,
            questions: questions.unwrap_or_default(),
            models: models.unwrap_or_default(),
            regions: regions.unwrap_or_default(),
        };
        let created = jobs::create(&state, request).await?;
        page_request::go_to(&format!("/jobs/{}", created.id));
        Ok(created.id)
    })
    .await
}

#[server]
pub async fn cancel_job(id: String) -> Result<JobId, ApiError> {
    use crate::server::page_request;
    use crate::server::services::jobs;
    super::serve(|state| async move {
        let cancelled = jobs::cancel(&state, &JobId::parse(&id)?).await?;
        page_request::back_with_notice("Job cancelled");
        Ok(cancelled.id)
    })
    .await
}
