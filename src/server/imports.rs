//! Reading a bulk question import (`POST /api/v1/questions/import`): a CSV or NDJSON body
//! turned into validated questions, or into the complete list of what is wrong with it.
//!
//! Imports are all or nothing, so a person fixing a file wants every problem at once, each at
//! the line their editor shows: errors are collected rather than returned at the first, and
//! carry the file's physical line number.

use std::collections::HashMap;

use serde::Deserialize;

use crate::domain::question::NewQuestion;

/// Most questions one import may hold.
pub const MAX_QUESTIONS: usize = 10_000;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
const TOO_MANY: &str = "at most 10000 questions per import";

/// One problem with an import, at a 1-based physical line of the file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LineError {
    pub line: u64,
    pub error: String,
}

impl LineError {
    fn new(line: u64, error: impl Into<String>) -> LineError {
        LineError { line, error: error.into() }
    }
}

/// The two import formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

impl Format {
    /// The format a `Content-Type` names, ignoring parameters (`; charset=utf-8`) and case.
    /// JSON Lines has no registered media type, so the names tools commonly send are all taken.
    pub fn from_content_type(ct: &str) -> Option<Format> {
        let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match essence.as_str() {
            "text/csv" => Some(Format::Csv),
            "application/x-ndjson" | "application/ndjson" | "application/jsonl" => Some(Format::Ndjson),
            _ => None,
        }
    }
}

/// A valid question and the line it starts on (so later checks, such as a clash with a stored
/// question, can be reported at the right line too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedQuestion {
    pub line: u64,
    pub question: NewQuestion,
}

/// Parses a whole import body. `Err` holds every problem found, in line order.
pub fn parse(format: Format, body: &[u8]) -> Result<Vec<ImportedQuestion>, Vec<LineError>> {
    match format {
        Format::Csv => parse_csv(body),
        Format::Ndjson => parse_ndjson(body),
    }
}

/// What the lines of one file have produced so far; the checks that span lines (duplicate ids,
/// the size cap) live here so both formats share them.
#[derive(Default)]
struct Collector {
    questions: Vec<ImportedQuestion>,
    errors: Vec<LineError>,
    /// Every well-formed id seen so far and the line it was first on.
    first_seen: HashMap<String, u64>,
    records: usize,
}

impl Collector {
    /// Counts one more record; false (with the cap's error recorded) once there are too many.
    /// The caller then stops reading: one error says it all, and a huge file should not cost a
    /// full parse.
    fn admit(&mut self, line: u64) -> bool {
        self.records += 1;
        if self.records > MAX_QUESTIONS {
            self.errors.push(LineError::new(line, TOO_MANY));
            return false;
        }
        true
    }

    fn error(&mut self, line: u64, error: impl Into<String>) {
        self.errors.push(LineError::new(line, error));
    }

    fn add(&mut self, line: u64, id: String, text: String, category: Option<String>, tags: Vec<String>) {
        // Remember the id even if another field is bad: both lines name the same question, and
        // reporting the clash now saves the person a second round after fixing the first line.
        let earlier = match self.first_seen.get(&id) {
            Some(&first) => Some(first),
            None => {
                if crate::domain::question::valid_question_id(&id) {
                    self.first_seen.insert(id.clone(), line);
                }
                None
            }
        };
        match NewQuestion::validated(id, text, category, tags) {
            Err(err) => self.error(line, err.to_string()),
            Ok(question) => match earlier {
                Some(first) => self.error(line, format!("id: `{}` appears twice in this file (first on line {first})", question.id)),
                None => self.questions.push(ImportedQuestion { line, question }),
            },
        }
    }

    fn finish(self) -> Result<Vec<ImportedQuestion>, Vec<LineError>> {
        if self.errors.is_empty() {
            Ok(self.questions)
        } else {
            Err(self.errors)
        }
    }
}

fn strip_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(UTF8_BOM).unwrap_or(body)
}

// ---------------------------------------------------------------------------------------------
// CSV

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Id,
    Text,
    Category,
    Tags,
}

impl Column {
    fn named(name: &str) -> Option<Column> {
        match name {
            "id" => Some(Column::Id),
            "text" => Some(Column::Text),
            "category" => Some(Column::Category),
            "tags" => Some(Column::Tags),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Column::Id => "id",
            Column::Text => "text",
            Column::Category => "category",
            Column::Tags => "tags",
        }
    }
}

/// Where each known column sits in a record.
struct Layout {
    width: usize,
    id: usize,
    text: usize,
    category: Option<usize>,
    tags: Option<usize>,
}

/// Reads the header row; `Err` holds every problem with it (all at line 1).
fn read_header(header: &csv::ByteRecord) -> Result<Layout, Vec<LineError>> {
    let mut errors = Vec::new();
    let mut found: [Option<usize>; 4] = [None; 4];
    let mut unknown = Vec::new();
    for (index, raw) in header.iter().enumerate() {
        let Ok(name) = std::str::from_utf8(raw) else {
            errors.push(LineError::new(1, format!("header: column {} is not valid UTF-8", index + 1)));
            continue;
        };
        // Spreadsheets are free with spaces and capitals in headings; neither can be meant
        // as a different column, so accept them rather than make someone hunt for the cause.
        let name = name.trim().to_lowercase();
        match Column::named(&name) {
            Some(column) => {
                let slot = &mut found[column as usize];
                if slot.is_some() {
                    errors.push(LineError::new(1, format!("header: column `{name}` appears twice")));
                } else {
                    *slot = Some(index);
                }
            }
            None => unknown.push(if name.is_empty() { format!("(unnamed column {})", index + 1) } else { format!("`{name}`") }),
        }
    }
    if !unknown.is_empty() {
        errors.push(LineError::new(
            1,
            format!("header: unknown column{} {} (allowed: id, text, category, tags)", if unknown.len() == 1 { "" } else { "s" }, unknown.join(", ")),
        ));
    }
    let missing: Vec<&str> = [Column::Id, Column::Text].into_iter().filter(|c| found[*c as usize].is_none()).map(Column::name).collect();
    if !missing.is_empty() {
        errors.push(LineError::new(
            1,
            format!(
                "header: missing column{} {} (the header row must name at least id and text)",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ),
        ));
    }
    match (errors.is_empty(), found) {
        (true, [Some(id), Some(text), category, tags]) => Ok(Layout { width: header.len(), id, text, category, tags }),
        _ => Err(errors),
    }
}

/// The 1-based physical line a record starts on.
///
/// The reader notes a record's position *before* skipping the blank lines that may precede
/// it, so its line can point at a blank line above the record. Walking forward over those line
/// breaks from the noted byte offset gives the line the record's first character is on.
fn record_line(body: &[u8], record: &csv::ByteRecord) -> u64 {
    let Some(position) = record.position() else {
        return 1;
    };
    let mut line = position.line();
    let start = usize::try_from(position.byte()).unwrap_or(body.len()).min(body.len());
    for &byte in &body[start..] {
        match byte {
            b'\n' => line += 1,
            b'\r' => {}
            _ => break,
        }
    }
    line
}

/// Parses a CSV import: a header row naming `id` and `text` and optionally `category` and
/// `tags` (in any order), then one question a record. Tags are `;`-separated; an empty
/// category cell means no category.
pub fn parse_csv(body: &[u8]) -> Result<Vec<ImportedQuestion>, Vec<LineError>> {
    // Excel writes a BOM before "id"; left in, it would make the first column unknown.
    let body = strip_bom(body);
    let mut reader = csv::ReaderBuilder::new()
        // The header is read as an ordinary record so its problems can be reported like any
        // other line's, and `flexible` so a short or long record is one line's error rather
        // than the end of the parse.
        .has_headers(false)
        .flexible(true)
        .from_reader(body);

    let mut record = csv::ByteRecord::new();
    let layout = match reader.read_byte_record(&mut record) {
        Ok(true) => read_header(&record)?,
        Ok(false) => {
            return Err(vec![LineError::new(1, "empty file: expected a header row such as `id,text`")]);
        }
        Err(err) => {
            return Err(vec![LineError::new(1, format!("not readable as CSV: {err}"))]);
        }
    };

    let mut collector = Collector::default();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            // Reading bytes from memory, with `flexible` on, leaves nothing to fail; kept so a
            // future reader setting cannot turn a failure into a silently short import.
            Err(err) => {
                let line = err.position().map_or(1, |p| p.line());
                collector.error(line, format!("not readable as CSV: {err}"));
                break;
            }
        }
        let line = record_line(body, &record);
        if !collector.admit(line) {
            break;
        }
        if record.len() != layout.width {
            collector.error(line, format!("expected {} fields as in the header, found {}", layout.width, record.len()));
            continue;
        }
        match csv_question(&record, &layout) {
            Ok((id, text, category, tags)) => collector.add(line, id, text, category, tags),
            Err(error) => collector.error(line, error),
        }
    }
    collector.finish()
}

type Fields = (String, String, Option<String>, Vec<String>);

/// The raw fields of one record (validation happens in [`NewQuestion::validated`]).
fn csv_question(record: &csv::ByteRecord, layout: &Layout) -> Result<Fields, String> {
    // Decoded per field rather than per file so one mis-encoded cell is reported at its own
    // line and the rest of the file is still checked.
    let field = |index: usize, name: &str| -> Result<String, String> {
        std::str::from_utf8(&record[index]).map(str::to_string).map_err(|_| format!("{name}: not valid UTF-8 (save the file as UTF-8)"))
    };
    let id = field(layout.id, "id")?;
    let text = field(layout.text, "text")?;
    let category = match layout.category {
        Some(index) => Some(field(index, "category")?).filter(|c| !c.trim().is_empty()),
        None => None,
    };
    let tags = match layout.tags {
        Some(index) => field(index, "tags")?.split(';').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect(),
        None => Vec::new(),
    };
    Ok((id, text, category, tags))
}

// ---------------------------------------------------------------------------------------------
// NDJSON

/// One NDJSON line. Unknown keys are refused: a misspelt `"catgory"` would otherwise vanish
/// without a word.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonQuestion {
    id: String,
    text: String,
    category: Option<String>,
    tags: Option<Vec<String>>,
}

/// serde_json's message without its " at line 1 column N" tail: every line is parsed on its
/// own, so its "line 1" would only contradict the line we report. The column still helps
/// find a syntax slip in a long line, so it is kept for those.
fn json_error(err: &serde_json::Error) -> String {
    let full = err.to_string();
    let message = match full.rfind(" at line ") {
        Some(cut) => &full[..cut],
        None => full.as_str(),
    };
    match err.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("not a JSON question object: {message} (column {})", err.column())
        }
        _ => format!("not a JSON question object: {message}"),
    }
}

/// Parses an NDJSON (JSON Lines) import: one question object a line; blank lines skipped.
pub fn parse_ndjson(body: &[u8]) -> Result<Vec<ImportedQuestion>, Vec<LineError>> {
    let body = strip_bom(body);
    let mut collector = Collector::default();
    for (index, raw) in body.split(|&b| b == b'\n').enumerate() {
        let line = index as u64 + 1;
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if !collector.admit(line) {
            break;
        }
        let Ok(text) = std::str::from_utf8(raw) else {
            collector.error(line, "not valid UTF-8 (save the file as UTF-8)");
            continue;
        };
        // serde's derived struct would also accept a positional array (`["q1", "text"]`);
        // the format is one *object* a line, so anything else is refused up front.
        if !text.trim_start().starts_with('{') {
            collector.error(line, "not a JSON question object: each line must be one `{...}` object");
            continue;
        }
        match serde_json::from_str::<JsonQuestion>(text) {
            Ok(q) => collector.add(line, q.id, q.text, q.category, q.tags.unwrap_or_default()),
            Err(err) => collector.error(line, json_error(&err)),
        }
    }
    collector.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv_ok(body: &str) -> Vec<ImportedQuestion> {
        match parse_csv(body.as_bytes()) {
            Ok(questions) => questions,
            Err(errors) => panic!("expected Ok, got {errors:#?}"),
        }
    }

    fn csv_err(body: &[u8]) -> Vec<LineError> {
        match parse_csv(body) {
            Ok(questions) => panic!("expected Err, got {questions:#?}"),
            Err(errors) => errors,
        }
    }

    fn ndjson_err(body: &[u8]) -> Vec<LineError> {
        match parse_ndjson(body) {
            Ok(questions) => panic!("expected Err, got {questions:#?}"),
            Err(errors) => errors,
        }
    }

    fn lines(errors: &[LineError]) -> Vec<u64> {
        errors.iter().map(|e| e.line).collect()
    }

    #[test]
    fn content_types() {
        assert_eq!(Format::from_content_type("text/csv"), Some(Format::Csv));
        assert_eq!(Format::from_content_type("Text/CSV; charset=utf-8"), Some(Format::Csv));
        assert_eq!(Format::from_content_type("application/x-ndjson"), Some(Format::Ndjson));
        assert_eq!(Format::from_content_type("application/ndjson"), Some(Format::Ndjson));
        assert_eq!(Format::from_content_type(" application/jsonl ;charset=UTF-8"), Some(Format::Ndjson));
        assert_eq!(Format::from_content_type("application/json"), None);
        assert_eq!(Format::from_content_type("text/plain"), None);
        assert_eq!(Format::from_content_type(""), None);
    }

    #[test]
    fn parse_dispatches_on_format() {
        let csv = parse(Format::Csv, b"id,text\nq1,hi\n").unwrap();
        assert_eq!(csv[0].question.id, "q1");
        let ndjson = parse(Format::Ndjson, br#"{"id":"q2","text":"hi"}"#).unwrap();
        assert_eq!(ndjson[0].question.id, "q2");
    }

    #[test]
    fn good_csv_with_quotes_commas_newlines_tags_and_category() {
        let body = "id,text,category,tags\n\
                    q1,\"Who is the doctor, and who the nurse?\",gender,\"jobs; gender ;;jobs\"\n\
                    q2,\"She said \"\"no\"\".\nThen she left.\",,\n\
                    q3,Plain text,  health  ,solo\n";
        let questions = csv_ok(body);
        assert_eq!(questions.len(), 3);

        assert_eq!(questions[0].line, 2);
        assert_eq!(questions[0].question.text, "Who is the doctor, and who the nurse?");
        assert_eq!(questions[0].question.category.as_deref(), Some("gender"));
        assert_eq!(questions[0].question.tags, vec!["jobs", "gender"]);

        assert_eq!(questions[1].line, 3);
        assert_eq!(questions[1].question.text, "She said \"no\".\nThen she left.");
        assert_eq!(questions[1].question.category, None, "empty cell means no category");
        assert!(questions[1].question.tags.is_empty());

        // The record above spans lines 3 and 4.
        assert_eq!(questions[2].line, 5);
        assert_eq!(questions[2].question.category.as_deref(), Some("health"));
        assert_eq!(questions[2].question.tags, vec!["solo"]);
    }

    #[test]
    fn crlf_line_endings() {
        let questions = csv_ok("id,text\r\nq1,\"a\r\nb\"\r\nq2,c\r\n");
        assert_eq!(questions[0].question.text, "a\r\nb");
        assert_eq!(questions.iter().map(|q| q.line).collect::<Vec<_>>(), vec![2, 4]);
    }

    #[test]
    fn header_columns_in_any_order_and_case() {
        let questions = csv_ok("Tags, TEXT ,id\na;b,Hello,q1\n");
        assert_eq!(questions[0].question.id, "q1");
        assert_eq!(questions[0].question.text, "Hello");
        assert_eq!(questions[0].question.tags, vec!["a", "b"]);
        assert_eq!(questions[0].question.category, None);
    }

    #[test]
    fn only_a_header_is_an_empty_import() {
        assert_eq!(csv_ok("id,text\n"), vec![]);
        assert_eq!(csv_ok("id,text"), vec![]);
    }

    #[test]
    fn empty_file_is_an_error_at_line_1() {
        for body in [&b""[..], b"\n\n", b"\xEF\xBB\xBF"] {
            let errors = csv_err(body);
            assert_eq!(lines(&errors), vec![1], "{body:?}");
            assert!(errors[0].error.contains("header"), "{}", errors[0].error);
        }
    }

    #[test]
    fn error_lines_count_physical_lines_after_multi_line_records() {
        let body = "id,text\n\
                    q1,\"line one\nline two\nline three\"\n\
                    BAD,fine\n\
                    q3,\"x\ny\"\n\
                    q4,\"\"\n";
        let errors = csv_err(body.as_bytes());
        assert_eq!(
            errors,
            vec![
                LineError::new(5, r#"id: "BAD" must be 1–64 lower-case letters, digits, _ or -"#),
                LineError::new(8, "text: must be 1–4000 characters, got 0"),
            ]
        );
    }

    #[test]
    fn blank_lines_do_not_shift_line_numbers() {
        let errors = csv_err(b"id,text\n\n\nq1,ok\n\r\n\nBAD,x\n");
        assert_eq!(lines(&errors), vec![7]);
    }

    #[test]
    fn every_bad_line_is_reported() {
        let body = "id,text,category,tags\n\
                    q1,ok,,\n\
                    Q2,upper,,\n\
                    q3,   ,,\n\
                    q4,ok,,\n\
                    q5,too,many,fields,here\n\
                    q6,short\n\
                    q7,ok,,a;;b\n";
        let errors = csv_err(body.as_bytes());
        assert_eq!(lines(&errors), vec![3, 4, 6, 7]);
        assert_eq!(errors[0].error, r#"id: "Q2" must be 1–64 lower-case letters, digits, _ or -"#);
        assert_eq!(errors[1].error, "text: must not be blank");
        assert_eq!(errors[2].error, "expected 4 fields as in the header, found 5");
        assert_eq!(errors[3].error, "expected 4 fields as in the header, found 2");
    }

    #[test]
    fn unknown_columns_are_refused_by_name() {
        let errors = csv_err(b"id,text,colour,weight\nq1,hi,red,3\n");
        assert_eq!(lines(&errors), vec![1]);
        assert!(errors[0].error.contains("unknown columns `colour`, `weight`"), "{}", errors[0].error);

        let unnamed = csv_err(b"id,text,\nq1,hi,\n");
        assert!(unnamed[0].error.contains("unnamed column 3"), "{}", unnamed[0].error);
    }

    #[test]
    fn missing_text_column() {
        let errors = csv_err(b"id,category\nq1,x\n");
        assert_eq!(lines(&errors), vec![1]);
        assert!(errors[0].error.contains("missing column text"), "{}", errors[0].error);

        let both = csv_err(b"category,nope\nx,y\n");
        assert_eq!(lines(&both), vec![1, 1]);
        assert!(both[0].error.contains("`nope`"));
        assert!(both[1].error.contains("missing columns id, text"), "{}", both[1].error);
    }

    #[test]
    fn repeated_column_is_refused() {
        let errors = csv_err(b"id,text,ID\nq1,a,b\n");
        assert_eq!(lines(&errors), vec![1]);
        assert!(errors[0].error.contains("column `id` appears twice"), "{}", errors[0].error);
    }

    #[test]
    fn duplicate_id_in_file_reports_the_later_line() {
        let errors = csv_err(b"id,text\nq1,a\nq2,b\n\"q1\",\"c\nd\"\nq1,e\n");
        assert_eq!(
            errors,
            vec![
                LineError::new(4, "id: `q1` appears twice in this file (first on line 2)"),
                LineError::new(6, "id: `q1` appears twice in this file (first on line 2)"),
            ]
        );
    }

    #[test]
    fn duplicate_of_a_bad_line_is_still_reported() {
        let errors = csv_err(b"id,text\nq1,\" \"\nq1,fine\n");
        assert_eq!(lines(&errors), vec![2, 3]);
        assert!(errors[1].error.contains("first on line 2"));
    }

    #[test]
    fn utf8_bom_is_stripped() {
        let mut body = b"\xEF\xBB\xBF".to_vec();
        body.extend_from_slice("id,text\nq1,caf\u{e9}\n".as_bytes());
        let questions = parse_csv(&body).unwrap();
        assert_eq!(questions[0].question.id, "q1");
        assert_eq!(questions[0].question.text, "café");
    }

    #[test]
    fn invalid_utf8_is_reported_per_line() {
        let errors = csv_err(b"id,text\nq1,caf\xE9\nq2,ok\nq3,\xFF\xFE\n");
        assert_eq!(lines(&errors), vec![2, 4]);
        assert!(errors[0].error.starts_with("text: not valid UTF-8"), "{}", errors[0].error);

        let header = csv_err(b"id,t\xFFxt\nq1,a\n");
        assert_eq!(lines(&header), vec![1, 1]);
        assert!(header[0].error.contains("not valid UTF-8"));

        let ndjson = ndjson_err(b"{\"id\":\"q1\",\"text\":\"ok\"}\n{\"id\":\"q2\",\"text\":\"caf\xE9\"}\n");
        assert_eq!(lines(&ndjson), vec![2]);
        assert!(ndjson[0].error.contains("not valid UTF-8"));
    }

    #[test]
    fn more_than_10000_questions_is_one_error() {
        let mut body = String::from("id,text\n");
        for i in 0..MAX_QUESTIONS {
            body.push_str(&format!("q{i},text {i}\n"));
        }
        assert_eq!(csv_ok(&body).len(), MAX_QUESTIONS);

        body.push_str("one-more,text\n");
        let errors = csv_err(body.as_bytes());
        assert_eq!(errors, vec![LineError::new(10_002, "at most 10000 questions per import")]);

        let mut ndjson = String::new();
        for i in 0..=MAX_QUESTIONS {
            ndjson.push_str(&format!("{{\"id\":\"q{i}\",\"text\":\"t\"}}\n"));
        }
        let errors = ndjson_err(ndjson.as_bytes());
        assert_eq!(errors, vec![LineError::new(10_001, "at most 10000 questions per import")]);
    }

    #[test]
    fn good_ndjson_with_blank_lines() {
        let body = "\u{feff}{\"id\":\"q1\",\"text\":\"Hello\\nthere\",\"category\":\" c \",\"tags\":[\"a\",\" b\",\"a\"]}\n\
                    \n   \r\n\
                    {\"id\":\"q2\",\"text\":\"Ünïcödé\",\"category\":null}\r\n\
                    {\"text\":\"order does not matter\",\"id\":\"q3\"}";
        let questions = parse_ndjson(body.as_bytes()).unwrap();
        assert_eq!(questions.iter().map(|q| q.line).collect::<Vec<_>>(), vec![1, 4, 5]);
        assert_eq!(questions[0].question.text, "Hello\nthere");
        assert_eq!(questions[0].question.category.as_deref(), Some("c"));
        assert_eq!(questions[0].question.tags, vec!["a", "b"]);
        assert_eq!(questions[1].question.category, None);
        assert_eq!(questions[2].question.id, "q3");
        assert_eq!(parse_ndjson(b"").unwrap(), vec![]);
        assert_eq!(parse_ndjson(b"\n\n").unwrap(), vec![]);
    }

    #[test]
    fn bad_ndjson_lines_are_all_reported_at_their_lines() {
        let body = "{\"id\":\"q1\",\"text\":\"ok\"}\n\
                    \n\
                    {\"id\":\"q2\",\"text\":\"ok\",\"catgory\":\"x\"}\n\
                    {\"id\":\"q3\"}\n\
                    {\"id\":\"q4\",\"text\":\"ok\"\n\
                    [\"q9\",\"positional\"]\n\
                    {\"id\":\"Q5\",\"text\":\"ok\"}\n\
                    {\"id\":\"q1\",\"text\":\"again\"}\n\
                    {\"id\":\"q6\",\"text\":\"ok\",\"tags\":\"not-a-list\"}\n";
        let errors = ndjson_err(body.as_bytes());
        assert_eq!(lines(&errors), vec![3, 4, 5, 6, 7, 8, 9]);
        let messages: Vec<&str> = errors.iter().map(|e| e.error.as_str()).collect();
        assert!(messages[0].starts_with("not a JSON question object: unknown field `catgory`"), "{}", messages[0]);
        assert_eq!(messages[1], "not a JSON question object: missing field `text`");
        assert!(messages[2].starts_with("not a JSON question object: EOF while parsing"), "{}", messages[2]);
        assert!(messages[2].contains("(column"), "{}", messages[2]);
        assert_eq!(messages[3], "not a JSON question object: each line must be one `{...}` object");
        assert_eq!(messages[4], r#"id: "Q5" must be 1–64 lower-case letters, digits, _ or -"#);
        assert_eq!(messages[5], "id: `q1` appears twice in this file (first on line 1)");
        assert!(!messages.iter().any(|m| m.contains("at line")), "{messages:#?}");
        assert!(messages[6].contains("expected a sequence"), "{}", messages[6]);
        assert_eq!(ndjson_err(b"\"just a string\"\n42\nnull")[2].error, "not a JSON question object: each line must be one `{...}` object");
        // An object of the wrong shape still names what it expected.
        assert_eq!(ndjson_err(b"{\"id\":7,\"text\":\"x\"}")[0].error, "not a JSON question object: invalid type: integer `7`, expected a string");
    }

    #[test]
    fn ndjson_blank_strings_are_field_errors() {
        let errors = ndjson_err(b"{\"id\":\"q1\",\"text\":\"ok\",\"category\":\"  \"}\n{\"id\":\"q2\",\"text\":\"ok\",\"tags\":[\"a\",\"\"]}");
        assert_eq!(lines(&errors), vec![1, 2]);
        assert!(errors[0].error.starts_with("category:"));
        assert!(errors[1].error.starts_with("tags:"));
    }

    #[test]
    fn line_errors_serialize_as_line_and_error() {
        let json = serde_json::to_string(&LineError::new(3, "boom")).unwrap();
        assert_eq!(json, r#"{"line":3,"error":"boom"}"#);
    }
}
