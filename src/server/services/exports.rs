//! A job's results for pandas and friends (RESEARCH.md §3): one row (CSV) or line (JSONL) per
//! execution, in the study's order (question, model, region, sample), streamed a few questions
//! at a time so memory stays flat however large the job is.

use std::collections::HashMap;

use serde::Serialize;

use crate::domain::analysis::refusal::is_refusal;
use crate::domain::views::{AttemptView, ExecutionFilter};
use crate::domain::{AttemptStatus, ExecutionStatus, JobId, Timestamp, Trigger};
use crate::server::db::{self, executions::ExecutionRow, jobs::JobRow, Db};
use crate::server::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv(Cells),
    /// Always the exact text: JSON has no formulas.
    Jsonl,
}

/// What a CSV field holds (SAFETY.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cells {
    /// A field a spreadsheet would read as a formula is prefixed with `'` (OWASP's advice on
    /// CSV injection): model output and imported questions are untrusted text. The default.
    SpreadsheetSafe,
    /// The exact text, for scripts (`?raw=true`).
    Exact,
}

/// `field`, or `'field` when a spreadsheet would take it for a formula: it begins with `=`,
/// `+`, `-`, `@`, a tab or a carriage return.
pub fn spreadsheet_safe(field: &str) -> std::borrow::Cow<'_, str> {
    if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{field}"))
    } else {
        std::borrow::Cow::Borrowed(field)
    }
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv(_) => "text/csv; charset=utf-8",
            Format::Jsonl => "application/x-ndjson",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv(_) => "csv",
            Format::Jsonl => "jsonl",
        }
    }
}

/// The columns, in RESEARCH.md §3's order.
pub const COLUMNS: [&str; 26] = [
    "job_id",
    "execution_id",
    "question_id",
    "question_text",
    "category",
    "model_id",
    "region",
    "sample_index",
    "status",
    "output",
    "error_code",
    "error",
    "original_error_code",
    "attempts",
    "manual_retries",
    "auto_retries",
    "retried",
    "final_trigger",
    "request_hash",
    "provider_id",
    "served_model",
    "finish_reason",
    "started_at",
    "completed_at",
    "duration_ms",
    "refusal",
];

/// Rows read per step: the memory an export holds, whatever the job's size.
const ROWS_PER_STEP: usize = 1000;

/// One exported execution. Field order is the CSV's column order; `attempts` is a count in
/// CSV and the attempts themselves in JSONL.
#[derive(Serialize)]
struct Record<'a> {
    job_id: &'a str,
    execution_id: i64,
    question_id: &'a str,
    question_text: &'a str,
    category: Option<&'a str>,
    model_id: &'a str,
    region: &'a str,
    sample_index: i64,
    status: ExecutionStatus,
    output: Option<&'a str>,
    error_code: Option<&'a str>,
    error: Option<&'a str>,
    original_error_code: Option<&'a str>,
    attempts: Attempts<'a>,
    manual_retries: i64,
    auto_retries: usize,
    retried: bool,
    final_trigger: Option<Trigger>,
    request_hash: Option<&'a str>,
    provider_id: Option<&'a str>,
    served_model: Option<&'a str>,
    finish_reason: Option<&'a str>,
    started_at: Option<String>,
    completed_at: Option<String>,
    duration_ms: Option<i64>,
    refusal: Option<bool>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Attempts<'a> {
    Count(usize),
    List(&'a [AttemptView]),
}

/// The export of a job as its file's name without the extension (the job's name when it has
/// one, UI.md §7, else its id) and a stream of byte chunks; errors before the first byte (no
/// such job) are the caller's answer, later ones end the stream short (and are logged).
pub async fn stream(
    db: &Db,
    job_id: &JobId,
    format: Format,
    filter: ExecutionFilter,
) -> Result<(String, impl futures::Stream<Item = Result<Vec<u8>, AppError>> + Send + 'static), AppError> {
    let job = db::jobs::get(db, job_id).await?.ok_or_else(|| AppError::NotFound(format!("job {:?} not found", job_id.as_str())))?;
    let file_stem = job
        .name
        .as_deref()
        .and_then(|name| crate::domain::JobName::parse(name).ok().flatten())
        .and_then(|name| name.file_stem())
        .unwrap_or_else(|| job.id.to_string());
    let db = db.clone();
    Ok((
        file_stem,
        async_stream::try_stream! {
            if matches!(format, Format::Csv(_)) {
                yield csv_line(COLUMNS.iter().copied())?;
            }
            let order = Order::of(&job);
            let per_question = (job.models.0.len() * job.regions.0.len()) as usize * job.samples.max(1) as usize;
            let step = (ROWS_PER_STEP / per_question.max(1)).max(1) as i64;
            let mut first = 0;
            while first < job.questions.0.len() as i64 {
                let mut rows = db::executions::list_for_questions(&db, &job.id, first, first + step, &filter).await?;
                // This step's questions only, each row carrying its text and category.
                let questions = db::questions::texts_of_step(&db, &job.questions.0, first, step).await?;
                first += step;
                rows.sort_by_key(|row| order.key(row));
                let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
                let mut histories: HashMap<i64, Vec<AttemptView>> = HashMap::new();
                for (execution_id, attempt) in db::attempts::list_for_executions(&db, &ids).await? {
                    histories.entry(execution_id).or_default().push(attempt.into_view());
                }
                let mut chunk = Vec::new();
                for row in &rows {
                    let attempts = histories.remove(&row.id).unwrap_or_default();
                    let (text, category) = questions.get(&row.question_id).map(|(t, c)| (t.as_str(), c.as_deref())).unwrap_or(("", None));
                    chunk.extend(render(format, row, &attempts, text, category)?);
                }
                if !chunk.is_empty() {
                    yield chunk;
                }
            }
        },
    ))
}

/// The study's order within a step: question, then the job's model order, region order, sample.
struct Order {
    models: HashMap<String, usize>,
    regions: HashMap<String, usize>,
}

impl Order {
    fn of(job: &JobRow) -> Order {
        Order {
            models: job.models.0.iter().enumerate().map(|(i, m)| (m.clone(), i)).collect(),
            regions: job.regions.0.iter().enumerate().map(|(i, r)| (r.to_string(), i)).collect(),
        }
    }

    fn key(&self, row: &ExecutionRow) -> (i64, usize, usize, i64) {
        (
            row.question_index,
            self.models.get(&row.model_id).copied().unwrap_or(usize::MAX),
            self.regions.get(row.region.as_str()).copied().unwrap_or(usize::MAX),
            row.sample_index,
        )
    }
}

fn render(format: Format, row: &ExecutionRow, attempts: &[AttemptView], text: &str, category: Option<&str>) -> Result<Vec<u8>, AppError> {
    // The attempt the row's answer (or latest failure) came from: the last one that finished.
    let last = attempts.iter().rev().find(|a| a.finished_at.is_some()).or(attempts.last());
    let answered_by = attempts.iter().find(|a| a.status == AttemptStatus::Completed && !a.late);
    let retried = match (row.status, answered_by) {
        (ExecutionStatus::Completed, Some(attempt)) => attempt.number > 1,
        _ => attempts.len() > 1,
    };
    let source = answered_by.or(last);
    let record = |attempts_field| Record {
        job_id: row.job_id.as_str(),
        execution_id: row.id,
        question_id: &row.question_id,
        question_text: text,
        category,
        model_id: &row.model_id,
        region: row.region.as_str(),
        sample_index: row.sample_index,
        status: row.status,
        output: row.output.as_deref(),
        error_code: row.error_code.as_deref(),
        error: row.error.as_deref(),
        original_error_code: row.original_error_code.as_deref(),
        attempts: attempts_field,
        manual_retries: row.retry_count,
        auto_retries: attempts.iter().filter(|a| a.trigger == Trigger::Auto).count(),
        retried,
        final_trigger: attempts.last().map(|a| a.trigger),
        request_hash: source.and_then(|a| a.request_hash.as_deref()),
        provider_id: row.provider_id.as_deref().or(source.and_then(|a| a.provider_id.as_deref())),
        served_model: source.and_then(|a| a.served_model.as_deref()),
        finish_reason: source.and_then(|a| a.finish_reason.as_deref()),
        started_at: row.started_at.map(Timestamp::rfc3339),
        completed_at: row.completed_at.map(Timestamp::rfc3339),
        duration_ms: row.duration_ms,
        refusal: if row.status == ExecutionStatus::Completed { is_refusal(row.output.as_deref()) } else { None },
    };
    match format {
        Format::Jsonl => {
            let mut line = serde_json::to_vec(&record(Attempts::List(attempts))).map_err(anyhow::Error::from)?;
            line.push(b'\n');
            Ok(line)
        }
        Format::Csv(cells) => {
            // Through serde so the column order is the struct's; `None` is an empty field.
            let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
            writer.serialize(record(Attempts::Count(attempts.len()))).map_err(anyhow::Error::from)?;
            let exact = writer.into_inner().map_err(|err| anyhow::anyhow!("csv: {err}"))?;
            match cells {
                Cells::Exact => Ok(exact),
                // Read back as fields, so every column is covered, whatever serde made of it.
                Cells::SpreadsheetSafe => {
                    let fields = csv::ReaderBuilder::new()
                        .has_headers(false)
                        .from_reader(exact.as_slice())
                        .into_records()
                        .next()
                        .transpose()
                        .map_err(anyhow::Error::from)?
                        .unwrap_or_default();
                    csv_line(fields.iter().map(|field| spreadsheet_safe(field).into_owned()))
                }
            }
        }
    }
}

fn csv_line<Field: AsRef<[u8]>>(fields: impl IntoIterator<Item = Field>) -> Result<Vec<u8>, AppError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(fields).map_err(anyhow::Error::from)?;
    Ok(writer.into_inner().map_err(|err| anyhow::anyhow!("csv: {err}"))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_nothing_else_changes() {
        for (field, safe) in [
            ("=1+1", "'=1+1"),
            ("+49 30 1234", "'+49 30 1234"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("plain = text", "plain = text"),
            ("", ""),
            ("'quoted", "'quoted"),
        ] {
            assert_eq!(spreadsheet_safe(field), safe, "{field:?}");
        }
    }

    #[test]
    fn the_header_is_the_contracts_column_list() {
        let header = String::from_utf8(csv_line(COLUMNS.iter().copied()).unwrap()).unwrap();
        assert!(header.starts_with("job_id,execution_id,question_id,question_text,category,"));
        assert!(header.trim_end().ends_with("started_at,completed_at,duration_ms,refusal"));
    }
}
