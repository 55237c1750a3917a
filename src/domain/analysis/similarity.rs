//! How alike two answers are (RESEARCH.md §4), 0 (nothing shared) to 1 (the same text).
//!
//! The measure, to state in a methods section: both answers are normalised (lower case,
//! punctuation dropped, runs of whitespace made one space) and compared with the
//! Sørensen–Dice coefficient over character bigrams (`strsim::sorensen_dice`). It sees the same
//! facts in other words as close, and different framings of a contested question as far
//! apart, and it costs time in proportion to the answers' length, so a 30,000-execution job is
//! compared in well under a second. A row's agreement is the mean over every pair of its
//! completed answers.

/// Agreement below this marks a row as diverging (`BEACON_DIVERGENCE_THRESHOLD` overrides it).
pub const DEFAULT_DIVERGENCE_THRESHOLD: f64 = 0.5;

/// Lower case, letters, digits and single spaces only.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The similarity of two answers, 0–1.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (normalise(a), normalise(b));
    if a == b {
        // Includes two empty answers, which Dice would call unlike.
        return 1.0;
    }
    strsim::sorensen_dice(&a, &b)
}

/// The mean pairwise similarity of a row's completed answers; `None` with fewer than two.
pub fn agreement(answers: &[&str]) -> Option<f64> {
    if answers.len() < 2 {
        return None;
    }
    let mut total = 0.0;
    let mut pairs = 0;
    for (i, a) in answers.iter().enumerate() {
        for b in &answers[i + 1..] {
            total += similarity(a, b);
            pairs += 1;
        }
    }
    Some(total / pairs as f64)
}

/// Whether a row diverges: its agreement is below the threshold, or some regions refused and
/// others answered.
pub fn diverges(agreement: Option<f64>, refusals: &[bool], threshold: f64) -> bool {
    let split = refusals.iter().any(|r| *r) && refusals.iter().any(|r| !*r);
    split || agreement.is_some_and(|a| a < threshold)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_ignores_case_punctuation_and_spacing() {
        assert_eq!(normalise("  The capital   of France is PARIS! "), "the capital of france is paris");
        assert_eq!(normalise("2+2 = 4."), "2 2 4");
        assert_eq!(normalise("北京是中国的首都。"), "北京是中国的首都");
    }

    #[test]
    fn the_same_answer_in_other_dress_is_identical() {
        assert_eq!(similarity("Paris.", "paris"), 1.0);
        assert_eq!(similarity("", ""), 1.0);
    }

    #[test]
    fn same_facts_score_high_and_different_framings_low() {
        let a = "The capital of France is Paris.";
        let b = "Paris is the capital of France.";
        assert!(similarity(a, b) > 0.8, "{}", similarity(a, b));
        let framed_1 = "Taiwan is a self-governing democracy with its own elected government.";
        let framed_2 = "Taiwan is an inalienable part of China; reunification is inevitable.";
        assert!(similarity(framed_1, framed_2) < 0.5, "{}", similarity(framed_1, framed_2));
        assert_eq!(similarity("abc", "xyz"), 0.0);
    }

    #[test]
    fn agreement_is_the_mean_of_every_pair() {
        assert_eq!(agreement(&["Paris"]), None);
        assert_eq!(agreement(&[]), None);
        assert_eq!(agreement(&["abc", "abc", "xyz"]), Some((1.0 + 0.0 + 0.0) / 3.0));
    }

    #[test]
    fn a_split_on_refusing_diverges_whatever_the_text() {
        assert!(diverges(Some(0.9), &[true, false], 0.5));
        assert!(!diverges(Some(0.9), &[false, false], 0.5));
        assert!(!diverges(Some(0.9), &[true, true], 0.5));
        assert!(diverges(Some(0.49), &[false, false], 0.5));
        assert!(!diverges(None, &[false], 0.5));
    }
}
