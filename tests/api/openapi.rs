//! OPERATIONS.md §2: `/api/v1/openapi.json` is valid OpenAPI 3.1, describes every `/api/v1`
//! route the server answers (and only those), and names the codes the routes answer with;
//! `/api/docs` renders it.

use std::path::Path;

use serde_json::{json, Value};

use crate::helpers::*;

/// Every `$ref` in the document, wherever it sits.
fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(target)) => found.push(target.clone()),
                    _ => references(inner, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, found)),
        _ => {}
    }
}

/// Sends `method path` with `body` and returns the status and the error code, if any. Event
/// streams answer with their headers first: the body is not read for them.
async fn probe(app: &TestApp, method: &str, path: &str, body: Option<&Value>) -> (u16, Option<String>) {
    let url = format!("{}{path}", app.base);
    let mut request = match method {
        "get" => app.http.get(url),
        "post" => app.http.post(url),
        "put" => app.http.put(url),
        "delete" => app.http.delete(url),
        other => panic!("method {other} not probed"),
    };
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if response.headers().get("content-type").is_some_and(|t| t.to_str().unwrap().starts_with("text/event-stream")) {
        return (status, None);
    }
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().map(str::to_string))
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_answers_match_it() {
    let app = spawn_app(Options::default()).await;
    let job = app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    let execution = app.executions(&job).await[0]["id"].as_i64().unwrap().to_string();

    let response = app.http.get(format!("{}/api/v1/openapi.json", app.base)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let text = response.text().await.unwrap();

    // A parser made for the format reads it, and it says 3.1.
    let spec = oas3::from_json(&text).expect("the document parses as OpenAPI");
    let version = spec.validate_version().expect("a valid version");
    assert_eq!((version.major, version.minor), (3, 1), "{}", spec.openapi);
    let doc: Value = serde_json::from_str(&text).unwrap();

    // Every reference points at something in the document.
    let mut refs = Vec::new();
    references(&doc, &mut refs);
    assert!(refs.len() > 20, "the operations name their schemas: {refs:?}");
    for target in &refs {
        let pointer = target.strip_prefix('#').unwrap_or_else(|| panic!("external reference {target}"));
        assert!(doc.pointer(pointer).is_some(), "{target} does not resolve");
    }

    // Each operation is answered by its route: with well-formed ids, an answer the document
    // lists; with a malformed or unknown id, a 400 or 404 whose code the document names.
    let operations: Vec<(String, String)> = spec.operations().map(|(path, method, _)| (path, method.as_str().to_lowercase())).collect();
    assert!(operations.len() >= 16, "{operations:?}");
    let mut probed = 0;
    for (path, method) in &operations {
        let op = &doc["paths"][path][method];
        let said = format!("{}{}", op["summary"].as_str().unwrap_or(""), op["description"].as_str().unwrap_or(""));
        assert!(!said.trim().is_empty(), "{method} {path} is described");
        let responses = op["responses"].as_object().unwrap();
        let documents = |status: u16, code: &Option<String>| {
            let Some(response) = responses.get(&status.to_string()) else { return false };
            match code {
                None => true,
                Some(code) => response["description"].as_str().unwrap_or("").contains(&format!("`{code}`")),
            }
        };
        let id = match path.split('/').nth(3) {
            Some("executions") => execution.as_str(),
            Some("questions") => "math_basic",
            Some("question-sets") => "beacon-default",
            _ => job.as_str(),
        };
        let real = path.replace("{id}", id);
        let body = (method != "get").then(|| json!({}));
        let (status, code) = probe(&app, method, &real, body.as_ref()).await;
        assert!(status != 404 && status != 405, "{method} {real} is routed: {status} {code:?}");
        assert!(documents(status, &code), "{method} {path} answered {status} {code:?}, which the document does not list");
        probed += 1;

        if path.contains("{id}") {
            for bad in ["not a valid id!", "987654321"] {
                let (status, code) = probe(&app, method, &path.replace("{id}", &bad.replace(' ', "%20")), body.as_ref()).await;
                assert!(matches!(status, 400 | 404), "{method} {path} with id {bad:?}: {status}");
                assert!(documents(status, &code), "{method} {path} with id {bad:?} answered {status} {code:?}, which the document does not list");
            }
        }
    }
    assert_eq!(probed, operations.len());
    let mut ids: Vec<&str> = operations.iter().map(|(path, method)| doc["paths"][path][method]["operationId"].as_str().unwrap()).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), before, "operation ids are unique");

    // Layers in front of every handler are documented on every operation.
    for (path, method) in &operations {
        let responses = &doc["paths"][path][method]["responses"];
        assert!(responses["401"]["description"].as_str().unwrap().contains("`unauthenticated`"), "{method} {path}");
        if method != "get" {
            assert!(responses["429"]["description"].as_str().unwrap().contains("`rate_limited`"), "{method} {path}");
        }
    }
}

/// The other direction: no `/api/v1` route reaches the router except through `routes!`, which
/// documents it. A plain `.route("/api/v1/…")` anywhere in the crate fails here.
#[test]
fn no_api_route_is_registered_undocumented() {
    fn walk(dir: &Path, offenders: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, offenders);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).unwrap();
                let squeezed: String = source.split_whitespace().collect();
                if squeezed.contains(".route(\"/api/v1") || squeezed.contains(".nest(\"/api/v1") {
                    offenders.push(path.display().to_string());
                }
            }
        }
    }
    let mut offenders = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut offenders);
    assert!(offenders.is_empty(), "register /api/v1 routes with utoipa-axum's routes!: {offenders:?}");
}

/// What people read (the document, its page, the pages) says things in place or points to the
/// README: it never cites a document that is not in the repository, and the streams' event
/// kinds listed are the ones the code sends.
#[tokio::test]
async fn user_facing_text_cites_no_missing_documents_and_lists_the_real_event_kinds() {
    let app = spawn_app(Options::default()).await;
    let (status, document) = app.get("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    let text = document.to_string();
    let (_, docs_page) = app.get_html("/api/docs").await;
    let job = app.submit(&["math_basic"], &["llama3.2-1b"], &["US"]).await;
    let mut pages = vec![text.clone(), docs_page];
    for page in ["/", "/questions", &format!("/jobs/{job}"), &format!("/jobs/{job}/compare"), &format!("/jobs/{job}/analysis")] {
        pages.push(app.get_html(page).await.1);
    }
    let cited = |page: &str| -> Vec<String> {
        let mut found = Vec::new();
        for (at, _) in page.match_indices(".md") {
            let start = page[..at].rfind(|c: char| !(c.is_ascii_uppercase() || c == '_')).map_or(0, |i| i + 1);
            let name = &page[start..at];
            if name.len() >= 2 && name != "README" {
                let from = page[..start].char_indices().rev().nth(60).map_or(0, |(i, _)| i);
                found.push(format!("{name}.md in …{}", &page[from..at + 3]));
            }
        }
        found
    };
    for page in &pages {
        assert_eq!(cited(page), Vec::<String>::new(), "cites documents outside the repository");
    }
    for stream in ["/api/v1/jobs/{id}/events", "/api/v1/jobs/events"] {
        let description = document["paths"][stream]["get"]["responses"]["200"]["description"].as_str().unwrap();
        for kind in beacon::domain::LiveEventKind::ALL {
            assert!(description.contains(&format!("`{}`", kind.as_str())), "{stream}: {description}");
        }
        assert!(!description.contains("execution_updated") && !description.contains("job_cancelled"), "{stream}: {description}");
    }
}

#[tokio::test]
async fn a_route_with_an_id_in_its_path_documents_the_id_and_its_answers() {
    let app = spawn_app(Options::default()).await;
    let (_, document) = app.get("/api/v1/openapi.json").await;
    for (path, method, malformed) in [
        ("/api/v1/jobs/{id}", "get", Some("invalid_job_id")),
        ("/api/v1/jobs/{id}/executions", "get", Some("invalid_job_id")),
        ("/api/v1/executions/{id}/retry-question", "post", Some("invalid_execution_id")),
        ("/api/v1/questions/{id}", "put", None),
    ] {
        let operation = &document["paths"][path][method];
        let parameters = operation["parameters"].as_array().unwrap();
        let id: Vec<_> = parameters.iter().filter(|p| p["name"] == "id" && p["in"] == "path").collect();
        assert_eq!(id.len(), 1, "{path}: the id once: {parameters:?}");
        let bad = operation["responses"]["400"]["description"].as_str().unwrap_or_default();
        match malformed {
            Some(code) => assert!(bad.contains(&format!("`{code}`")), "{path}: {bad}"),
            None => assert!(!bad.contains("invalid_job_id"), "{path}: {bad}"),
        }
        assert!(operation["responses"]["404"]["description"].as_str().unwrap().contains("`not_found`"), "{path}");
    }
}

#[tokio::test]
async fn the_docs_page_renders_the_whole_document_in_its_first_html() {
    // A page of the app like every other (its top bar, hydrated later), whose content needs
    // no script to be read.
    let app = spawn_app(Options::default()).await;
    let (status, html) = app.get_html("/api/docs").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"class="topbar""#), "the app's top bar");
    // Without the markers Leptos leaves between a page's pieces for hydration.
    let html = html.replace("<!>", "");
    for expected in
        ["/api/v1/jobs/{id}/retry-all-failed", "<code>max_retries_reached</code>", r#"id="schema-JobView""#, "<code class=\"method\">POST</code>"]
    {
        assert!(html.contains(expected), "{expected} is on the page");
    }
}
