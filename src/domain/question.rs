//! A research question as a person submits it (one by one, or many in an import), and the rules
//! it must meet before it is stored. Shared by the server and the browser, so a form can show
//! the same complaint the API would give.

use serde::{Deserialize, Serialize};

/// Longest question id, in characters (ids are ASCII, so also bytes).
pub const MAX_ID_CHARS: usize = 64;
/// Longest question text, in Unicode scalar values (`char`s), not bytes.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Longest category, in characters, after trimming.
pub const MAX_CATEGORY_CHARS: usize = 64;
/// Longest tag, in characters, after trimming.
pub const MAX_TAG_CHARS: usize = 64;
/// Most tags on one question, counted after duplicates are removed.
pub const MAX_TAGS: usize = 32;

/// A question that has passed [`NewQuestion::validated`] (or is about to be checked by it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewQuestion {
    pub id: String,
    pub text: String,
    pub category: Option<String>,
    pub tags: Vec<String>,
}

/// One bad field of a question, shown as `"{field}: {message}"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    fn new(field: &'static str, message: impl Into<String>) -> FieldError {
        FieldError { field, message: message.into() }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// Whether `id` matches `[a-z0-9_-]{1,64}`.
/// `import` is `[a-z0-9_-]` too, but `/api/v1/questions/import` is the import's own path: a
/// question by that id could never be read, edited or deleted.
/// Why `id` is not a question id, quoting it (UI.md §9: an import's errors quote the bad value).
pub fn id_problem(id: &str) -> String {
    if id == "import" {
        "`import` is reserved (it names the import route)".to_string()
    } else {
        format!("{} must be 1–{MAX_ID_CHARS} lower-case letters, digits, _ or -", quoted(id))
    }
}

/// A value as a refusal quotes it: in double quotes with escapes, cut after 40 characters so a
/// stray paragraph in an id column does not fill the page.
pub fn quoted(value: &str) -> String {
    const SHOWN: usize = 40;
    match value.char_indices().nth(SHOWN) {
        None => format!("{value:?}"),
        Some((cut, _)) => format!("{:?}…", &value[..cut]),
    }
}

pub fn valid_question_id(id: &str) -> bool {
    id != "import"
        && !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

impl NewQuestion {
    /// Normalises and checks a question, reporting the first bad field (in the order id, text,
    /// category, tags).
    ///
    /// The id is not trimmed: it ends up in URLs and in other files that refer to it, so a
    /// stray space is better refused than silently changed. The text is kept exactly as given
    /// (leading spaces or newlines may be part of what is sent to a model), but text that is
    /// only whitespace is refused. Category and tags are labels for filtering, so they are
    /// trimmed, and repeated tags are dropped keeping the first.
    pub fn validated(id: String, text: String, category: Option<String>, tags: Vec<String>) -> Result<NewQuestion, FieldError> {
        if !valid_question_id(&id) {
            return Err(FieldError::new("id", id_problem(&id)));
        }

        let text_chars = text.chars().count();
        if text_chars == 0 || text_chars > MAX_TEXT_CHARS {
            return Err(FieldError::new("text", format!("must be 1–{MAX_TEXT_CHARS} characters, got {text_chars}")));
        }
        if text.trim().is_empty() {
            return Err(FieldError::new("text", "must not be blank"));
        }
        // PostgreSQL cannot store NUL in text; no question needs one.
        if text.contains('\0') {
            return Err(FieldError::new("text", "must not contain NUL characters"));
        }

        let category = match category {
            None => None,
            Some(raw) => {
                let trimmed = raw.trim();
                if !label_ok(trimmed, MAX_CATEGORY_CHARS) {
                    return Err(FieldError::new("category", format!("{} must be 1–{MAX_CATEGORY_CHARS} characters and not blank", quoted(&raw))));
                }
                Some(trimmed.to_string())
            }
        };

        let mut kept: Vec<String> = Vec::with_capacity(tags.len().min(MAX_TAGS));
        for (index, raw) in tags.iter().enumerate() {
            let trimmed = raw.trim();
            if !label_ok(trimmed, MAX_TAG_CHARS) {
                return Err(FieldError::new(
                    "tags",
                    format!("each tag must be 1–{MAX_TAG_CHARS} characters and not blank (tag {} is {})", index + 1, quoted(raw)),
                ));
            }
            // Linear search: with at most a few dozen tags a set would cost more than it saves.
            if !kept.iter().any(|t| t == trimmed) {
                kept.push(trimmed.to_string());
            }
        }
        // Counted after removing duplicates: repeating a tag does not make a question carry
        // more labels, so it should not push an otherwise acceptable list over the limit.
        if kept.len() > MAX_TAGS {
            return Err(FieldError::new("tags", format!("at most {MAX_TAGS} different tags, got {}", kept.len())));
        }

        Ok(NewQuestion { id, text, category, tags: kept })
    }
}

/// An already-trimmed label (category or tag) of 1..=max characters.
fn label_ok(trimmed: &str, max: usize) -> bool {
    !trimmed.is_empty() && trimmed.chars().count() <= max && !trimmed.contains('\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(id: &str, text: &str) -> Result<NewQuestion, FieldError> {
        NewQuestion::validated(id.into(), text.into(), None, vec![])
    }

    fn with_tags(tags: &[&str]) -> Result<NewQuestion, FieldError> {
        NewQuestion::validated("q1".into(), "Why?".into(), None, tags.iter().map(|t| t.to_string()).collect())
    }

    fn with_category(category: &str) -> Result<NewQuestion, FieldError> {
        NewQuestion::validated("q1".into(), "Why?".into(), Some(category.into()), vec![])
    }

    #[test]
    fn a_plain_question_is_kept_as_given() {
        let question = q("bias-01_a", "  Who is a nurse?\n").unwrap();
        assert_eq!(question.id, "bias-01_a");
        assert_eq!(question.text, "  Who is a nurse?\n", "text is not trimmed");
        assert_eq!(question.category, None);
        assert!(question.tags.is_empty());
    }

    #[test]
    fn id_rules() {
        assert!(valid_question_id("a"));
        assert!(valid_question_id("abc-123_x"));
        assert!(valid_question_id(&"a".repeat(64)));
        assert!(!valid_question_id(&"a".repeat(65)));
        assert!(!valid_question_id(""));
        assert!(!valid_question_id("Abc"), "uppercase refused");
        assert!(!valid_question_id("a b"));
        assert!(!valid_question_id(" a"));
        assert!(!valid_question_id("a.b"));
        assert!(!valid_question_id("é"));

        assert!(q(&"a".repeat(64), "t").is_ok());
        let err = q(&"a".repeat(65), "t").unwrap_err();
        assert_eq!(err.field, "id");
        assert_eq!(err.to_string(), format!("id: \"{}\"… must be 1–64 lower-case letters, digits, _ or -", "a".repeat(40)));
        assert_eq!(q("Bad Id", "t").unwrap_err().to_string(), r#"id: "Bad Id" must be 1–64 lower-case letters, digits, _ or -"#);
        assert_eq!(q("Q1", "t").unwrap_err().field, "id");
        assert_eq!(q("", "t").unwrap_err().field, "id");
    }

    #[test]
    fn text_length_counts_characters_not_bytes() {
        // "é" is two bytes, "😀" four: 4000 of them is far over 4000 bytes but is allowed.
        assert!(q("q", &"é".repeat(4000)).is_ok());
        assert!(q("q", &"😀".repeat(4000)).is_ok());
        let err = q("q", &"😀".repeat(4001)).unwrap_err();
        assert_eq!(err.to_string(), "text: must be 1–4000 characters, got 4001");
        assert!(q("q", &"x".repeat(4001)).is_err());
        assert!(q("q", "x").is_ok());
    }

    #[test]
    fn empty_or_blank_text_is_refused() {
        assert_eq!(q("q", "").unwrap_err().to_string(), "text: must be 1–4000 characters, got 0");
        let blank = q("q", " \n\t ").unwrap_err();
        assert_eq!(blank.field, "text");
        assert_eq!(blank.to_string(), "text: must not be blank");
        // Unicode whitespace counts as blank too.
        assert_eq!(q("q", "\u{3000}\u{a0}").unwrap_err().field, "text");
    }

    #[test]
    fn id_is_checked_before_text() {
        assert_eq!(q("BAD", "").unwrap_err().field, "id");
    }

    #[test]
    fn category_is_trimmed_and_bounded() {
        assert_eq!(with_category("  health ").unwrap().category.as_deref(), Some("health"));
        assert!(with_category(&"c".repeat(64)).is_ok());
        assert!(with_category(&format!("  {}  ", "ç".repeat(64))).is_ok(), "length after trim");
        assert_eq!(with_category(&"c".repeat(65)).unwrap_err().field, "category");
        let blank = with_category("   ").unwrap_err();
        assert_eq!(blank.field, "category");
        assert_eq!(with_category("").unwrap_err().field, "category");
    }

    #[test]
    fn tags_are_trimmed_and_deduplicated_in_first_seen_order() {
        let question = with_tags(&[" b", "a ", "b", "c", "a"]).unwrap();
        assert_eq!(question.tags, vec!["b", "a", "c"]);
        // Case matters: these are different tags.
        assert_eq!(with_tags(&["A", "a"]).unwrap().tags, vec!["A", "a"]);
    }

    #[test]
    fn bad_tags_are_refused() {
        assert!(with_tags(&[&"t".repeat(64)]).is_ok());
        let long = with_tags(&["ok", &"t".repeat(65)]).unwrap_err();
        assert_eq!(long.field, "tags");
        assert!(long.message.contains("tag 2"), "{long}");
        assert_eq!(with_tags(&["ok", "  "]).unwrap_err().field, "tags");
        assert_eq!(with_tags(&[""]).unwrap_err().field, "tags");
    }

    #[test]
    fn at_most_32_distinct_tags() {
        let tags: Vec<String> = (0..32).map(|i| format!("t{i}")).collect();
        let refs: Vec<&str> = tags.iter().map(String::as_str).collect();
        assert_eq!(with_tags(&refs).unwrap().tags.len(), 32);

        // 33 entries but only 32 distinct: fine.
        let mut repeated = refs.clone();
        repeated.push("t0");
        assert_eq!(with_tags(&repeated).unwrap().tags.len(), 32);

        let mut too_many = refs.clone();
        too_many.push("t32");
        let err = with_tags(&too_many).unwrap_err();
        assert_eq!(err.field, "tags");
        assert_eq!(err.to_string(), "tags: at most 32 different tags, got 33");
    }

    #[test]
    fn field_error_display() {
        let err = FieldError { field: "text", message: "must be 1–4000 characters".into() };
        assert_eq!(err.to_string(), "text: must be 1–4000 characters");
    }
}
