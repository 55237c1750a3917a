//! The compare and analysis pages' data (RESEARCH.md §4–§5): the same services as the REST
//! API, so the pages and `GET /api/v1/jobs/:id/{compare,analysis}` show the same numbers.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::analysis::report::{AnalysisView, CompareView};
use crate::domain::views::{CompareQuery, JobView};
use crate::domain::ApiError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparePageData {
    pub job: JobView,
    pub compare: CompareView,
    /// The categories of the job's questions, for the filter.
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisPageData {
    pub job: JobView,
    pub analysis: AnalysisView,
}

impl CompareQuery {
    pub async fn load(self, id: String) -> Result<ComparePageData, ApiError> {
        load_compare(id, self.model, self.category, self.diverging, self.refused, self.incomplete, self.page).await
    }
}

/// The arguments are flat: an absent filter is simply not sent.
#[server(prefix = "/api/read")]
pub async fn load_compare(
    id: String,
    model: Option<String>,
    category: Option<String>,
    diverging: Option<String>,
    refused: Option<String>,
    incomplete: Option<String>,
    page: Option<String>,
) -> Result<ComparePageData, ApiError> {
    use crate::domain::JobId;
    use crate::server::services::{analysis, jobs};
    let query = CompareQuery { model, category, diverging, refused, incomplete, page };
    super::serve(<LoadCompare as leptos::server_fn::ServerFn>::PATH, |state| async move {
        let id = JobId::parse(&id)?;
        let filter = analysis::CompareFilter::from_query(&query)?;
        let job = jobs::get(&state.db, &id).await?;
        let ids: Vec<&str> = job.questions.iter().map(String::as_str).collect();
        let mut categories: Vec<String> =
            crate::server::db::questions::get_many(&state.db, &ids).await?.into_iter().filter_map(|q| q.category).collect();
        categories.sort();
        categories.dedup();
        let compare = analysis::compare(&state.db, state.config.divergence_threshold, &id, &filter).await?;
        Ok(ComparePageData { job, compare, categories })
    })
    .await
}

#[server(prefix = "/api/read")]
pub async fn load_analysis(id: String) -> Result<AnalysisPageData, ApiError> {
    use crate::domain::JobId;
    use crate::server::services::{analysis, jobs};
    super::serve(<LoadAnalysis as leptos::server_fn::ServerFn>::PATH, |state| async move {
        let id = JobId::parse(&id)?;
        let job = jobs::get(&state.db, &id).await?;
        let analysis = analysis::analysis(&state.db, state.config.divergence_threshold, &id).await?;
        Ok(AnalysisPageData { job, analysis })
    })
    .await
}
