//! RESEARCH.md §1–§2: researchers' own questions (one by one and by import), question sets,
//! and jobs built from a set with samples and generation parameters, as a script sees them.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::{json, Value};

use crate::helpers::*;
use crate::openai_server::{question, Chat, OpenAiServer};
use crate::test_router::TestRouter;

// ---------------------------------------------------------------------------------------------
// Small helpers

/// A refusal with this status and code whose message names `field`: as the message's subject
/// (`field: …`, also after the `body: …` of a body that does not deserialise) or as serde names
/// a missing or unknown field (`` `field` ``).
fn assert_refused(status: u16, body: &Value, want_status: u16, want_code: &str, field: &str) {
    assert_eq!(status, want_status, "expected {want_status} {want_code} naming {field:?}: {body}");
    assert_eq!(body["code"], want_code, "{body}");
    let message = body["error"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(&format!("{field}:")) || message.contains(&format!(" {field}:")) || message.contains(&format!("`{field}`")),
        "the error should name {field:?}: {message:?}"
    );
}

async fn put_json(app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    let response = app.http.put(format!("{}{path}", app.base)).json(body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn delete(app: &TestApp, path: &str) -> (u16, Value) {
    let response = app.http.delete(format!("{}{path}", app.base)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `GET /api/v1/questions` (with an optional query string), as its list of questions.
async fn catalogue(app: &TestApp, query: &str) -> Vec<Value> {
    let (status, body) = app.get(&format!("/api/v1/questions{query}")).await;
    assert_eq!(status, 200, "{body}");
    body["questions"].as_array().unwrap().clone()
}

fn ids(questions: &[Value]) -> Vec<&str> {
    questions.iter().map(|q| q["id"].as_str().unwrap()).collect()
}

async fn question_of(app: &TestApp, id: &str) -> Value {
    let (status, body) = app.get(&format!("/api/v1/questions/{id}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn import(app: &TestApp, query: &str, content_type: Option<&str>, body: &str) -> (u16, Value) {
    app.post_raw(&format!("/api/v1/questions/import{query}"), content_type, body.to_string()).await
}

const CSV: Option<&str> = Some("text/csv");
const NDJSON: Option<&str> = Some("application/x-ndjson");

/// The (line, error) pairs of an `invalid_import` answer.
fn import_errors(status: u16, body: &Value) -> Vec<(u64, String)> {
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "invalid_import", "{body}");
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{body}");
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors list: {body}"))
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["error"].as_str().unwrap().to_string()))
        .collect()
}

async fn job_count(app: &TestApp) -> usize {
    let (status, body) = app.get("/api/v1/jobs").await;
    assert_eq!(status, 200, "{body}");
    body["jobs"].as_array().unwrap().len()
}

// ---------------------------------------------------------------------------------------------
// §1 Questions one by one

#[tokio::test]
async fn every_malformed_question_is_refused_naming_its_field_and_changes_nothing() {
    let router = TestRouter::answering().await;
    let app = spawn_with_router(&router.url).await;
    let before = catalogue(&app, "").await;
    assert_eq!(before.len(), 8, "the built-in questions");

    let cases: Vec<(Value, &str)> = vec![
        (json!({"id": "Upper_Case", "text": "Fine text?"}), "id"),
        (json!({"id": "a".repeat(65), "text": "Fine text?"}), "id"),
        (json!({"id": "", "text": "Fine text?"}), "id"),
        (json!({"id": "has space", "text": "Fine text?"}), "id"),
        (json!({"text": "Fine text?"}), "id"),
        (json!({"id": "ok_id", "text": ""}), "text"),
        (json!({"id": "ok_id", "text": "x".repeat(4001)}), "text"),
        (json!({"id": "ok_id", "text": "日".repeat(4001)}), "text"),
        (json!({"id": "ok_id", "text": "   \n  "}), "text"),
        (json!({"id": "ok_id", "text": "Fine text?", "colour": "red"}), "colour"),
        (json!({"id": "ok_id"}), "text"),
        (json!({"id": "ok_id", "text": 42}), "text"),
        (json!({"id": "ok_id", "text": "Fine text?", "tags": "not-a-list"}), "tags"),
    ];
    for (body, field) in cases {
        let (status, answer) = app.post_json("/api/v1/questions", &body).await;
        assert_refused(status, &answer, 400, "invalid_request", field);
        assert_eq!(catalogue(&app, "").await, before, "refusing {body} changed the catalogue");
    }

    // 4,000 characters of several bytes each are 4,000 characters: accepted, kept exactly.
    let long = "日🙂".repeat(2000);
    assert_eq!(long.chars().count(), 4000);
    let (status, created) =
        app.post_json("/api/v1/questions", &json!({"id": "max_len-1", "text": long, "category": "unicode", "tags": ["wide"]})).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created, json!({"id": "max_len-1", "category": "unicode", "text": long, "tags": ["wide"], "in_use": false}));
    assert_eq!(question_of(&app, "max_len-1").await["text"], long.as_str());
    let after = catalogue(&app, "").await;
    assert_eq!(after.len(), 9);
    assert_eq!(ids(&after)[8], "max_len-1", "a new question goes at the end of the catalogue");

    // An existing id, built-in or new, is a conflict and leaves the stored question as it was.
    for id in ["math_basic", "max_len-1"] {
        let stored = question_of(&app, id).await;
        let (status, answer) = app.post_json("/api/v1/questions", &json!({"id": id, "text": "Something else entirely?"})).await;
        assert_eq!(status, 409, "{answer}");
        assert_eq!(answer["code"], "duplicate", "{answer}");
        assert!(answer["error"].as_str().unwrap().contains(id), "{answer}");
        assert_eq!(question_of(&app, id).await, stored);
    }
    assert_eq!(catalogue(&app, "").await, after);
}

#[tokio::test]
async fn an_unused_question_can_be_edited_and_deleted_but_one_a_job_asked_never_changes() {
    let router = TestRouter::answering().await;
    let app = spawn_with_router(&router.url).await;

    // Edit: PUT replaces text, category and tags; what is left out is cleared.
    let (status, _) =
        app.post_json("/api/v1/questions", &json!({"id": "draft", "text": "First draft?", "category": "drafts", "tags": ["t1", "t2"]})).await;
    assert_eq!(status, 201);
    let (status, edited) = put_json(&app, "/api/v1/questions/draft", &json!({"text": "Second draft?", "category": "edited", "tags": ["t3"]})).await;
    assert_eq!(status, 200, "{edited}");
    let want = json!({"id": "draft", "category": "edited", "text": "Second draft?", "tags": ["t3"], "in_use": false});
    assert_eq!(edited, want);
    assert_eq!(question_of(&app, "draft").await, want);
    let (status, edited) = put_json(&app, "/api/v1/questions/draft", &json!({"text": "Third draft?"})).await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited, json!({"id": "draft", "category": null, "text": "Third draft?", "tags": [], "in_use": false}));

    // A bad edit is refused naming the field, and changes nothing.
    let stored = question_of(&app, "draft").await;
    let (status, answer) = put_json(&app, "/api/v1/questions/draft", &json!({"text": ""})).await;
    assert_refused(status, &answer, 400, "invalid_request", "text");
    let (status, answer) = put_json(&app, "/api/v1/questions/draft", &json!({"id": "other", "text": "Fine?"})).await;
    assert_refused(status, &answer, 400, "invalid_request", "id");
    assert_eq!(question_of(&app, "draft").await, stored);
    let (status, answer) = put_json(&app, "/api/v1/questions/no_such_q", &json!({"text": "Fine?"})).await;
    assert_eq!((status, answer["code"].as_str()), (404, Some("not_found")), "{answer}");

    // Delete: gone from the catalogue and from its sets.
    let (status, _) =
        app.post_json("/api/v1/question-sets", &json!({"id": "holds-draft", "name": "Holds the draft", "questions": ["draft", "math_basic"]})).await;
    assert_eq!(status, 201);
    let (status, _) = delete(&app, "/api/v1/questions/draft").await;
    assert_eq!(status, 204);
    let (status, answer) = app.get("/api/v1/questions/draft").await;
    assert_eq!((status, answer["code"].as_str()), (404, Some("not_found")), "{answer}");
    let (status, answer) = delete(&app, "/api/v1/questions/draft").await;
    assert_eq!((status, answer["code"].as_str()), (404, Some("not_found")), "{answer}");
    assert_eq!(catalogue(&app, "").await.len(), 8);
    let (_, set) = app.get("/api/v1/question-sets/holds-draft").await;
    assert_eq!(set["questions"], json!(["math_basic"]));

    // A question a job has asked never changes again.
    let (status, _) = app.post_json("/api/v1/questions", &json!({"id": "asked", "text": "Will be asked?", "category": "c", "tags": ["x"]})).await;
    assert_eq!(status, 201);
    assert_eq!(question_of(&app, "asked").await["in_use"], false);
    app.submit(&["asked"], &["llama3.2-1b"], &["US"]).await;
    let stored = question_of(&app, "asked").await;
    assert_eq!(stored["in_use"], true, "{stored}");
    let (status, answer) = put_json(&app, "/api/v1/questions/asked", &json!({"text": "Rewritten?"})).await;
    assert_eq!((status, answer["code"].as_str()), (409, Some("question_in_use")), "{answer}");
    let (status, answer) = delete(&app, "/api/v1/questions/asked").await;
    assert_eq!((status, answer["code"].as_str()), (409, Some("question_in_use")), "{answer}");
    assert_eq!(question_of(&app, "asked").await, stored, "unchanged by the refused PUT and DELETE");

    // The built-in questions are in use only once a job has asked them.
    let list = catalogue(&app, "").await;
    let builtin: Vec<&Value> = list.iter().filter(|q| q["id"] != "asked").collect();
    assert_eq!(builtin.len(), 8);
    assert!(builtin.iter().all(|q| q["in_use"] == false), "no job has asked a built-in question yet: {list:#?}");
    let (status, edited) =
        put_json(&app, "/api/v1/questions/identity_basic", &json!({"text": "Who are you, really?", "category": "control_questions"})).await;
    assert_eq!(status, 200, "an unused built-in question may still be edited: {edited}");
    app.submit(&["math_basic"], &["mistral-7b"], &["EU"]).await;
    assert_eq!(question_of(&app, "math_basic").await["in_use"], true);
    assert_eq!(question_of(&app, "geography_basic").await["in_use"], false, "only the questions a job asked");
    let (status, answer) = put_json(&app, "/api/v1/questions/math_basic", &json!({"text": "What is 3+3?"})).await;
    assert_eq!((status, answer["code"].as_str()), (409, Some("question_in_use")), "{answer}");
    let (status, answer) = delete(&app, "/api/v1/questions/math_basic").await;
    assert_eq!((status, answer["code"].as_str()), (409, Some("question_in_use")), "{answer}");
    assert_eq!(question_of(&app, "math_basic").await["text"], "What is 2+2?");
}

// ---------------------------------------------------------------------------------------------
// §1 Imports

/// Quotes, commas, `;`-separated tags and records spanning lines; lines 5 and 8 are bad.
const BAD_CSV: &str = "id,text,category,tags
q_quoted,\"She said \"\"hello\"\", then left\",quotes,a;b
q_multi,\"First line, with a comma
and a second line\",multi,x;y
Bad_Id,An uppercase id,multi,
q_two_lines,\"Another
record over two lines\",,
q_empty,,multi,
q_last,The last question,,c
";

/// The same file with lines 5 and 8 fixed.
const GOOD_CSV: &str = "id,text,category,tags
q_quoted,\"She said \"\"hello\"\", then left\",quotes,a;b
q_multi,\"First line, with a comma
and a second line\",multi,x;y
q_fixed,A lowercase id,multi,
q_two_lines,\"Another
record over two lines\",,
q_empty_no_more,Now with text,multi,
q_last,The last question,,c
";

const GOOD_IDS: [&str; 6] = ["q_quoted", "q_multi", "q_fixed", "q_two_lines", "q_empty_no_more", "q_last"];

#[tokio::test]
async fn a_csv_import_is_all_or_nothing_with_errors_at_physical_lines() {
    let router = TestRouter::answering().await;
    let app = spawn_with_router(&router.url).await;
    let before = catalogue(&app, "").await;

    // Every bad line is reported at the line an editor shows (a record counts from its first
    // line), with LF or CRLF line ends; nothing is stored and the set is not created.
    for body in [BAD_CSV.to_string(), BAD_CSV.replace('\n', "\r\n")] {
        let (status, answer) = import(&app, "?set=csv-set", CSV, &body).await;
        let errors = import_errors(status, &answer);
        let lines: Vec<u64> = errors.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [5, 8], "{answer:#}");
        assert!(errors[0].1.starts_with("id:"), "{answer:#}");
        assert!(errors[1].1.starts_with("text:"), "{answer:#}");
        assert_eq!(catalogue(&app, "").await, before, "nothing stored");
        let (status, _) = app.get("/api/v1/question-sets/csv-set").await;
        assert_eq!(status, 404, "the set is not created either");
    }

    // The fixed file: every record stored, in file order, fields as written.
    let (status, answer) = import(&app, "", CSV, GOOD_CSV).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer, json!({"created": 6, "unchanged": 0}));
    let after = catalogue(&app, "").await;
    assert_eq!(ids(&after)[8..], GOOD_IDS);
    let quoted = question_of(&app, "q_quoted").await;
    assert_eq!(quoted, json!({"id": "q_quoted", "category": "quotes", "text": "She said \"hello\", then left", "tags": ["a", "b"], "in_use": false}));
    let multi = question_of(&app, "q_multi").await;
    assert_eq!(multi["text"], "First line, with a comma\nand a second line");
    assert_eq!(multi["tags"], json!(["x", "y"]));
    let last = question_of(&app, "q_last").await;
    assert_eq!((&last["category"], &last["tags"]), (&Value::Null, &json!(["c"])), "an empty category cell is no category");

    // The same file again: nothing new, and the identical lines still join a set.
    let (status, answer) = import(&app, "?set=csv-again", CSV, GOOD_CSV).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer, json!({"created": 0, "unchanged": 6, "set": "csv-again"}));
    assert_eq!(catalogue(&app, "").await, after);
    let (_, set) = app.get("/api/v1/question-sets/csv-again").await;
    assert_eq!(set["questions"], json!(GOOD_IDS));

    // A stored id with other text is that line's error, and the new line before it is not kept.
    let clash = "id,text\nq_brand_new,Not stored yet?\nq_quoted,Different text now\n";
    let (status, answer) = import(&app, "?set=clash-set", CSV, clash).await;
    let errors = import_errors(status, &answer);
    assert_eq!(errors.len(), 1, "{answer:#}");
    assert_eq!(errors[0].0, 3, "{answer:#}");
    assert!(errors[0].1.contains("q_quoted"), "{answer:#}");
    assert_eq!(catalogue(&app, "").await, after);
    assert_eq!(app.get("/api/v1/questions/q_brand_new").await.0, 404);
    assert_eq!(app.get("/api/v1/question-sets/clash-set").await.0, 404);
    assert_eq!(question_of(&app, "q_quoted").await, quoted);
}

#[tokio::test]
async fn an_ndjson_import_fills_a_set_in_file_order() {
    let router = TestRouter::answering().await;
    let app = spawn_with_router(&router.url).await;
    let before = catalogue(&app, "").await;

    // A bad line (an unknown key) after a blank one is reported at its own line.
    let bad = "{\"id\": \"s1_ok\", \"text\": \"Fine?\"}\n\n{\"id\": \"s1_bad\", \"txt\": \"Misspelt key\"}\n";
    let (status, answer) = import(&app, "?set=study-1", NDJSON, bad).await;
    let errors = import_errors(status, &answer);
    assert_eq!(errors.iter().map(|(line, _)| *line).collect::<Vec<_>>(), [3], "{answer:#}");
    assert_eq!(catalogue(&app, "").await, before);
    assert_eq!(app.get("/api/v1/question-sets/study-1").await.0, 404);

    let ndjson = r#"{"id": "s1_zeta", "text": "Zeta question?", "category": "study", "tags": ["t"]}
{"id": "s1_alpha", "text": "Alpha question?"}
{"id": "s1_mid", "text": "Mid question?", "category": "study"}
"#;
    let (status, answer) = import(&app, "?set=study-1", NDJSON, ndjson).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer, json!({"created": 3, "unchanged": 0, "set": "study-1"}));

    let (status, set) = app.get("/api/v1/question-sets/study-1").await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(set["id"], "study-1");
    assert_eq!(set["questions"], json!(["s1_zeta", "s1_alpha", "s1_mid"]), "file order, not alphabetical");
    let (_, sets) = app.get("/api/v1/question-sets").await;
    let listed: Vec<&str> = sets["question_sets"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(listed.contains(&"study-1") && listed.contains(&"beacon-default"), "{listed:?}");

    assert_eq!(ids(&catalogue(&app, "?set=study-1").await), ["s1_zeta", "s1_alpha", "s1_mid"]);
    assert_eq!(ids(&catalogue(&app, "?set=study-1&category=study").await), ["s1_zeta", "s1_mid"]);
    assert_eq!(ids(&catalogue(&app, "?category=study").await), ["s1_zeta", "s1_mid"]);
    let (status, answer) = app.get("/api/v1/questions?set=no-such-set").await;
    assert_eq!((status, answer["code"].as_str()), (404, Some("not_found")), "{answer}");
}

#[tokio::test]
async fn an_import_must_be_csv_or_ndjson_and_at_most_8_mib() {
    let router = TestRouter::answering().await;
    let app = spawn_with_router(&router.url).await;
    let before = catalogue(&app, "").await;

    for content_type in [Some("application/json"), Some("text/plain"), None] {
        let (status, answer) = import(&app, "", content_type, "id,text\nq_ct,Which type?\n").await;
        assert_eq!(status, 415, "{content_type:?}: {answer}");
        assert_eq!(answer["code"], "unsupported_media_type", "{answer}");
    }
    assert_eq!(catalogue(&app, "").await, before);

    // Over 8 MiB: refused whole.
    let huge = format!("id,text\nq_huge,{}\n", "x".repeat(8 * 1024 * 1024));
    let (status, answer) = import(&app, "", CSV, &huge).await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(answer["code"], "payload_too_large", "{answer}");
    assert_eq!(catalogue(&app, "").await, before);

    // Well over the API's usual body limit (64 KiB) but under 8 MiB: imported.
    let mut big = String::from("id,text\n");
    for i in 0..40 {
        big.push_str(&format!("big_{i:02},{}\n", "y".repeat(4000)));
    }
    assert!(big.len() > 150_000);
    let (status, answer) = import(&app, "", CSV, &big).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["created"], 40);
    assert_eq!(catalogue(&app, "").await.len(), 48);
}

// ---------------------------------------------------------------------------------------------
// §1 Question sets

#[tokio::test]
async fn question_sets_name_stored_questions_in_order() {
    let router = TestRouter::answering().await;
    let app = spawn_with_router(&router.url).await;

    // The built-in questions are the set `beacon-default`, in catalogue order.
    let builtin = catalogue(&app, "").await;
    let (status, default) = app.get("/api/v1/question-sets/beacon-default").await;
    assert_eq!(status, 200, "{default}");
    assert_eq!(default["questions"], json!(ids(&builtin)));
    assert_eq!(default["questions"], json!(BUILT_IN_QUESTIONS));
    assert_eq!(ids(&catalogue(&app, "?set=beacon-default").await), ids(&builtin));

    // Unknown question ids are named; nothing is created.
    let (status, answer) =
        app.post_json("/api/v1/question-sets", &json!({"id": "mine", "name": "Mine", "questions": ["math_basic", "nope_one", "nope_two"]})).await;
    assert_refused(status, &answer, 400, "invalid_request", "questions");
    let message = answer["error"].as_str().unwrap();
    assert!(message.contains("nope_one") && message.contains("nope_two") && !message.contains("math_basic"), "{message}");
    assert_eq!(app.get("/api/v1/question-sets/mine").await.0, 404);

    for (body, field) in [
        (json!({"id": "Bad Id", "name": "x", "questions": ["math_basic"]}), "id"),
        (json!({"id": "ok-set", "name": "", "questions": ["math_basic"]}), "name"),
        (json!({"id": "ok-set", "name": "x", "questions": []}), "questions"),
        (json!({"id": "ok-set", "name": "x", "questions": ["math_basic", "math_basic"]}), "questions"),
        (json!({"id": "ok-set", "name": "x"}), "questions"),
        (json!({"id": "ok-set", "name": "x", "questions": ["math_basic"], "extra": 1}), "extra"),
    ] {
        let (status, answer) = app.post_json("/api/v1/question-sets", &body).await;
        assert_refused(status, &answer, 400, "invalid_request", field);
    }
    assert_eq!(app.get("/api/v1/question-sets/ok-set").await.0, 404);

    let (status, created) =
        app.post_json("/api/v1/question-sets", &json!({"id": "mine", "name": "My study", "questions": ["taiwan_status", "math_basic"]})).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!((&created["id"], &created["name"]), (&json!("mine"), &json!("My study")));
    assert_eq!(created["questions"], json!(["taiwan_status", "math_basic"]), "the order given");
    assert_eq!(ids(&catalogue(&app, "?set=mine").await), ["taiwan_status", "math_basic"]);

    // An existing id, new or built-in, is a conflict that changes nothing.
    for id in ["mine", "beacon-default"] {
        let (_, stored) = app.get(&format!("/api/v1/question-sets/{id}")).await;
        let (status, answer) = app.post_json("/api/v1/question-sets", &json!({"id": id, "name": "Again", "questions": ["greatest_leader"]})).await;
        assert_eq!((status, answer["code"].as_str()), (409, Some("duplicate")), "{answer}");
        assert_eq!(app.get(&format!("/api/v1/question-sets/{id}")).await.1, stored);
    }
    let (_, sets) = app.get("/api/v1/question-sets").await;
    assert_eq!(sets["question_sets"].as_array().unwrap().len(), 2, "{sets}");
}

// ---------------------------------------------------------------------------------------------
// §2 Jobs with samples and parameters

/// Two regions, each with a provider serving both models from `base_url`.
fn two_by_two_config(base_url: &str) -> String {
    let mut config = String::from(
        r#"
[[regions]]
id = "us-central"
label = "United States (Iowa)"

[[regions]]
id = "eu-north"
label = "Europe (Finland)"

[[models]]
id = "llama3.1-8b"
name = "Llama 3.1 8B Instruct"

[[models]]
id = "qwen2.5-7b"
name = "Qwen 2.5 7B Instruct"
"#,
    );
    for region in ["us-central", "eu-north"] {
        config.push_str(&format!(
            r#"
[[providers]]
id = "server-{region}"
kind = "openai"
region = "{region}"
base_url = "{base_url}"
models = {{ "llama3.1-8b" = "llama3.1:8b", "qwen2.5-7b" = "qwen2.5:7b" }}
"#
        ));
    }
    config
}

#[tokio::test]
async fn a_job_from_a_set_asks_every_cell_samples_times_with_its_parameters() {
    let server = OpenAiServer::start(|body, n| Chat::Answer(format!("answer {n} to {}", question(body)))).await;
    let (app, _config) = spawn_with_config(&two_by_two_config(&server.base_url), &[]).await;

    let ndjson = r#"{"id": "dist_c", "text": "Is question C fair?"}
{"id": "dist_a", "text": "Is question A fair?"}
{"id": "dist_b", "text": "Is question B fair?"}
"#;
    let (status, answer) = import(&app, "?set=sampling", NDJSON, ndjson).await;
    assert_eq!(status, 201, "{answer}");
    let set_order = ["dist_c", "dist_a", "dist_b"];

    let (status, created) = app
        .post_json(
            "/api/v1/jobs",
            &json!({
                "question_set": "sampling", "models": ["llama3.1-8b", "qwen2.5-7b"], "regions": ["us-central", "eu-north"],
                "samples": 3, "temperature": 0.7, "max_tokens": 64, "seed": 42
            }),
        )
        .await;
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["total_executions"], 36);
    let job_id = created["id"].as_str().unwrap();

    let (status, job) = app.get(&format!("/api/v1/jobs/{job_id}")).await;
    assert_eq!(status, 200, "{job}");
    assert_eq!(job["question_set"], "sampling");
    assert_eq!(job["questions"], json!(set_order), "the set's order");
    assert_eq!(job["samples"], 3);
    assert_eq!(job["temperature"], 0.7);
    assert_eq!(job["max_tokens"], 64);
    assert_eq!(job["seed"], 42);
    assert_eq!(job["total_executions"], 36);

    // 3 questions × 2 models × 2 regions × 3 samples, each once, sample_index 0..=2 per cell.
    let rows = app.wait_all_finished(job_id).await;
    assert_eq!(rows.len(), 36);
    let mut identities = HashSet::new();
    let mut samples_per_cell: HashMap<(String, String, String), BTreeSet<i64>> = HashMap::new();
    for row in &rows {
        assert_eq!(status_of(row), "completed", "{row}");
        let question_id = row["question_id"].as_str().unwrap().to_string();
        let cell = (question_id.clone(), row["model_id"].as_str().unwrap().to_string(), row["region"].as_str().unwrap().to_string());
        let sample = row["sample_index"].as_i64().unwrap();
        assert!(identities.insert((cell.clone(), sample)), "two executions for {cell:?} sample {sample}");
        samples_per_cell.entry(cell).or_default().insert(sample);
        assert_eq!(row["question_index"], set_order.iter().position(|q| *q == question_id).unwrap() as i64, "{row}");
        let sent = &row["retry_history"][0]["request"];
        assert_eq!((&sent["temperature"], &sent["max_tokens"], &sent["seed"]), (&json!(0.7), &json!(64), &json!(42)), "{row}");
    }
    assert_eq!(samples_per_cell.len(), 12);
    for (cell, samples) in &samples_per_cell {
        assert_eq!(samples, &BTreeSet::from([0, 1, 2]), "{cell:?}");
    }

    // What reached the provider: one request per execution, all with the job's parameters.
    let received = server.received();
    assert_eq!(received.len(), 36);
    let mut per_prompt: HashMap<String, usize> = HashMap::new();
    for request in &received {
        assert_eq!(request.json["temperature"], 0.7, "{}", request.json);
        assert_eq!(request.json["max_tokens"], 64, "{}", request.json);
        assert_eq!(request.json["seed"], 42, "{}", request.json);
        *per_prompt.entry(format!("{} {}", request.json["model"], request.json["messages"])).or_default() += 1;
    }
    assert_eq!(per_prompt.len(), 12, "one distinct request per cell: {per_prompt:#?}");
    assert!(per_prompt.values().all(|n| *n == 3), "each cell asked samples times: {per_prompt:#?}");
}

#[tokio::test]
async fn out_of_range_job_parameters_are_refused_and_create_nothing() {
    let router = TestRouter::answering().await;
    let app = spawn_with_router(&router.url).await;
    let with = |field: &str, value: Value| {
        let mut body = json!({"questions": ["math_basic"], "models": ["llama3.2-1b"], "regions": ["US"]});
        body[field] = value;
        body
    };
    let cases = [
        ("samples", json!(0)),
        ("samples", json!(21)),
        ("temperature", json!(2.5)),
        ("temperature", json!(-0.1)),
        ("max_tokens", json!(0)),
        ("max_tokens", json!(8193)),
        ("question_set", json!("no-such-set")),
    ];
    for (field, value) in cases {
        let (status, answer) = app.post_json("/api/v1/jobs", &with(field, value.clone())).await;
        assert_refused(status, &answer, 400, "invalid_request", field);
        assert_eq!(job_count(&app).await, 0, "{field} = {value} created a job");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM executions").await, 0);
    assert!(catalogue(&app, "").await.iter().all(|q| q["in_use"] == false), "a refused job marks nothing in use");

    // The bounds themselves are accepted.
    let (status, created) = app
        .post_json(
            "/api/v1/jobs",
            &json!({"questions": ["math_basic"], "models": ["llama3.2-1b"], "regions": ["US"], "samples": 20, "temperature": 2, "max_tokens": 8192}),
        )
        .await;
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["total_executions"], 20);
    let (status, created) = app
        .post_json(
            "/api/v1/jobs",
            &json!({"questions": ["geography_basic"], "models": ["llama3.2-1b"], "regions": ["EU"], "temperature": 0, "max_tokens": 1}),
        )
        .await;
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["total_executions"], 1);

    // The hybrid router's protocol has no seed, but temperature and max_tokens reach it.
    let id = created["id"].as_str().unwrap();
    app.wait_all_finished(id).await;
    let sent: Vec<_> = router.received_requests().into_iter().filter(|r| r.prompt.contains("capital of France")).collect();
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].temperature, sent[0].max_tokens), (0.0, 1));
}

#[tokio::test]
async fn a_job_larger_than_the_configured_maximum_is_refused() {
    let router = TestRouter::answering().await;
    let app = spawn_app(Options {
        router_url: Some(router.url.clone()),
        env: vec![("BEACON_MAX_EXECUTIONS_PER_JOB", "10".to_string())],
        ..Options::default()
    })
    .await;

    // 3 questions × 2 models × 2 regions = 12; 1 × 1 × 1 × 11 samples = 11.
    let too_large = [
        json!({"questions": ["math_basic", "geography_basic", "identity_basic"], "models": ["llama3.2-1b", "mistral-7b"], "regions": ["US", "EU"]}),
        json!({"questions": ["math_basic"], "models": ["llama3.2-1b"], "regions": ["US"], "samples": 11}),
    ];
    for body in &too_large {
        let (status, answer) = app.post_json("/api/v1/jobs", body).await;
        assert_eq!((status, answer["code"].as_str()), (400, Some("job_too_large")), "{body}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains("10"), "the message gives the limit: {answer}");
        assert_eq!(job_count(&app).await, 0);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM executions").await, 0);
    assert_eq!(question_of(&app, "math_basic").await["in_use"], false);

    // Exactly the maximum is allowed: 5 questions × 2 models × 1 region.
    let five = ["math_basic", "geography_basic", "identity_basic", "taiwan_status", "greatest_leader"];
    let (status, created) =
        app.post_json("/api/v1/jobs", &json!({"questions": five, "models": ["llama3.2-1b", "mistral-7b"], "regions": ["US"]})).await;
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["total_executions"], 10);
    assert_eq!(job_count(&app).await, 1);
}

// ---------------------------------------------------------------------------------------------
// §1 "A question used by any job never changes", with the edit and the job at the same moment

/// A job submitted at the same moment as a PUT or DELETE of its only question: whichever comes
/// first, a script must see one consistent order. Either the edit won (the job asks the new
/// text, or is refused because the question is gone), or the job won (the edit is 409
/// `question_in_use`). Never a 5xx, and never an in-use question whose text is not what its job asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_and_an_edit_of_its_question_at_the_same_moment_agree() {
    let router = TestRouter::answering().await;
    let app = spawn_app(Options {
        router_url: Some(router.url.clone()),
        // Many writes in a short time: the rate limit is not what is tested here.
        env: vec![("BEACON_MUTATION_RATE", "off".to_string())],
        ..Options::default()
    })
    .await;

    let mut problems = Vec::new();
    let mut jobs = Vec::new();
    for round in 0..40 {
        let id = format!("raced_{round}");
        let (status, body) = app.post_json("/api/v1/questions", &json!({"id": id, "text": "Original?"})).await;
        assert_eq!(status, 201, "{body}");
        let deleting = round % 2 == 0;
        let job_body = json!({"questions": [id], "models": ["llama3.2-1b"], "regions": ["US"]});
        let submit = async {
            match app.http.post(format!("{}/api/v1/jobs", app.base)).json(&job_body).send().await {
                Ok(response) => (response.status().as_u16(), response.json::<Value>().await.unwrap_or(Value::Null)),
                Err(err) => (0, json!(format!("connection dropped: {err}"))),
            }
        };
        let path = format!("/api/v1/questions/{id}");
        let edit = async {
            if deleting {
                delete(&app, &path).await
            } else {
                put_json(&app, &path, &json!({"text": "Changed?"})).await
            }
        };
        let ((job_status, job), (edit_status, edit_answer)) = tokio::join!(submit, edit);
        let what = format!("round {round} ({}): job {job_status} {job}, edit {edit_status} {edit_answer}", if deleting { "DELETE" } else { "PUT" });
        match (deleting, job_status, edit_status) {
            (true, 202, 409) | (false, 202, 409) | (false, 202, 200) => jobs.push((id, job["id"].as_str().unwrap().to_string(), what)),
            (true, 400, 204) if job["error"].as_str().unwrap_or_default().starts_with("questions:") => {}
            _ => problems.push(what),
        }
    }

    // Each job that was created asked exactly the text its question now has, which never changes.
    for (question_id, job_id, what) in jobs {
        let rows = app.wait_all_finished(&job_id).await;
        let asked = rows[0]["retry_history"][0]["request"]["prompt"].as_str().unwrap_or_default().to_string();
        let stored = question_of(&app, &question_id).await;
        let text = stored["text"].as_str().unwrap();
        if stored["in_use"] != true || !asked.ends_with(&format!("User: {text}\nAssistant:")) {
            problems.push(format!("{what}: the job asked {asked:?}, the in-use question now reads {stored}"));
        }
    }
    assert!(problems.is_empty(), "{} of 40 rounds disagree:\n{}", problems.len(), problems.join("\n"));
}

/// Bytes PostgreSQL cannot store, and names the routes reserve, are refused as the caller's
/// mistake on both databases (they once reached PostgreSQL and answered 500).
#[tokio::test]
async fn nul_characters_and_reserved_ids_are_client_errors() {
    let app = spawn_app(Options::default()).await;
    for (body, field) in [
        (json!({"id": "nul_text", "text": "a\u{0}b"}), "text"),
        (json!({"id": "nul_cat", "text": "ok?", "category": "x\u{0}"}), "category"),
        (json!({"id": "nul_tag", "text": "ok?", "tags": ["\u{0}"]}), "tags"),
        (json!({"id": "import", "text": "ok?"}), "id"),
    ] {
        let (status, answer) = app.post_json("/api/v1/questions", &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer["error"].as_str().unwrap().starts_with(field), "{answer}");
    }
    // A control character in the path is refused before routing (SAFETY.md §7); in a query
    // value it names nothing.
    for path in ["/api/v1/questions/a%00b", "/api/v1/question-sets/a%00b"] {
        let (status, answer) = app.get(path).await;
        assert_eq!((status, answer["code"].as_str()), (400, Some("invalid_path")), "{path}");
    }
    assert_eq!(app.get("/api/v1/questions?set=a%00b").await.0, 404);
    assert_eq!(app.get("/api/v1/questions?category=a%00b").await.0, 400);
    let (status, _) = app.post_json("/api/v1/question-sets", &json!({"id": "s", "name": "a\u{0}", "questions": ["math_basic"]})).await;
    assert_eq!(status, 400);
    let (status, answer) = app.post_json("/api/v1/question-sets", &json!({"id": "s", "name": "S", "questions": ["a\u{0}b"]})).await;
    assert_eq!((status, answer["error"].as_str().unwrap().starts_with("questions")), (400, true), "{answer}");
    for body in [
        json!({"questions": ["a\u{0}b"], "models": ["llama3.2-1b"], "regions": ["US"]}),
        json!({"question_set": "a\u{0}b", "models": ["llama3.2-1b"], "regions": ["US"]}),
    ] {
        let (status, answer) = app.post_json("/api/v1/jobs", &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
    }
    let job = app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    let (status, answer) = app.get(&format!("/api/v1/jobs/{job}/compare?page=99999999999999999999")).await;
    assert_eq!((status, answer["code"].as_str()), (400, Some("invalid_request")));
}
