//! The comparison (RESEARCH.md §4) and the analysis (§5) of a job: read a few questions at a
//! time in the study's order, grouped into rows (one question × model × sample across the
//! job's regions), and handed to the pure code in [`crate::domain::analysis`], which computes
//! every number. Memory holds a step of rows and one page, not the job.

use std::collections::{BTreeMap, HashMap};

use crate::domain::analysis::report::{AnalysisView, CompareCell, CompareRow, CompareView, Tally, COMPARE_ROWS_PER_PAGE};
use crate::domain::views::ExecutionFilter;
use crate::domain::JobId;
use crate::server::db::{self, executions::ExecutionRow, jobs::JobRow, Db};
use crate::server::error::AppError;

/// Rows of executions read per step.
const ROWS_PER_STEP: usize = 2000;

/// The comparison's filters, parsed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompareFilter {
    pub model: Option<String>,
    pub category: Option<String>,
    pub diverging: bool,
    pub refused: bool,
    /// Only rows with a region missing.
    pub incomplete: bool,
    /// 1-based.
    pub page: usize,
}

impl CompareFilter {
    pub fn from_query(query: &crate::domain::views::CompareQuery) -> Result<CompareFilter, AppError> {
        CompareFilter::parse(
            query.model.as_deref(),
            query.category.as_deref(),
            query.diverging.as_deref(),
            query.refused.as_deref(),
            query.incomplete.as_deref(),
            query.page.as_deref(),
        )
    }

    /// From the query string's words, each bad one named.
    pub fn parse(
        model: Option<&str>,
        category: Option<&str>,
        diverging: Option<&str>,
        refused: Option<&str>,
        incomplete: Option<&str>,
        page: Option<&str>,
    ) -> Result<CompareFilter, AppError> {
        fn present(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        // Exactly `true` or `false` (or absent, or empty): ` true` is not a spelling.
        fn flag(name: &str, raw: Option<&str>) -> Result<bool, AppError> {
            match raw.filter(|raw| !raw.is_empty()) {
                None | Some("false") => Ok(false),
                Some("true") => Ok(true),
                Some(other) => Err(AppError::invalid_request(format!("{name}: expected true or false, got {other:?}"))),
            }
        }
        let page = match present(page) {
            None => 1,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|p| (1..=1_000_000).contains(p))
                .ok_or_else(|| AppError::invalid_request(format!("page: expected a page number from 1 to 1000000, got {raw:?}")))?,
        };
        Ok(CompareFilter {
            model: present(model).map(str::to_string),
            category: present(category).map(str::to_string),
            diverging: flag("diverging", diverging)?,
            refused: flag("refused", refused)?,
            incomplete: flag("incomplete", incomplete)?,
            page,
        })
    }

    fn keeps(&self, row: &CompareRow) -> bool {
        self.category.as_ref().is_none_or(|c| row.category.as_ref() == Some(c))
            && (!self.diverging || row.diverges)
            && (!self.refused || row.refused_somewhere())
            && (!self.incomplete || row.incomplete)
    }
}

/// `threshold`: compare rows whose agreement is below it diverge (`BEACON_DIVERGENCE_THRESHOLD`).
pub async fn compare(db: &Db, threshold: f64, job_id: &JobId, filter: &CompareFilter) -> Result<CompareView, AppError> {
    let job = load_job(db, job_id).await?;
    if let Some(model) = &filter.model {
        if !job.models.0.contains(model) {
            return Err(AppError::invalid_request(format!("model: {model:?} is not one of this job's models ({})", job.models.0.join(", "))));
        }
    }
    let rows_filter = ExecutionFilter { model: filter.model.clone(), ..Default::default() };
    let skip = (filter.page - 1) * COMPARE_ROWS_PER_PAGE;
    let (mut matching, mut rows) = (0, Vec::new());
    walk(db, threshold, &job, &rows_filter, |row| {
        if filter.keeps(&row) {
            if matching >= skip && rows.len() < COMPARE_ROWS_PER_PAGE {
                rows.push(row);
            }
            matching += 1;
        }
    })
    .await?;
    Ok(CompareView { regions: job.regions.0.iter().map(|r| r.to_string()).collect(), rows, matching, threshold })
}

pub async fn analysis(db: &Db, threshold: f64, job_id: &JobId) -> Result<AnalysisView, AppError> {
    let job = load_job(db, job_id).await?;
    let mut tally = Tally::new(job.models.0.clone(), job.regions.0.iter().map(|r| r.to_string()).collect());
    walk(db, threshold, &job, &ExecutionFilter::default(), |row| tally.add_row(&row)).await?;
    for (number, status, code, count) in db::attempts::outcomes_for_job(db, &job.id).await? {
        tally.add_attempts(number, status, code.as_deref(), count.max(0) as u64);
    }
    let mut view = tally.finish();
    for (code, message, count) in db::attempts::failure_messages_for_job(db, &job.id).await? {
        let reason = crate::domain::failure_reason::failure_reason(&code, message.as_deref());
        *view.reasons_by_code.entry(code).or_default().entry(reason).or_default() += count.max(0) as u64;
    }
    Ok(view)
}

async fn load_job(db: &Db, job_id: &JobId) -> Result<JobRow, AppError> {
    db::jobs::get(db, job_id).await?.ok_or_else(|| AppError::NotFound(format!("job {:?} not found", job_id.as_str())))
}

/// Hands `visit` every compare row of the job, in the study's order (question, model, sample).
async fn walk(db: &Db, threshold: f64, job: &JobRow, filter: &ExecutionFilter, mut visit: impl FnMut(CompareRow)) -> Result<(), AppError> {
    let models: HashMap<&str, usize> = job.models.0.iter().enumerate().map(|(i, m)| (m.as_str(), i)).collect();
    let per_question = job.models.0.len() * job.regions.0.len() * job.samples.max(1) as usize;
    let step = (ROWS_PER_STEP / per_question.max(1)).max(1) as i64;
    let regions = job.regions.0.len();
    let mut visit = move |row: CompareRow| visit(row.for_regions(regions));
    let mut first = 0;
    while first < job.questions.0.len() as i64 {
        let mut executions = db::executions::list_for_questions(db, &job.id, first, first + step, filter).await?;
        let questions = db::questions::texts_of_step(db, &job.questions.0, first, step).await?;
        first += step;
        executions.sort_by_key(|e| (e.question_index, models.get(e.model_id.as_str()).copied().unwrap_or(usize::MAX), e.sample_index));
        let mut group: Vec<ExecutionRow> = Vec::new();
        for execution in executions {
            let same_row = group.first().is_some_and(|g| {
                (g.question_index, &g.model_id, g.sample_index) == (execution.question_index, &execution.model_id, execution.sample_index)
            });
            if !same_row && !group.is_empty() {
                visit(row_of(std::mem::take(&mut group), &questions, threshold));
            }
            group.push(execution);
        }
        if !group.is_empty() {
            visit(row_of(group, &questions, threshold));
        }
    }
    Ok(())
}

fn row_of(executions: Vec<ExecutionRow>, questions: &HashMap<String, (String, Option<String>)>, threshold: f64) -> CompareRow {
    let first = &executions[0];
    let (text, category) = questions.get(&first.question_id).cloned().unwrap_or_default();
    let (question_id, model_id, sample_index) = (first.question_id.clone(), first.model_id.clone(), first.sample_index);
    let answers: BTreeMap<String, CompareCell> = executions
        .into_iter()
        .map(|e| {
            // Any execution with more than one attempt came (or failed) by way of a retry.
            let cell = CompareCell::new(e.id, e.status, e.output, e.attempts > 1, e.duration_ms).with_retries(
                e.question_index,
                e.retry_count,
                e.max_retries,
            );
            (e.region.to_string(), cell)
        })
        .collect();
    CompareRow::new(question_id, text, category, model_id, sample_index, answers, threshold)
}
