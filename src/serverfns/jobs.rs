use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::views::{JobPageData, JobView, QuestionView};

/// What the home page shows: the catalogue for the new-job form and the recent jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomeData {
    pub questions: Vec<QuestionView>,
    pub jobs: Vec<JobView>,
}

#[server]
pub async fn load_home() -> Result<HomeData, ServerFnError> {
    use crate::server::{db, services, state::AppState};
    use crate::server::error::AppError;
    let load = async {
        let state = AppState::from_context()?;
        let questions = db::questions::list(&state.db).await?;
        let jobs = services::jobs::list(&state).await?;
        Ok::<_, AppError>(HomeData { questions, jobs })
    };
    load.await.map_err(AppError::into_server_fn_error)
}

#[server]
pub async fn load_job_page(id: String) -> Result<JobPageData, ServerFnError> {
    use crate::server::{services, state::AppState};
    use crate::server::error::AppError;
    let state = AppState::from_context().map_err(AppError::into_server_fn_error)?;
    services::jobs::page(&state, &id).await.map_err(AppError::into_server_fn_error)
}
