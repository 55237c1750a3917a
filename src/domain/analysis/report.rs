//! The comparison (RESEARCH.md §4) and the analysis (§5), computed from a job's executions
//! without I/O. The server feeds a job in row groups (one question × model × sample across its
//! regions) and attempt outcomes; the API and the pages show the same values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::refusal::is_refusal;
use super::similarity::{agreement, diverges, similarity};
use super::stats::{overlap, rate, wilson};
use crate::domain::{AttemptStatus, ExecutionStatus};

/// One execution as the comparison sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CompareCell {
    pub execution_id: i64,
    pub status: ExecutionStatus,
    /// The answer: untrusted text, shown as text only.
    pub output: Option<String>,
    /// Null without an answer.
    pub refusal: Option<bool>,
    /// The answer's length in characters; null without an answer.
    pub length: Option<usize>,
    /// The answer (or the failure) came from a retry.
    pub retried: bool,
    /// How long the successful attempt took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    /// What a failed cell's Retry sends and says ("Retry (2/3)"), as on the job page.
    #[serde(default)]
    pub question_index: i64,
    #[serde(default)]
    pub retry_count: i64,
    #[serde(default)]
    pub max_retries: i64,
}

impl CompareCell {
    pub fn new(execution_id: i64, status: ExecutionStatus, output: Option<String>, retried: bool, duration_ms: Option<i64>) -> CompareCell {
        let answered = status == ExecutionStatus::Completed;
        let output = if answered { output } else { None };
        CompareCell {
            execution_id,
            status,
            refusal: if answered { is_refusal(output.as_deref()) } else { None },
            length: output.as_ref().map(|o| o.chars().count()),
            output,
            retried,
            duration_ms: if answered { duration_ms } else { None },
            question_index: 0,
            retry_count: 0,
            max_retries: 0,
        }
    }

    /// The cell's retry bookkeeping, for its Retry.
    pub fn with_retries(self, question_index: i64, retry_count: i64, max_retries: i64) -> CompareCell {
        CompareCell { question_index, retry_count, max_retries, ..self }
    }
}

/// One question × model × sample, its regions side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CompareRow {
    pub question_id: String,
    pub question_text: String,
    #[serde(default)]
    pub category: Option<String>,
    pub model_id: String,
    pub sample_index: i64,
    /// Region id → its cell (regions the row has no execution in are absent).
    pub answers: BTreeMap<String, CompareCell>,
    /// Mean pairwise similarity of the completed answers; null with fewer than two.
    pub agreement: Option<f64>,
    pub diverges: bool,
    /// Some region of the job has no answer in this row: not asked there, not
    /// finished yet, or failed.
    #[serde(default)]
    pub incomplete: bool,
}

impl CompareRow {
    /// A row from its cells, with its agreement and divergence under `threshold`.
    pub fn new(
        question_id: String,
        question_text: String,
        category: Option<String>,
        model_id: String,
        sample_index: i64,
        answers: BTreeMap<String, CompareCell>,
        threshold: f64,
    ) -> CompareRow {
        let texts: Vec<&str> = answers.values().filter_map(|c| c.output.as_deref()).collect();
        let refusals: Vec<bool> = answers.values().filter_map(|c| c.refusal).collect();
        let agreement = agreement(&texts);
        CompareRow {
            question_id,
            question_text,
            category,
            model_id,
            sample_index,
            diverges: diverges(agreement, &refusals, threshold),
            agreement,
            answers,
            incomplete: false,
        }
    }

    /// Marks the row incomplete unless each of the job's `regions` answered.
    pub fn for_regions(self, regions: usize) -> CompareRow {
        let answered = self.answers.values().filter(|c| c.status == ExecutionStatus::Completed).count();
        CompareRow { incomplete: answered < regions, ..self }
    }

    pub fn refused_somewhere(&self) -> bool {
        self.answers.values().any(|c| c.refusal == Some(true))
    }
}

/// Compare rows per page, on the page and in the API.
pub const COMPARE_ROWS_PER_PAGE: usize = 100;

/// `GET /api/v1/jobs/:id/compare`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CompareView {
    /// The job's regions, in its order: the columns.
    pub regions: Vec<String>,
    pub rows: Vec<CompareRow>,
    /// Rows matching the filters on all pages (the rows here are at most one page).
    #[serde(default)]
    pub matching: usize,
    /// The agreement below which a row diverges.
    pub threshold: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ModelRegionStats {
    pub model_id: String,
    pub region: String,
    /// Executions.
    pub n: u64,
    pub completed: u64,
    pub refusals: u64,
    /// refusals / completed; null when none completed.
    pub refusal_rate: Option<f64>,
    /// 95 % Wilson interval of the refusal rate, `[low, high]`.
    pub refusal_ci: Option<[f64; 2]>,
    /// Characters, over every completed answer (refusals included).
    pub mean_length: Option<f64>,
    /// Of the successful attempt.
    pub mean_latency_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RegionPairStats {
    pub a: String,
    pub b: String,
    /// Rows where both regions have a completed answer.
    pub rows: u64,
    /// Mean similarity of the two regions' answers over those rows.
    pub mean_agreement: Option<f64>,
    /// Of those rows, the ones where exactly one of the two refused.
    pub refusal_disagreements: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AttemptStats {
    /// 1 for first attempts, 2 for the first retry, …
    pub attempt: i64,
    /// Attempts with this number that were made (started).
    pub n: u64,
    pub succeeded: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GroupStats {
    pub n: u64,
    pub refusal_rate: Option<f64>,
    pub refusal_ci: Option<[f64; 2]>,
    pub mean_length: Option<f64>,
}

/// Did retries change the results? Completed executions answered on the first try against
/// those whose answer needed a retry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RetryBias {
    pub first_try: GroupStats,
    pub retried: GroupStats,
    /// The refusal intervals do not overlap, or the mean lengths differ by more than 25 % of
    /// the first try's.
    pub flagged: bool,
    /// Whether there were enough answers to look: some that needed a retry, and at least
    /// [`MIN_ANSWERS_TO_COMPARE`] in each group. Not flagged and not testable is "not
    /// testable yet", never "no bias".
    #[serde(default)]
    pub testable: bool,
    /// What it means, in a sentence.
    pub explanation: String,
}

/// Completed answers each group needs before "no sign of a difference" means anything.
pub const MIN_ANSWERS_TO_COMPARE: u64 = 5;

/// `GET /api/v1/jobs/:id/analysis`' answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AnalysisView {
    pub per_model_region: Vec<ModelRegionStats>,
    pub region_pairs: Vec<RegionPairStats>,
    pub by_attempt: Vec<AttemptStats>,
    /// Failed attempts per error code.
    pub by_error_code: BTreeMap<String, u64>,
    /// The same attempts per code, split by their reason in words (a `ROUTER_ERROR` may be a
    /// cold start or not, by the provider's message): what the rows say, added up.
    #[serde(default)]
    pub reasons_by_code: BTreeMap<String, BTreeMap<String, u64>>,
    pub retry_bias: RetryBias,
}

/// How much longer (or shorter) retried answers may be, as a share of first-try answers'
/// mean length, before the retry-bias check flags it.
pub const LENGTH_TOLERANCE: f64 = 0.25;

#[derive(Default, Clone, Copy)]
struct Sums {
    n: u64,
    completed: u64,
    refusals: u64,
    length: u64,
    latency: i64,
    latencies: u64,
}

impl Sums {
    fn add(&mut self, cell: &CompareCell) {
        self.n += 1;
        if cell.status == ExecutionStatus::Completed {
            self.completed += 1;
            self.refusals += u64::from(cell.refusal == Some(true));
            self.length += cell.length.unwrap_or(0) as u64;
            if let Some(ms) = cell.duration_ms {
                self.latency += ms;
                self.latencies += 1;
            }
        }
    }

    fn group(&self) -> GroupStats {
        GroupStats {
            n: self.completed,
            refusal_rate: rate(self.refusals, self.completed),
            refusal_ci: wilson(self.refusals, self.completed),
            mean_length: mean(self.length as f64, self.completed),
        }
    }
}

fn mean(total: f64, n: u64) -> Option<f64> {
    (n > 0).then(|| total / n as f64)
}

#[derive(Default, Clone, Copy)]
struct PairSums {
    rows: u64,
    similarity: f64,
    refusal_disagreements: u64,
}

/// Accumulates a job's numbers a row group at a time, so a large job never has to be held.
pub struct Tally {
    models: Vec<String>,
    regions: Vec<String>,
    cells: BTreeMap<(usize, usize), Sums>,
    pairs: BTreeMap<(usize, usize), PairSums>,
    attempts: BTreeMap<i64, (u64, u64)>,
    error_codes: BTreeMap<String, u64>,
    first_try: Sums,
    retried: Sums,
}

impl Tally {
    /// For a job's models and regions, in its order.
    pub fn new(models: Vec<String>, regions: Vec<String>) -> Tally {
        Tally {
            models,
            regions,
            cells: BTreeMap::new(),
            pairs: BTreeMap::new(),
            attempts: BTreeMap::new(),
            error_codes: BTreeMap::new(),
            first_try: Sums::default(),
            retried: Sums::default(),
        }
    }

    /// One compare row: its cells count toward their (model, region), its completed pairs
    /// toward their region pair, its answers toward the retry-bias split.
    pub fn add_row(&mut self, row: &CompareRow) {
        let model = self.models.iter().position(|m| *m == row.model_id).unwrap_or(usize::MAX);
        for (region, cell) in &row.answers {
            let r = self.regions.iter().position(|x| x == region).unwrap_or(usize::MAX);
            self.cells.entry((model, r)).or_default().add(cell);
            if cell.status == ExecutionStatus::Completed {
                if cell.retried { &mut self.retried } else { &mut self.first_try }.add(cell);
            }
        }
        for (i, a) in self.regions.iter().enumerate() {
            for (j, b) in self.regions.iter().enumerate().skip(i + 1) {
                let (Some(x), Some(y)) = (row.answers.get(a), row.answers.get(b)) else { continue };
                let (Some(tx), Some(ty)) = (x.output.as_deref(), y.output.as_deref()) else { continue };
                let pair = self.pairs.entry((i, j)).or_default();
                pair.rows += 1;
                pair.similarity += similarity(tx, ty);
                pair.refusal_disagreements += u64::from(x.refusal != y.refusal);
            }
        }
    }

    /// `count` attempts with this number that ended this way (with this error code if they
    /// failed). Queued and cancelled attempts were never made and do not count.
    pub fn add_attempts(&mut self, number: i64, status: AttemptStatus, error_code: Option<&str>, count: u64) {
        if matches!(status, AttemptStatus::Queued | AttemptStatus::Cancelled) {
            return;
        }
        let entry = self.attempts.entry(number).or_default();
        entry.0 += count;
        if status == AttemptStatus::Completed {
            entry.1 += count;
        }
        if matches!(status, AttemptStatus::Failed | AttemptStatus::Timeout | AttemptStatus::Error | AttemptStatus::Interrupted) {
            *self.error_codes.entry(error_code.unwrap_or("UNKNOWN").to_string()).or_default() += count;
        }
    }

    pub fn finish(self) -> AnalysisView {
        let mut per_model_region = Vec::new();
        for (m, model) in self.models.iter().enumerate() {
            for (r, region) in self.regions.iter().enumerate() {
                let Some(s) = self.cells.get(&(m, r)) else { continue };
                per_model_region.push(ModelRegionStats {
                    model_id: model.clone(),
                    region: region.clone(),
                    n: s.n,
                    completed: s.completed,
                    refusals: s.refusals,
                    refusal_rate: rate(s.refusals, s.completed),
                    refusal_ci: wilson(s.refusals, s.completed),
                    mean_length: mean(s.length as f64, s.completed),
                    mean_latency_ms: mean(s.latency as f64, s.latencies),
                });
            }
        }
        let mut region_pairs = Vec::new();
        for (i, a) in self.regions.iter().enumerate() {
            for (j, b) in self.regions.iter().enumerate().skip(i + 1) {
                let p = self.pairs.get(&(i, j)).copied().unwrap_or_default();
                region_pairs.push(RegionPairStats {
                    a: a.clone(),
                    b: b.clone(),
                    rows: p.rows,
                    mean_agreement: mean(p.similarity, p.rows),
                    refusal_disagreements: p.refusal_disagreements,
                });
            }
        }
        let by_attempt = self.attempts.iter().map(|(k, (n, ok))| AttemptStats { attempt: *k, n: *n, succeeded: *ok }).collect();
        AnalysisView {
            per_model_region,
            region_pairs,
            by_attempt,
            by_error_code: self.error_codes,
            reasons_by_code: BTreeMap::new(),
            retry_bias: retry_bias(self.first_try.group(), self.retried.group()),
        }
    }
}

/// The retry-bias rule and its sentence.
pub fn retry_bias(first_try: GroupStats, retried: GroupStats) -> RetryBias {
    let percent = |r: Option<f64>| r.map_or("–".to_string(), |r| format!("{:.0} %", r * 100.0));
    let refusals_apart = match (first_try.refusal_ci, retried.refusal_ci) {
        (Some(a), Some(b)) => !overlap(a, b),
        _ => false,
    };
    let length_change = match (first_try.mean_length, retried.mean_length) {
        (Some(first), Some(again)) if first > 0.0 => Some((again - first) / first),
        _ => None,
    };
    let lengths_apart = length_change.is_some_and(|c| c.abs() > LENGTH_TOLERANCE);
    let flagged = refusals_apart || lengths_apart;
    let testable = first_try.n >= MIN_ANSWERS_TO_COMPARE && retried.n >= MIN_ANSWERS_TO_COMPARE;
    // What the rule saw, in words, without what it means yet.
    let seen = if refusals_apart {
        let more = retried.refusal_rate > first_try.refusal_rate;
        Some(format!(
            "answers that needed retries refuse {} often ({} vs {})",
            if more { "more" } else { "less" },
            percent(retried.refusal_rate),
            percent(first_try.refusal_rate)
        ))
    } else if lengths_apart {
        let change = length_change.unwrap_or(0.0);
        Some(format!(
            "answers that needed retries are {:.0} % {} on average ({:.0} vs {:.0} characters)",
            change.abs() * 100.0,
            if change > 0.0 { "longer" } else { "shorter" },
            retried.mean_length.unwrap_or(0.0),
            first_try.mean_length.unwrap_or(0.0)
        ))
    } else {
        None
    };
    // With too few answers the check cannot run: the page says so, and never that something
    // was found or that nothing was (UI.md §6); `flagged` stays the rule's own answer.
    let explanation = match (retried.n, testable, seen) {
        (0, _, _) => "Not testable yet: no answer needed a retry.".to_string(),
        (_, false, seen) => {
            let mut said = format!(
                "Not testable yet: too few answers to compare ({} needed a retry, {} answered on the first try; at least {MIN_ANSWERS_TO_COMPARE} of each are needed).",
                retried.n, first_try.n
            );
            if let Some(seen) = seen {
                said.push_str(&format!(" So far {seen}, on too few answers to say more."));
            }
            said
        }
        (_, true, Some(seen)) => {
            let mut chars = seen.chars();
            let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
            format!("{first}{}: results with retried cells may not be comparable.", chars.as_str())
        }
        (_, true, None) => format!(
            "No sign that retries changed the answers: refusal rates {} (retried, n = {}) vs {} (first try, n = {}) with overlapping intervals, and lengths within 25 %.",
            percent(retried.refusal_rate),
            retried.n,
            percent(first_try.refusal_rate),
            first_try.n
        ),
    };
    RetryBias { first_try, retried, flagged, testable, explanation }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(id: i64, output: Option<&str>, retried: bool) -> CompareCell {
        let status = if output.is_some() { ExecutionStatus::Completed } else { ExecutionStatus::Failed };
        CompareCell::new(id, status, output.map(str::to_string), retried, Some(100))
    }

    fn row(model: &str, cells: &[(&str, CompareCell)]) -> CompareRow {
        let answers = cells.iter().map(|(r, c)| (r.to_string(), c.clone())).collect();
        CompareRow::new("q".into(), "Q?".into(), None, model.into(), 0, answers, 0.5)
    }

    #[test]
    fn a_cell_without_an_answer_has_no_refusal_or_length() {
        let failed = CompareCell::new(1, ExecutionStatus::Failed, Some("partial".into()), true, Some(5));
        assert_eq!((failed.output, failed.refusal, failed.length, failed.duration_ms), (None, None, None, None));
        let done = cell(2, Some("I'm sorry, but I can't."), false);
        assert_eq!((done.refusal, done.length), (Some(true), Some(23)));
    }

    #[test]
    fn rows_diverge_on_text_or_on_refusing() {
        let same = row("m", &[("us", cell(1, Some("Paris."), false)), ("eu", cell(2, Some("paris"), false))]);
        assert_eq!((same.agreement, same.diverges), (Some(1.0), false));
        let split = row("m", &[("us", cell(1, Some("Paris."), false)), ("eu", cell(2, Some("I cannot help with that."), false))]);
        assert!(split.diverges && split.refused_somewhere());
        let lonely = row("m", &[("us", cell(1, Some("Paris."), false)), ("eu", cell(2, None, false))]);
        assert_eq!((lonely.agreement, lonely.diverges), (None, false));
    }

    /// A job worked by hand: 2 regions, 1 model, 4 rows.
    ///   row 1: us "abc", eu "abc"            (both completed, agree 1.0)
    ///   row 2: us "abc", eu refusal           (exactly one refused)
    ///   row 3: us "xyz" (retried), eu failed
    ///   row 4: us refusal (retried), eu "abc"
    #[test]
    fn the_tally_matches_a_hand_worked_job() {
        let refusal = "I cannot help with that.";
        let mut tally = Tally::new(vec!["m".into()], vec!["us".into(), "eu".into()]);
        tally.add_row(&row("m", &[("us", cell(1, Some("abc"), false)), ("eu", cell(2, Some("abc"), false))]));
        tally.add_row(&row("m", &[("us", cell(3, Some("abc"), false)), ("eu", cell(4, Some(refusal), false))]));
        tally.add_row(&row("m", &[("us", cell(5, Some("xyz"), true)), ("eu", cell(6, None, true))]));
        tally.add_row(&row("m", &[("us", cell(7, Some(refusal), true)), ("eu", cell(8, Some("abc"), false))]));
        for (number, status, code) in [
            (1, AttemptStatus::Completed, None),
            (1, AttemptStatus::Failed, Some("ROUTER_TIMEOUT")),
            (1, AttemptStatus::Failed, Some("ROUTER_TIMEOUT")),
            (2, AttemptStatus::Completed, None),
            (2, AttemptStatus::Error, Some("NETWORK")),
            (3, AttemptStatus::Queued, None),
        ] {
            tally.add_attempts(number, status, code, 1);
        }
        let view = tally.finish();

        let us = &view.per_model_region[0];
        assert_eq!((us.region.as_str(), us.n, us.completed, us.refusals), ("us", 4, 4, 1));
        assert_eq!(us.refusal_rate, Some(0.25));
        assert_eq!(us.refusal_ci, wilson(1, 4));
        assert_eq!(us.mean_length, Some((3 + 3 + 3 + 24) as f64 / 4.0));
        assert_eq!(us.mean_latency_ms, Some(100.0));
        let eu = &view.per_model_region[1];
        assert_eq!((eu.n, eu.completed, eu.refusals), (4, 3, 1));
        assert_eq!(eu.refusal_rate, Some(1.0 / 3.0));

        let pair = &view.region_pairs[0];
        assert_eq!((pair.a.as_str(), pair.b.as_str(), pair.rows, pair.refusal_disagreements), ("us", "eu", 3, 2));
        let expected = (1.0 + similarity("abc", refusal) + similarity(refusal, "abc")) / 3.0;
        assert!((pair.mean_agreement.unwrap() - expected).abs() < 1e-12);

        assert_eq!(view.by_attempt, vec![AttemptStats { attempt: 1, n: 3, succeeded: 1 }, AttemptStats { attempt: 2, n: 2, succeeded: 1 }]);
        assert_eq!(view.by_error_code, BTreeMap::from([("NETWORK".to_string(), 1), ("ROUTER_TIMEOUT".to_string(), 2)]));

        // First try: us abc, eu abc, us abc, eu refusal, eu abc → 5, 1 refusal.
        // Retried: us xyz, us refusal → 2, 1 refusal.
        let bias = &view.retry_bias;
        assert_eq!((bias.first_try.n, bias.retried.n), (5, 2));
        assert_eq!(bias.first_try.refusal_rate, Some(0.2));
        assert_eq!(bias.retried.refusal_rate, Some(0.5));
        assert_eq!(bias.first_try.mean_length, Some((3 + 3 + 3 + 24 + 3) as f64 / 5.0));
        assert_eq!(bias.retried.mean_length, Some((3 + 24) as f64 / 2.0));
        // Intervals overlap (tiny samples), but retried answers are 87.5 % longer: the rule
        // flags it, and with two retried answers the sentence says it cannot tell yet.
        assert!(bias.flagged && !bias.testable);
        assert!(
            bias.explanation.starts_with("Not testable yet: too few answers to compare (2 needed a retry, 5 answered on the first try")
                && bias.explanation.contains("So far answers that needed retries are 88 % longer")
                && bias.explanation.contains("% longer on average (14 vs 7 characters)"),
            "{}",
            bias.explanation
        );
    }

    #[test]
    fn the_retry_bias_rule() {
        let group = |n: u64, refusals: u64, length: f64| GroupStats {
            n,
            refusal_rate: rate(refusals, n),
            refusal_ci: wilson(refusals, n),
            mean_length: Some(length),
        };
        let apart = retry_bias(group(400, 32, 500.0), group(100, 31, 500.0));
        assert!(apart.flagged);
        assert_eq!(
            apart.explanation,
            "Answers that needed retries refuse more often (31 % vs 8 %): results with retried cells may not be comparable."
        );
        let fine = retry_bias(group(400, 32, 500.0), group(100, 9, 560.0));
        assert!(!fine.flagged, "{}", fine.explanation);
        assert!(fine.explanation.starts_with("No sign that retries changed the answers"));
        assert!(fine.testable);
        let none = retry_bias(group(400, 32, 500.0), GroupStats { n: 0, refusal_rate: None, refusal_ci: None, mean_length: None });
        assert!(!none.flagged && !none.testable);
        assert_eq!(none.explanation, "Not testable yet: no answer needed a retry.");
        // Two answers that needed a retry, alike in every way: too few to say "no sign".
        let few = retry_bias(group(400, 32, 500.0), group(4, 0, 500.0));
        assert!(!few.flagged && !few.testable);
        assert!(few.explanation.starts_with("Not testable yet: too few answers to compare (4 needed a retry"), "{}", few.explanation);
        let shorter = retry_bias(group(400, 32, 500.0), group(100, 9, 300.0));
        assert!(shorter.flagged && shorter.explanation.contains("40 % shorter"), "{}", shorter.explanation);
    }
}
