//! A job's name (UI.md §7): what researchers call a study ("Taiwan wording, Dec run"), shown
//! on its page, in the jobs list and in its export files' names. The id stays the key.

use serde::{Deserialize, Serialize};

/// 1–120 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct JobName(String);

impl JobName {
    pub const MAX_CHARS: usize = 120;

    /// A name as a person typed it. Blank means "no name" (`Ok(None)`): the form always sends
    /// the field.
    pub fn parse(raw: &str) -> Result<Option<JobName>, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Ok(None);
        }
        let chars = name.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(format!("name: at most {} characters, got {chars}", Self::MAX_CHARS));
        }
        if let Some(c) = name.chars().find(|c| c.is_control() || is_bidi_control(*c)) {
            return Err(format!("name: must not contain control or text-direction characters, got {:?}", c));
        }
        if name.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
            return Err("name: must contain a visible character".to_string());
        }
        Ok(Some(JobName(name.to_string())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as a file name stem: ASCII letters, digits, `-`, `_` and `.` kept, every other
    /// run of characters one `-`. None when nothing is left (a name in another script): the
    /// job's id names the file then.
    pub fn file_stem(&self) -> Option<String> {
        let mut stem = String::with_capacity(self.0.len());
        for c in self.0.chars() {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                stem.push(c);
            } else if !stem.ends_with('-') {
                stem.push('-');
            }
        }
        let stem = stem.trim_matches(|c| c == '-' || c == '.');
        (!stem.is_empty()).then(|| stem.to_string())
    }
}

/// Characters that turn the direction of the text after them (a name `U+202E gnp.exe` shows as
/// "exe.png", and the tab's " · Beacon" after it turns round).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that take no room: a name of only these looks blank.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{034F}')
}

impl std::fmt::Display for JobName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for JobName {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        JobName::parse(&raw)?.ok_or_else(|| "name: must not be blank (leave it out instead)".to_string())
    }
}

impl From<JobName> for String {
    fn from(name: JobName) -> String {
        name.0
    }
}

#[cfg(test)]
mod tests {
    use super::JobName;

    #[test]
    fn blank_is_no_name_and_the_rest_is_trimmed() {
        assert_eq!(JobName::parse("   ").unwrap(), None);
        assert_eq!(JobName::parse("  Taiwan wording ").unwrap().unwrap().as_str(), "Taiwan wording");
    }

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        assert!(JobName::parse(&"é".repeat(120)).unwrap().is_some());
        let err = JobName::parse(&"é".repeat(121)).unwrap_err();
        assert_eq!(err, "name: at most 120 characters, got 121");
        assert!(JobName::parse("a\nb").unwrap_err().contains("control"));
        assert!(JobName::parse("\u{202e}gnp.exe").unwrap_err().contains("text-direction"));
        assert_eq!(JobName::parse("\u{200b}\u{feff}").unwrap_err(), "name: must contain a visible character");
        assert!(JobName::parse("👩\u{200d}🔬 study").unwrap().is_some(), "a joiner inside an emoji is fine");
    }

    #[test]
    fn file_stems_keep_what_a_file_system_and_a_header_take() {
        let stem = |raw: &str| JobName::parse(raw).unwrap().unwrap().file_stem();
        assert_eq!(stem("Taiwan wording, Dec run").as_deref(), Some("Taiwan-wording-Dec-run"));
        assert_eq!(stem("\"x\"; filename=evil.exe").as_deref(), Some("x-filename-evil.exe"));
        assert_eq!(stem("../../etc").as_deref(), Some("etc"));
        assert_eq!(stem("台湾"), None);
    }
}
