//! Identifiers, parsed once at the edge (REST paths and bodies, server functions, forms,
//! pages) so that everything behind the edge holds a value known to be well formed.

use serde::{Deserialize, Serialize};

use super::ErrorCode;

/// A job's public id: 1–128 letters, digits, `-`, `_` or `.` (so it sits in a URL path
/// without escaping), and not `events`, which the jobs-list stream's path would shadow, nor
/// `.` or `..`, which a path cannot hold as a segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct JobId(String);

impl JobId {
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Result<JobId, InvalidId> {
        let valid = !matches!(raw, "events" | "." | "..")
            && !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if valid {
            Ok(JobId(raw.to_string()))
        } else {
            Err(InvalidId {
                code: ErrorCode::InvalidJobId,
                message: format!("job id must be 1–{} characters of letters, digits, '-', '_' or '.', got {raw:?}", Self::MAX_LEN),
            })
        }
    }

    /// An id Beacon made itself: `bias-detection-<submission time in ms>`.
    pub fn generated(millis: i64) -> JobId {
        JobId(format!("bias-detection-{millis}"))
    }

    /// An id read back from the database, where only parsed ids are ever written.
    pub fn from_stored(raw: String) -> JobId {
        JobId(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for JobId {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        JobId::parse(&raw).map_err(|err| err.message)
    }
}

impl From<JobId> for String {
    fn from(id: JobId) -> String {
        id.0
    }
}

impl AsRef<str> for JobId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// An execution's id: a positive integer, written one way only (digits, no sign, no leading
/// zero, no spaces), so `1%20` or `+1` in a path is a 400 rather than execution 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExecutionId(pub i64);

impl ExecutionId {
    pub fn parse(raw: &str) -> Result<ExecutionId, InvalidId> {
        let canonical = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) && !raw.starts_with('0');
        match raw.parse::<i64>() {
            Ok(id) if canonical && id > 0 => Ok(ExecutionId(id)),
            _ => Err(InvalidId { code: ErrorCode::InvalidExecutionId, message: format!("execution id must be a positive integer, got {raw:?}") }),
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for ExecutionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// An `Idempotency-Key`: 1–255 visible ASCII characters. Repeats of a retry with the same key
/// (within a day) get the first answer again.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;

    pub fn parse(raw: &str) -> Result<IdempotencyKey, InvalidId> {
        if !raw.is_empty() && raw.len() <= Self::MAX_LEN && raw.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(IdempotencyKey(raw.to_string()))
        } else {
            Err(InvalidId {
                code: ErrorCode::InvalidRequest,
                message: format!("Idempotency-Key: must be 1–{} visible ASCII characters", Self::MAX_LEN),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A question's id: 1–64 lowercase letters, digits, `-` or `_`, and not `import` (the import
/// route's name). Parsed where a request names a question; ids that cannot exist are never
/// looked up.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QuestionId(String);

impl QuestionId {
    pub fn parse(raw: &str) -> Result<QuestionId, InvalidId> {
        if super::question::valid_question_id(raw) {
            Ok(QuestionId(raw.to_string()))
        } else {
            Err(InvalidId { code: ErrorCode::InvalidRequest, message: format!("unknown question {raw:?}") })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A configured model's id, as the catalogue spells it: only [`super::Catalogue`] makes one,
/// so holding one means the model exists in this server's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelId(String);

impl ModelId {
    pub(crate) fn configured(id: &str) -> ModelId {
        ModelId(id.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ModelId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an id was refused: a machine code (`invalid_job_id`, `invalid_execution_id`) and a
/// sentence naming what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidId {
    pub code: ErrorCode,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_ids_are_lowercase_words_and_never_the_import_route() {
        assert_eq!(QuestionId::parse("q-1_a").unwrap().as_str(), "q-1_a");
        for bad in ["", "Q1", "q 1", "q1 ", "import", &"q".repeat(65)] {
            assert!(QuestionId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn job_ids_are_url_safe_words() {
        for good in ["a", "bias-detection-1", "study_2.v3", &"x".repeat(128)] {
            assert_eq!(JobId::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", "events", ".", "..", "has space", "a/b", "é", &"x".repeat(129)] {
            assert_eq!(JobId::parse(bad).unwrap_err().code, ErrorCode::InvalidJobId, "{bad:?}");
        }
        assert!(serde_json::from_str::<JobId>("\"a b\"").is_err());
    }

    #[test]
    fn idempotency_keys_are_visible_ascii() {
        assert_eq!(IdempotencyKey::parse("retry-42:a").unwrap().as_str(), "retry-42:a");
        for bad in ["", "has space", "é", &"k".repeat(256)] {
            assert_eq!(IdempotencyKey::parse(bad).unwrap_err().code, ErrorCode::InvalidRequest, "{bad:?}");
        }
    }

    #[test]
    fn execution_ids_are_positive() {
        assert_eq!(ExecutionId::parse("42"), Ok(ExecutionId(42)));
        for bad in ["0", "-3", "1.5", "abc", "", "99999999999999999999999", " 7 ", "1 ", "+1", "01", "1\n"] {
            assert_eq!(ExecutionId::parse(bad).unwrap_err().code, ErrorCode::InvalidExecutionId, "{bad:?}");
        }
    }
}
